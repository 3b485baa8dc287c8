"""What the toolkit's programs share on the command line: one log format and one version.

The server, the simulators and driver programs run through ``indipyserver.standalone``, the
web client, the redis/MQTT bridges and the examples each configured logging their own way
(three formats for one toolkit: issue 58). They all call `configure_logging` now, so every
line reads ``TIME LEVEL LOGGER: MESSAGE``; ``--version`` prints `toolkit_version`.
"""

from __future__ import annotations

import logging
import sys
from importlib import metadata
from typing import TextIO

__all__ = ["LOG_FORMAT", "configure_logging", "install_hint", "toolkit_version"]

#: The one format of the toolkit's log lines (what ``indipyserver`` has always written).
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: The distribution the toolkit is installed as.
DISTRIBUTION = "indipy-toolkit"


def install_hint(extra: str) -> str:
    """How to install the optional `extra`, said the one way that works: the toolkit is on no
    package index, so installing it by its name fails; from the clone (or a wheel
    built from it) it installs."""
    return (f'pip install ".[{extra}]" in the toolkit\'s clone, or '
            f'pip install "indipy_toolkit-VERSION-py3-none-any.whl[{extra}]" from a wheel')


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """`logging.basicConfig` with `LOG_FORMAT`, on stderr unless `stream` is given (stdout may
    carry INDI, as a driver's does); does nothing when the root logger has handlers already,
    as basicConfig."""
    logging.basicConfig(level=level, format=LOG_FORMAT,
                        stream=stream if stream is not None else sys.stderr)


def toolkit_version() -> str:
    """The installed toolkit's version; "unknown (not installed)" in a bare source tree."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"
