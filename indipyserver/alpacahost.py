"""The server's one door to the ``[alpaca]`` extra's consuming side: `alpaca_connection`.

Imported only when an ``alpaca://`` driver is added (`IPyServer.add_alpaca`, the command
line), so the server stays standard-library only without it; a missing extra is an
ImportError that says what to install.
"""

from __future__ import annotations

from collections.abc import Sequence

from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.inprocess import InProcessDriverConnection

__all__ = ["alpaca_connection"]

EXTRA_HINT = ('Alpaca devices need the optional extra: pip install "indipy-toolkit[alpaca]" '
              "(httpx)")


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
        import httpx  # noqa: F401  # the extra's one dependency, checked before anything runs

        from indipyalpaca.devices.driver import AlpacaPeer
    except ImportError as exc:
        raise ImportError(f"{EXTRA_HINT}: {exc}") from exc
    return InProcessDriverConnection(AlpacaPeer(spec), label=str(spec))
