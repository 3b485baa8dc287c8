"""libindiclient's way of naming an INDI server's Unix socket: the host ``localhost:PATH``.

indilib's client library (``BaseClient::setServer``, 1.9.9's ``BaseClientPrivate::establish``)
takes a host name that starts with ``localhost:`` as the path of a Unix socket, whatever the
port; an empty path is indiserver's default, ``/tmp/indiserver``. On Linux the name is
*abstract* (no file; the kernel's ``@/tmp/indiserver``, which indiserver 1.9.9 and our server's
``-u`` listen on), elsewhere a filesystem path. The same host names mean the same sockets here,
so a program written for pyindi-client or indilib reaches the same server.

Checked with ``strace`` against Debian's libindiclient 1.9.9 (the BaseClient probe of
``tests/interop``): ``localhost:`` connects to ``@/tmp/indiserver``, ``localhost:/tmp/x`` to
``@/tmp/x`` with the same address length (no trailing NULs), and plain ``localhost`` uses TCP;
this client makes the same calls.
"""

from __future__ import annotations

import sys

__all__ = ["ABSTRACT", "DEFAULT_PATH", "PREFIX", "server_label", "shown", "unix_address",
           "unix_path"]

#: The prefix that makes a host name a Unix socket's path.
PREFIX = "localhost:"
#: indiserver's default socket (``INDIUNIXSOCK``), for ``localhost:`` with no path.
DEFAULT_PATH = "/tmp/indiserver"
#: Abstract names on Linux, as libindiclient and indiserver use there.
ABSTRACT = sys.platform.startswith("linux")


def unix_path(host: str) -> str | None:
    """The socket path `host` names (``localhost:PATH``), or None for a TCP host."""
    if not host.startswith(PREFIX):
        return None
    return host[len(PREFIX):] or DEFAULT_PATH


def unix_address(path: str) -> str:
    """The address to connect to for `path`: abstract on Linux (a leading NUL), as
    libindiclient's."""
    return "\0" + path if ABSTRACT else path


def shown(path: str) -> str:
    """`path` as indilib's tools write it in logs: an abstract name with a leading ``@``."""
    return "@" + path if ABSTRACT else path


def server_label(host: str, port: int) -> str:
    """How logs and status lines name the server: ``host:port``, or the Unix socket's path
    (``@/tmp/indiserver``) for ``localhost:PATH``, whose port is unused."""
    path = unix_path(host)
    return f"{host}:{port}" if path is None else shown(path)
