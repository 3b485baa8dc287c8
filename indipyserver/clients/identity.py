"""Who a client is, from its socket alone: the identities of the plain listeners.

A client on the plain TCP port is `ANONYMOUS` (INDI has no login); one on the Unix socket is
``unix:USER``, the user the kernel says runs the process at the other end (SO_PEERCRED, Linux),
or ``unix:UID`` for a user id without a name. A chained server that connects in is a client
like any other. A TLS client's identity (its certificate's CN) is set by the TLS listener.
"""

from __future__ import annotations

import pwd
import socket
import struct
from typing import Any

__all__ = ["ANONYMOUS", "peer_and_identity", "peer_pid", "unix_identity"]

ANONYMOUS = "anonymous"
_CREDS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_pid(sock: Any) -> int | None:
    """The process id at the other end of the Unix socket `sock` (SO_PEERCRED, Linux); None
    where the kernel does not say."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    try:
        pid, _uid, _gid = _CREDS.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _CREDS.size))
    except (OSError, struct.error):
        return None
    return pid if pid > 0 else None


def unix_identity(sock: Any) -> str:
    """``unix:USER`` of the process at the other end of the Unix socket `sock`;
    ``unix:unknown`` where the kernel does not say (no SO_PEERCRED)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return "unix:unknown"
    try:
        _pid, uid, _gid = _CREDS.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _CREDS.size))
    except (OSError, struct.error):
        return "unix:unknown"
    try:
        return "unix:" + pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"unix:{uid}"


def peer_and_identity(sock: Any, peername: Any, sockname: Any) -> tuple[str, str]:
    """(peer, identity) of an accepted plain client: ("host:port", "anonymous") over TCP,
    (the socket's path, "unix:USER") on the Unix socket."""
    if isinstance(peername, tuple) and len(peername) >= 2:
        return f"{peername[0]}:{peername[1]}", ANONYMOUS
    if sock is not None and sock.family == getattr(socket, "AF_UNIX", None):
        path = sockname.decode(errors="replace") if isinstance(sockname, bytes) else sockname
        if not path:
            path = "unix socket"
        elif path.startswith("\0"):  # abstract (Linux): written as indilib's tools write it
            path = "@" + path[1:]
        return path, unix_identity(sock)
    return str(peername), ANONYMOUS
