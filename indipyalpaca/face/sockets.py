"""The face's two sockets, bound before anything serves: a port in use is an error at the
server's start, not a crash later; and a face run in a process of its own (``process``) gets
them from the server already bound, so its port never changes across its restarts.

Standard library only: the server binds them without importing Starlette or uvicorn.
"""

from __future__ import annotations

import socket

from .discovery import bind_discovery


def bind_http(host: str, port: int) -> socket.socket:
    """The listening TCP socket of the Alpaca API (port 0: the system picks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio switches Nagle off (TCP_NODELAY) only on sockets whose
    # proto says TCP, and with Nagle on, a reply written as head then body waits for the
    # client's delayed ACK: 40 ms per request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(100)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def bind_face(host: str, port: int, discovery_port: int
              ) -> tuple[socket.socket, socket.socket | None]:
    """The HTTP socket and, unless `discovery_port` is 0, the discovery socket; OSError (and
    nothing left open) if either is taken."""
    http = bind_http(host, port)
    try:
        udp = bind_discovery(discovery_port) if discovery_port else None
    except OSError:
        http.close()
        raise
    return http, udp
