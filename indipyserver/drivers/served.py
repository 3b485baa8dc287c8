"""`ServedDriver`: what an in-process driver that is also a client of its server (an agent)
offers, so the server tells it where it listens, with no code of the user's.

`IPyServer` checks each in-process driver it holds with ``isinstance(driver, ServedDriver)``
once its listeners are open and calls `server_listening` with an address a local client
reaches: the bound port (so port 0 works), ``127.0.0.1``/``::1`` for a wildcard host.
"""

from __future__ import annotations

from typing import Protocol
from typing import runtime_checkable

__all__ = ["AGENT_SERVER_ENV", "ServedDriver", "address_text", "reachable_host"]


@runtime_checkable
class ServedDriver(Protocol):
    """An in-process driver that connects to its own server as a client."""

    def server_listening(self, host: str, port: int) -> None:
        """The server listens on `host`:`port` (called once each time it starts serving)."""
        ...


#: The server's address handed to every executable driver it starts (``host:port``), the
#: variable an agent's link reads (``indipyagents.link``): where it is set for the driver
#: (its env=) or in the server's own environment, that value is kept.
AGENT_SERVER_ENV = "INDIPY_AGENT_SERVER"


def address_text(host: str, port: int) -> str:
    """``host:port`` as `AGENT_SERVER_ENV` holds it (an IPv6 host in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def reachable_host(host: str) -> str:
    """The address a client on this machine uses for a server bound to `host`."""
    if host in ("", "0.0.0.0"):  # a bind address read, not chosen
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host
