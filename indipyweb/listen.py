"""The web port bound before anything starts, and its address told once it listens.

uvicorn binds its port only after the app has started, and when another program holds the port
it logs the error and exits: a command that had already printed "open http://HOST:PORT/" sent
its user to that other program. So the commands (``indipyweb``, ``python -m indiredis``) bind
the port themselves first, with the address rules asyncio's ``create_server`` uses (every
address the host name resolves to, ``SO_REUSEADDR`` on POSIX, IPv6 sockets IPv6 only): a port
that cannot be had is a `WebPortError` that says why, before a demo server, a bridge or the
database is touched. uvicorn is handed the bound sockets, and `serve` calls back once it
serves them (the app started), which is when the address is printed.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

__all__ = ["WebPortError", "bind_web_port", "serve", "web_url"]


class WebPortError(OSError):
    """The web port cannot be listened on; the message says which and why, for the user."""


def _why(exc: OSError, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use by another program (choose another with --port)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"not allowed to listen on port {port} (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "that address is not one of this machine's"
    return exc.strerror or str(exc)


def bind_web_port(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to every address of `host` at `port` and listening (a browser that comes
    early waits in the backlog until the pages answer); port 0 takes one free port, the same
    on every address. Raises `WebPortError` when any cannot be bound."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise WebPortError(f"cannot listen on {host}:{port}: unknown host ({exc.strerror})"
                           ) from None
    sockets: list[socket.socket] = []
    seen: set[tuple[int, Any]] = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            try:
                sock = socket.socket(family, kind, proto)
            except OSError:  # a family this machine lacks (IPv6 turned off), as asyncio skips it
                continue
            sockets.append(sock)
            if os.name == "posix":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:  # the port the first address was given
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
        for sock in sockets:  # held from now on: no other program binds it meanwhile
            sock.listen()
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise WebPortError(f"cannot listen on {host}:{port}: {_why(exc, port)}") from None
    if not sockets:
        raise WebPortError(f"cannot listen on {host}:{port}: no address of it can be used here")
    return sockets


def web_url(scheme: str, host: str, sockets: list[socket.socket], base: str = "") -> str:
    """The address to open: `host` as given, the port the sockets were bound to."""
    port = sockets[0].getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}{base}/"


class _Server(uvicorn.Server):
    """uvicorn's server, calling back once it listens (after the app's start-up)."""

    def __init__(self, config: uvicorn.Config, listening: Callable[[], None]) -> None:
        super().__init__(config)
        self._listening = listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._listening()


async def serve(config: uvicorn.Config, sockets: list[socket.socket],
                listening: Callable[[], None]) -> None:
    """Serve `config`'s app on `sockets` (from `bind_web_port`) until stopped; `listening` is
    called once they accept connections."""
    await _Server(config, listening).serve(sockets=sockets)
