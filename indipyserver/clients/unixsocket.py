"""The Unix socket local clients may connect to besides TCP (indiserver's ``-u``).

indiserver 1.9.9 listens on ``@/tmp/indiserver`` by default, an *abstract* socket on Linux (no
file; the name lives in the kernel and goes with the process), a filesystem path elsewhere;
indiwebmanager starts it with ``-u /tmp/indiFIFO_sock``. libindiclient reaches it with the
host name ``localhost:PATH`` (``SocketAddress::afUnix``). This server listens there only when
asked (``-u``, `IPyServer.listen_unix(...)`): taking ``@/tmp/indiserver`` by default would make
a later indiserver on the same machine fail to bind and exit.

Clients on it are served as TCP clients, but for the BLOBs a driver attaches as memfds (an
indilib C driver, an ``IPyDriver`` on a Unix-socket stdout, or one in-process, which attaches
while such a client wants its BLOBs): as indiserver, the server passes those on as they are, the element with its memfd
beside it (``ClientConnection.send_attached``: the writer's ``sendmsg`` with SCM_RIGHTS), so
nothing is encoded for such a client; libindiclient maps it (``IPyServer(unix_attached=False)``:
base64, as over TCP).
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import sys
from collections.abc import Callable

__all__ = ["ABSTRACT", "listen_unix", "shown", "unix_address"]

#: Abstract names (Linux): what indiserver and libindiclient use there.
ABSTRACT = sys.platform.startswith("linux")


def unix_address(path: str) -> str:
    """The address to bind for `path`: abstract on Linux (as indiserver and libindiclient)."""
    if not path:
        raise ValueError("the Unix socket path is empty")
    return "\0" + path if ABSTRACT else path


async def listen_unix(
    loop: asyncio.AbstractEventLoop, factory: Callable[[], asyncio.Protocol], path: str
) -> asyncio.Server:
    """Listen on `path`; an address already taken raises OSError saying so.

    A filesystem socket left behind by a server that is gone is replaced (a live one is not:
    connecting to it first tells the two apart).
    """
    address = unix_address(path)
    if not address.startswith("\0"):
        _remove_stale(path)
    # Bound here, not by asyncio: given a path, asyncio removes any socket file there first,
    # a live server's included.
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise OSError(f"cannot listen on Unix socket {shown(path)}: {why} "
                      "(another INDI server uses it? give another with -u)") from exc
    try:
        return await loop.create_unix_server(factory, sock=sock)
    except BaseException:
        sock.close()
        raise


def shown(path: str) -> str:
    """`path` as indilib's tools write it: an abstract name with a leading ``@``."""
    return "@" + path if unix_address(path).startswith("\0") else path


def _remove_stale(path: str) -> None:
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return  # not ours to remove: binding fails and says so
    except FileNotFoundError:
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        os.unlink(path)  # nobody listens: left behind
    except OSError:
        pass
    finally:
        probe.close()
