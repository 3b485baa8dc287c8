"""Which network interfaces announcing and browsing use, and their IPv4 addresses.

Names come from the argument (``--mdns-interface``), else the environment variable
``INDIPY_MDNS_INTERFACES`` (comma-separated), else every interface that is up and has
multicast on. Multicast must never leave the interfaces the user chose: zeroconf is always
handed these addresses, never "all".

Standard library only, Linux's ioctls: ``socket.if_nameindex`` for names and indexes,
SIOCGIFCONF for every IPv4 address (one entry per address, under its label: ``eth0`` or an
alias ``eth0:1``), SIOCGIFFLAGS for up/multicast/broadcast/loopback, SIOCGIFBRDADDR and
SIOCGIFNETMASK per label. An address without a broadcast address of its own (the loopback's,
or one added without ``brd``) is given its subnet's (127.255.255.255 on ``lo``).
"""

from __future__ import annotations

import array
import fcntl
import ipaddress
import os
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ENV", "Interface", "InterfaceError", "chosen_interfaces", "list_interfaces",
           "without_multicast"]

#: The environment variable every part of the project that announces or browses reads.
ENV = "INDIPY_MDNS_INTERFACES"

_SIOCGIFCONF = 0x8912
_SIOCGIFFLAGS = 0x8913
_SIOCGIFBRDADDR = 0x8919
_SIOCGIFNETMASK = 0x891B
_IFF_UP = 0x1
_IFF_BROADCAST = 0x2
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000
_IFREQ = 40  # sizeof(struct ifreq) on 64-bit Linux: 16 bytes of name, 24 of union
_NAME = 16


class InterfaceError(ValueError):
    """An interface named that this machine does not have (the message lists those it has)."""


@dataclass(frozen=True)
class Interface:
    """One network interface: its name and index, its IPv4 addresses and the broadcast
    address of each (where it has one), and whether it is up and has multicast on."""

    name: str
    index: int
    ipv4: tuple[str, ...]
    broadcast: tuple[str, ...]
    up: bool = True
    multicast: bool = True
    loopback: bool = False


def _ioctl(sock: socket.socket, request: int, name: str) -> bytes:
    ifreq = struct.pack(f"{_NAME}s{_IFREQ - _NAME}x", name.encode()[:_NAME - 1])
    return fcntl.ioctl(sock.fileno(), request, ifreq)


def _flags(sock: socket.socket, name: str) -> int:
    try:
        reply = _ioctl(sock, _SIOCGIFFLAGS, name)
    except OSError:
        return 0
    return int(struct.unpack_from("H", reply, _NAME)[0])


def _address(sock: socket.socket, request: int, label: str) -> str | None:
    """The IPv4 address an ioctl returns for `label` (sockaddr_in after the name), or None."""
    try:
        reply = _ioctl(sock, request, label)
    except OSError:
        return None
    return socket.inet_ntoa(reply[_NAME + 4:_NAME + 8])


def _labels(sock: socket.socket) -> list[tuple[str, str]]:
    """(label, address) for every IPv4 address of the machine (SIOCGIFCONF)."""
    size = 64
    while True:
        buffer = array.array("B", bytes(size * _IFREQ))
        address, _ = buffer.buffer_info()
        ifconf = struct.pack("iL", size * _IFREQ, address)
        used = struct.unpack("iL", fcntl.ioctl(sock.fileno(), _SIOCGIFCONF, ifconf))[0]
        if used < size * _IFREQ:
            break
        size *= 2  # filled: there may be more
    raw = buffer.tobytes()
    found = []
    for offset in range(0, used, _IFREQ):
        label = raw[offset:offset + _NAME].split(b"\0", 1)[0].decode()
        found.append((label, socket.inet_ntoa(raw[offset + _NAME + 4:offset + _NAME + 8])))
    return found


def _broadcast(sock: socket.socket, label: str, address: str, flags: int) -> str | None:
    """The broadcast address the kernel has for `label`, else its subnet's (an address added
    without ``brd``, or the loopback's), else None (a point-to-point link, a /32)."""
    if flags & _IFF_BROADCAST:
        given = _address(sock, _SIOCGIFBRDADDR, label)
        if given not in (None, "0.0.0.0"):
            return given
    netmask = _address(sock, _SIOCGIFNETMASK, label)
    if netmask is None or netmask == "255.255.255.255":
        return None
    return str(ipaddress.IPv4Network(f"{address}/{netmask}", strict=False).broadcast_address)


def list_interfaces() -> list[Interface]:
    """Every interface of this machine (or of this network namespace), in index order."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        labels = _labels(sock)
        found = []
        for index, name in sorted(socket.if_nameindex()):
            flags = _flags(sock, name)
            ipv4: list[str] = []
            broadcast: list[str] = []
            for label, address in labels:
                if label == name or label.startswith(name + ":"):
                    ipv4.append(address)
                    bcast = _broadcast(sock, label, address, flags)
                    if bcast is not None and bcast not in broadcast:
                        broadcast.append(bcast)
            found.append(Interface(name, index, tuple(ipv4), tuple(broadcast),
                                   up=bool(flags & _IFF_UP),
                                   multicast=bool(flags & _IFF_MULTICAST),
                                   loopback=bool(flags & _IFF_LOOPBACK)))
    return found


def _names_from_env() -> list[str] | None:
    value = os.environ.get(ENV, "")
    names = [name.strip() for name in value.split(",") if name.strip()]
    return names or None


def chosen_interfaces(names: Sequence[str] | None = None) -> list[Interface]:
    """The interfaces to announce and browse on: those `names` lists, else those
    ``INDIPY_MDNS_INTERFACES`` lists, else every one that is up with multicast on. A named
    interface is returned whatever its state (the caller says why it cannot use it); a name
    this machine does not have raises `InterfaceError`, which lists the names it has."""
    present = list_interfaces()
    wanted = list(names) if names else _names_from_env()
    if wanted is None:
        return [i for i in present if i.up and i.multicast]
    by_name = {i.name: i for i in present}
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        source = "" if names else f" (from {ENV})"
        raise InterfaceError(
            f"no network interface named {', '.join(map(repr, unknown))}{source}; this "
            f"machine has {', '.join(sorted(by_name))}")
    return [by_name[name] for name in dict.fromkeys(wanted)]


def without_multicast(names: Sequence[str] | None = None) -> str | None:
    """When none of the chosen interfaces can carry DNS-SD (up, multicast on, an IPv4
    address): their names ("none" when nothing is chosen), for a front end to say why it
    lists no INDI server; None when one can, or when the choice itself is wrong (the listing
    says that)."""
    try:
        chosen = chosen_interfaces(names)
    except ValueError:
        return None
    if any(i.up and i.multicast and i.ipv4 for i in chosen):
        return None
    return ", ".join(i.name for i in chosen) or "none"
