"""What the toolkit's programs share on the command line: one log format and one version.

The server, the simulators and driver programs run through ``indipyserver.standalone``, the
web client, the redis/MQTT bridges and the examples each configured logging their own way
(three formats for one toolkit: issue 58). They all call `configure_logging` now, so every
line reads ``TIME LEVEL LOGGER: MESSAGE``; ``--version`` prints `toolkit_version`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TextIO

__all__ = ["LOG_FORMAT", "ToolkitVersion", "configure_logging", "install_hint", "toolkit_version"]

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
    """The installed toolkit's version; "unknown (not installed)" in a bare source tree.
    importlib.metadata is imported here, not at the top: it costs every program that starts
    (a server, each driver) about 15 ms, and only ``--version`` and a few logs ask."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


class ToolkitVersion(argparse.Action):
    """``--version``: prints ``PROG VERSION`` and exits, looking the version up only when asked
    (argparse's own ``version`` action wants the string when the parser is built, at every
    start of every program)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 help: str = "show the program's version number and exit") -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        sys.stdout.write(f"{parser.prog} {toolkit_version()}\n")  # stdout, as argparse's own
        parser.exit()
