"""Whether the other end of a connection runs on this machine.

A write to a peer here wakes a process on one of this machine's CPUs, which the round trip's
shortcut then hands its own CPU to (``fastpath.shortcut``); a write to a peer elsewhere wakes nobody here.
"""

from __future__ import annotations

import ipaddress
import socket

__all__ = ["is_local_peer"]


def is_local_peer(sock: object, peer: object, own: object = None) -> bool:
    """Whether a connection's other end is on this machine: a Unix socket, a loopback address
    (IPv4, IPv6 or IPv4 written as IPv6), or the very address it connected to (`own`).

    `sock`, `peer` and `own` are a transport's ``socket``, ``peername`` and ``sockname``."""
    if getattr(sock, "family", None) == getattr(socket, "AF_UNIX", object()):
        return True
    if not (isinstance(peer, tuple) and peer and isinstance(peer[0], str)):
        return False
    if isinstance(own, tuple) and own and own[0] == peer[0]:
        return True
    try:
        address = ipaddress.ip_address(peer[0].partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
