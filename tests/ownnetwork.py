"""Every pytest process of the suite (each pytest-xdist worker) in a network namespace of its
own, so what one worker's tests send by multicast never reaches another's.

The discovery tests announce and browse by multicast DNS on the loopback interface, and every
server a test starts announces itself there too. On one shared ``lo`` each worker's tests
heard the other workers' servers come and go: a name avahi already held was not seen as a
conflict, a service was listed again after its goodbye, a listing came back empty (issue 90
item 2, four different discovery tests failing in three runs). In a namespace of its own a
worker's ``lo`` is its alone; multicast on it (which the avahi fixture turns on) is its alone.

`enter` puts the calling thread (pytest's main thread, which runs the tests and starts every
peer: a network namespace is a thread's, and children and threads made later inherit it) in a
fresh namespace with ``lo`` up and one more interface, ``testnet0`` (one end of a veth pair
whose other end stays in the namespace too: this kernel has no dummy interfaces; an address of
its own, and no default route: a name to resolve fails at once, as on a machine with no
network, instead of waiting for a name server that cannot answer), so that tests which want "an address of this
machine besides loopback" still find one, and nothing they send leaves the namespace. It
needs root (CAP_SYS_ADMIN), as ``scripts/run-tests`` does for its packages and as CI runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
from collections.abc import Iterator

#: From <sched.h>.
CLONE_NEWNET = 0x40000000
#: The second interface and its address (reached only inside the namespace).
INTERFACE = "testnet0"
ADDRESS = "10.213.0.1"

#: The namespace `enter` left (the machine's), None before it, and a descriptor of it.
left: str | None = None
_left_fd: int | None = None

_SETUP = (["ip", "link", "set", "lo", "up"],
          ["ip", "link", "add", INTERFACE, "type", "veth", "peer", "name", f"{INTERFACE}p"],
          ["ip", "addr", "add", f"{ADDRESS}/24", "brd", "10.213.0.255", "dev", INTERFACE],
          ["ip", "link", "set", f"{INTERFACE}p", "up"],
          ["ip", "link", "set", INTERFACE, "up"])


def namespace_id() -> str:
    """The calling thread's network namespace (``net:[inode]``)."""
    return os.readlink("/proc/thread-self/ns/net")


def enter() -> str:
    """Move the calling thread into a new network namespace set up as the module says; its
    id. `OSError` naming what to do when the kernel refuses (not root)."""
    global left, _left_fd
    left = namespace_id()
    _left_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"unshare(CLONE_NEWNET) refused ({os.strerror(error)}): the test "
                      "suite gives each worker a network of its own, which needs root "
                      "(run scripts/run-tests as root, as CI does)")
    for command in _SETUP:
        subprocess.run(command, check=True, capture_output=True, timeout=10)
    return namespace_id()


@contextlib.contextmanager
def machines_network() -> Iterator[None]:
    """The calling thread back in the namespace `enter` left for the block: what is started
    meanwhile (pip fetching packages from the package index) uses the machine's network."""
    if _left_fd is None:
        yield
        return
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _setns(_left_fd)
        try:
            yield
        finally:
            _setns(here)
    finally:
        os.close(here)


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns(CLONE_NEWNET): {os.strerror(error)}")


def lo_multicast() -> bool:
    """Whether this thread's ``lo`` has multicast on (``ip``, a child in this namespace:
    /sys/class/net shows the namespace sysfs was mounted in, not this thread's)."""
    shown = subprocess.run(["ip", "-o", "link", "show", "lo"], check=True, capture_output=True,
                           text=True, timeout=10).stdout
    flags = shown.split("<", 1)[1].split(">", 1)[0].split(",")
    return "MULTICAST" in flags
