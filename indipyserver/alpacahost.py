"""The server's one door to Alpaca serving: `IPyServer(alpaca=PORT)` hosts the face here.

The server stays standard library only: `indipyalpaca.face` (Starlette, uvicorn) is imported
only when `alpaca=` is given, and a missing extra is said plainly when the server is made,
before anything starts.
"""

from __future__ import annotations

import importlib.util
from typing import Any

#: What `[alpaca]` installs that the face needs (pyproject.toml).
ALPACA_MODULES = ("starlette", "uvicorn")


class AlpacaExtraMissing(ValueError):
    """`alpaca=` without the optional extra installed (a ValueError: the command reports it
    in one line, as a bad option)."""


def check_alpaca_extra() -> None:
    """Raise `AlpacaExtraMissing`, naming what to install, unless the face can be imported."""
    missing = [m for m in ALPACA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise AlpacaExtraMissing(
            f"serving Alpaca (alpaca=/--alpaca) needs the optional extra: pip install "
            f"'indipy-toolkit[alpaca]' ({', '.join(missing)} not installed)")


def make_face(indi_host: str, indi_port: int, host: str, port: int, discovery_port: int,
              registry: Any, version: str) -> Any:
    """The face, an INDI client of this server: imported here, at the first use."""
    check_alpaca_extra()
    from indipyalpaca.face.hosting import AlpacaFace

    return AlpacaFace(indi_host, indi_port, host=host, port=port,
                      discovery_port=discovery_port, registry=registry, version=version)
