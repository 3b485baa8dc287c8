"""The server's one door to ASCOM Alpaca, both ways: the face (`make_face`, for
``IPyServer.serve_alpaca`` / ``--alpaca``) and Alpaca devices (`alpaca_connection`, for
``IPyServer.add_alpaca`` / ``alpaca://``).

The server stays standard library only: `indipyalpaca.face` (Starlette, uvicorn, numpy) and
`indipyalpaca.devices` (httpx) are imported only when asked for, and a missing extra is said
plainly, naming what to install, before anything starts.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from indipycore.commandline import install_hint
from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.inprocess import InProcessDriverConnection

__all__ = ["AlpacaExtraMissing", "alpaca_connection", "check_alpaca_extra", "make_face"]

#: What `[alpaca]` installs that the face needs (pyproject.toml).
ALPACA_MODULES = ("starlette", "uvicorn", "numpy")

EXTRA_HINT = f"Alpaca devices need the optional extra [alpaca] (httpx): {install_hint('alpaca')}"


class AlpacaExtraMissing(ValueError):
    """`serve_alpaca` without the optional extra installed (a ValueError: the command reports it
    in one line, as a bad option)."""


def check_alpaca_extra() -> None:
    """Raise `AlpacaExtraMissing`, naming what to install, unless the face can be imported."""
    missing = [m for m in ALPACA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise AlpacaExtraMissing(
            f"serving Alpaca (serve_alpaca/--alpaca) needs the optional extra [alpaca] "
            f"({', '.join(missing)} not installed): {install_hint('alpaca')}")


def make_face(indi_host: str, indi_port: int, host: str, port: int, discovery_port: int,
              registry: Any, version: str, *, process: bool = False) -> Any:
    """The face, an INDI client of this server: imported here, at the first use. In this
    event loop, or with `process` in a process of its own (``face.process``: nothing of
    Starlette or uvicorn is imported here then)."""
    check_alpaca_extra()
    face: Any
    if process:
        from indipyalpaca.face.process import FaceProcess as face
    else:
        from indipyalpaca.face.hosting import AlpacaFace as face

    return face(indi_host, indi_port, host=host, port=port, discovery_port=discovery_port,
                registry=registry, version=version)


def alpaca_connection(url: str, devices: Sequence[str] | None = None) -> DriverConnection:
    """The in-process connection serving the Alpaca server at `url` (``alpaca://HOST:PORT``,
    optionally ``/camera/0,focuser/0``, or those in `devices`)."""
    from indipyalpaca.devices.spec import parse_alpaca_url

    if devices:
        if url.rstrip("/").count("/") > 2:
            raise ValueError(f"{url!r}: name the devices in the address or in devices=, "
                             "not both")
        url = url.rstrip("/") + "/" + ",".join(devices)
    spec = parse_alpaca_url(url)
    try:
        import httpx  # noqa: F401  # the extra's one dependency here, checked before anything runs

        from indipyalpaca.devices.driver import AlpacaPeer
    except ImportError as exc:
        raise ImportError(f"{EXTRA_HINT}: {exc}") from exc
    return InProcessDriverConnection(AlpacaPeer(spec), label=str(spec))
