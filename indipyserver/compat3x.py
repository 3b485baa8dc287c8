"""The names indipyserver 0.0.6 scripts use that `IPyServer` has under other names.

A thin layer over the server's own connections (`IPyServer` takes `Server3x` as a base class).
What still differs from 0.0.6, and why, is in ``docs/migrating.rst``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from indipydriver import IPyDriver
    from indipyserver.drivers.driverconnection import DriverConnection

__all__ = ["Done", "Server3x"]


class Done:
    """What `IPyServer.send_message` returns: the message is already queued, and awaiting this
    (``await server.send_message(...)``, as 0.0.6 scripts do) returns at once."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that finishes at once


class Server3x:
    """0.0.6 names of `IPyServer`: `drivers`, `exdrivers`, `remotes` and `stop`."""

    _stop: asyncio.Event

    if TYPE_CHECKING:
        @property
        def connections(self) -> list[DriverConnection]: ...

    @property
    def drivers(self) -> list[IPyDriver]:
        """The in-process drivers served."""
        from indipydriver.driver import IPyDriver as Driver
        from indipyserver.drivers.inprocess import InProcessDriverConnection

        return [conn.driver for conn in self.connections
                if isinstance(conn, InProcessDriverConnection)
                and isinstance(conn.driver, Driver)]  # not a bridge's in-process remote

    @property
    def devices(self) -> dict[str, Any]:
        """The in-process drivers' devices by name (0.0.6's ``server.devices``)."""
        return {name: device for driver in self.drivers for name, device in driver.items()}

    @property
    def exdrivers(self) -> list[DriverConnection]:
        """The executable drivers (`add_exdriver`), as their connections."""
        from indipyserver.drivers.executable import ExDriverConnection

        return [conn for conn in self.connections if isinstance(conn, ExDriverConnection)]

    @property
    def remotes(self) -> list[DriverConnection]:
        """The remote servers (`add_remote`), as their connections."""
        from indipyserver.drivers.remote import RemoteConnection

        return [conn for conn in self.connections if isinstance(conn, RemoteConnection)]

    @property
    def stop(self) -> bool:
        """True once `shutdown()` is called (or a signal stops the server)."""
        return self._stop.is_set()
