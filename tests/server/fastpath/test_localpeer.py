"""Which peers run on this machine (`fastpath.localpeer.is_local_peer`, ClientConnection.local): the
round trip's shortcut (lanes) hands the CPU to a peer it has just woken only when that peer is
here, where the write woke it."""

from __future__ import annotations

import asyncio
import socket

import pytest

from indipyserver.clients.clientconnection import ClientConnection
from indipyserver.fastpath.localpeer import is_local_peer
from indipyserver.routing.router import Router

TCP = socket.socket()  # only its family is looked at
UNIX = socket.socket(socket.AF_UNIX)


@pytest.mark.parametrize(
    ("sock", "peer", "own", "local"),
    [
        (UNIX, "", None, True),
        (TCP, ("127.0.0.1", 50000), ("127.0.0.1", 7624), True),
        (TCP, ("127.2.3.4", 50000), ("127.0.0.1", 7624), True),
        (TCP, ("::1", 50000, 0, 0), ("::1", 7624, 0, 0), True),
        (TCP, ("::ffff:127.0.0.1", 50000, 0, 0), ("::", 7624, 0, 0), True),
        # this machine's own LAN address: the client connected to the address it has itself
        (TCP, ("192.168.1.5", 50000), ("192.168.1.5", 7624), True),
        (TCP, ("192.168.1.9", 50000), ("192.168.1.5", 7624), False),
        (TCP, ("::ffff:10.0.0.1", 50000, 0, 0), ("::", 7624, 0, 0), False),
        (TCP, ("fe80::1%eth0", 50000, 0, 2), ("fe80::2%eth0", 7624, 0, 2), False),
        (None, None, None, False),
        (TCP, ("not an address", 1), None, False),
    ],
)
def test_a_peer_is_local_on_a_unix_socket_loopback_or_our_own_address(
    sock: object, peer: object, own: object, local: bool
) -> None:
    assert is_local_peer(sock, peer, own) is local


def test_a_connection_knows_whether_its_client_is_local() -> None:
    async def run() -> list[bool]:
        loop = asyncio.get_running_loop()
        found = []
        with socket.create_server(("127.0.0.1", 0)) as listener:
            port = listener.getsockname()[1]
            for pair in (socket.socketpair, lambda: _tcp_pair(listener, port)):
                ours, peer = pair()
                client = ClientConnection(Router(), set())
                await loop.connect_accepted_socket(lambda c=client: c, ours)  # type: ignore[misc]
                found.append(client.local)
                client.abort()
                await asyncio.sleep(0)
                peer.close()
        return found

    assert asyncio.run(run()) == [True, True]


def _tcp_pair(listener: socket.socket, port: int) -> tuple[socket.socket, socket.socket]:
    peer = socket.create_connection(("127.0.0.1", port))
    ours, _ = listener.accept()
    return ours, peer
