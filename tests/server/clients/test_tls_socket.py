"""A TLS client served on its own socket with OpenSSL in memory (``clients.tlssocket``): what
asyncio's TLS layer did for it and the transport must do itself -- many records in one read,
a record split over reads, records sent with the end of the handshake, a download of many
records, close_notify when the server closes the connection and when the client does, and
every descriptor of a connection that never handshakes closed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import time

import pytest
from serverkit import Gadget
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from serverkit import send_blob
from serverkit import server
from tlskit import Pki
from waiting import until

from indipycore.protocol.events import EnableBLOB
from indipycore.protocol.events import GetProperties
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import Number
from indipycore.protocol.events import PingRequest
from indipycore.protocol.serialiser import serialise
from indipyserver import IPyServer
from indipyserver.clients.tlsport import TLSPort
from indipyserver.clients.tlssocket import TLSSocketTransport


def tls_server(pki: Pki, gadget: Gadget | None = None) -> IPyServer:
    """A test server with a gadget and a TLS port requiring client certificates."""
    srv = server(gadget if gadget is not None else make_gadget())
    srv.listen_tls(0, pki.server_cert, pki.server_key, client_ca=pki.ca)
    return srv


async def test_an_upload_of_many_records_is_read_whole_with_what_follows_it(tls_pki: Pki) -> None:
    """One write of a client holding an element of 2 MB (128 TLS records, more than one
    callback reads) and a ping after it: the element reaches the driver and the ping is
    answered. A transport that stopped reading between records, or left decrypted bytes in
    OpenSSL while waiting on the socket, would leave the ping unread."""
    async with running(tls_server(tls_pki)) as srv:
        client = await RawClient.connect(srv.tls_port, ssl=tls_pki.client_context("observer"))
        await client.round_trip()
        assert any(isinstance(c._transport, TLSSocketTransport) for c in srv.clients)
        padded = " " * (2 << 20) + "42"
        await client.send(serialise(NewNumberVector("Gadget", "VALUE", (Number("V", padded),)))
                          + serialise(PingRequest("after")))
        await client.wait_for("pingReply", uid="after")
        frame = await client.wait_for("setNumberVector", name="VALUE")
        assert b"42" in frame.data


async def test_a_blob_of_many_records_reaches_a_tls_client_whole(tls_pki: Pki) -> None:
    """A 3 MB BLOB (several hundred records, more than the socket takes at once) reaches the
    TLS client whole and in order: writes the socket did not take are kept and sent on."""
    gadget = make_gadget()
    async with running(tls_server(tls_pki, gadget)) as srv:
        client = await RawClient.connect(srv.tls_port, ssl=tls_pki.client_context("observer"))
        await client.send(serialise(GetProperties(version="1.7"))
                          + serialise(EnableBLOB("Gadget", "Also")))
        await client.wait_for("defBLOBVector", name="IMAGE")
        await client.round_trip()  # enableBLOB dealt with
        payload = bytes(range(256)) * (3 * 4096)
        await send_blob(gadget, payload)
        frame = await client.wait_for("setBLOBVector", name="IMAGE")
        assert f'size="{len(payload)}"'.encode() in frame.data
        await client.round_trip()


class _MemoryClient:
    """A blocking TLS client that encrypts in memory, so that a test chooses how its
    records reach the server: with the end of the handshake, or cut anywhere."""

    def __init__(self, pki: Pki, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = pki.client_context("observer").wrap_bio(self.incoming, self.outgoing,
                                                           server_hostname="localhost")
        self.got = b""

    def handshake(self) -> None:
        """All of the handshake but the client's last flight, left in `outgoing`."""
        while True:
            try:
                self.tls.do_handshake()
                return
            except ssl.SSLWantReadError:
                self.sock.sendall(self.outgoing.read())
                self.incoming.write(self.sock.recv(1 << 16))

    def records(self, data: bytes) -> bytes:
        """What is still to send, and `data` encrypted after it."""
        self.tls.write(data)
        return self.outgoing.read()

    def read_until(self, marker: bytes) -> bytes:
        """Decrypted bytes until `marker` is among them."""
        while marker not in self.got:
            self.incoming.write(self.sock.recv(1 << 16))
            with contextlib.suppress(ssl.SSLWantReadError):
                while chunk := self.tls.read(1 << 16):
                    self.got += chunk
        return self.got


def _answered_with_the_handshake(pki: Pki, port: int) -> bytes:
    client = _MemoryClient(pki, port)
    with client.sock:
        client.handshake()
        # The client's Finished and its first element in one segment: the server's
        # handshake reads both.
        client.sock.sendall(client.records(serialise(GetProperties(version="1.7"))))
        return client.read_until(b"</defNumberVector>")


async def test_an_element_sent_with_the_end_of_the_handshake_is_answered(tls_pki: Pki) -> None:
    """A client whose first element leaves in the same segment as its Finished is answered:
    the records the handshake read past its end are the transport's first, not lost."""
    async with running(tls_server(tls_pki)) as srv:
        assert srv.tls_port
        got = await asyncio.wait_for(
            asyncio.to_thread(_answered_with_the_handshake, tls_pki, srv.tls_port), 20)
        assert b'name="VALUE"' in got


def _split_record(pki: Pki, port: int) -> bytes:
    client = _MemoryClient(pki, port)
    with client.sock:
        client.handshake()
        client.sock.sendall(client.records(b""))
        data = client.records(serialise(PingRequest("split")))
        for piece in (data[:3], data[3:40], data[40:]):  # inside the header, then the body
            client.sock.sendall(piece)
            time.sleep(0.05)  # each its own read of the server's
        return client.read_until(b'uid="split"')


async def test_a_record_cut_over_several_reads_is_read_whole(tls_pki: Pki) -> None:
    """A record that reaches the server in pieces -- part of its header, the rest of it, its
    body -- is decrypted once whole: the ping in it is answered."""
    async with running(tls_server(tls_pki)) as srv:
        assert srv.tls_port
        got = await asyncio.wait_for(asyncio.to_thread(_split_record, tls_pki, srv.tls_port), 20)
        assert b"pingReply" in got


def _say_goodbye(pki: Pki, port: int, together: bool) -> tuple[bytes, bool]:
    """A ping, then the client's close_notify: in one segment (`together`), or alone once
    the ping is answered. What it read, and whether the server's close_notify ended it."""
    client = _MemoryClient(pki, port)
    with client.sock:
        client.handshake()
        client.sock.sendall(client.records(b""))
        ping = client.records(serialise(PingRequest("bye")))
        if not together:
            client.sock.sendall(ping)
            client.read_until(b'uid="bye"')
            ping = b""
        with contextlib.suppress(ssl.SSLWantReadError):
            client.tls.unwrap()  # (close_notify into `outgoing`; the server's not read yet)
        client.sock.sendall(ping + client.outgoing.read())
        while data := client.sock.recv(1 << 16):
            client.incoming.write(data)
            try:
                while chunk := client.tls.read(1 << 16):
                    client.got += chunk
            except ssl.SSLWantReadError:
                continue
            except ssl.SSLZeroReturnError:
                pass
            return client.got, True
        return client.got, False


@pytest.mark.parametrize("together", [True, False], ids=["with-a-record", "alone"])
async def test_a_client_s_close_notify_ends_the_connection_cleanly(tls_pki: Pki,
                                                                   together: bool) -> None:
    """A client's close_notify, read with a record before it or alone, ends the connection:
    what came before it is answered, and the server answers with its own close_notify. A
    read that handed on only its first record would lose the goodbye (the server would
    keep the connection open, and the client's read would time out); one that took the
    goodbye first would lose the ping."""
    async with running(tls_server(tls_pki)) as srv:
        assert srv.tls_port
        got, clean = await asyncio.wait_for(
            asyncio.to_thread(_say_goodbye, tls_pki, srv.tls_port, together), 20)
        assert b'uid="bye"' in got
        assert clean


def _read_to_the_end(pki: Pki, port: int) -> bytes:
    """A blocking client that sends garbage until the server closes it; what it read. With
    ragged EOFs not suppressed, an end without close_notify raises SSLEOFError."""
    context = pki.client_context("observer")
    raw = socket.create_connection(("127.0.0.1", port), timeout=15)
    with context.wrap_socket(raw, server_hostname="localhost",
                             suppress_ragged_eofs=False) as sock:
        sock.sendall(b"<bogus/>" * 20)
        got = b""
        while data := sock.recv(1 << 16):
            got += data
        return got


async def test_the_server_closes_a_tls_connection_with_close_notify(tls_pki: Pki) -> None:
    """A TLS client the server closes (malformed XML over and over) reads a clean end of the
    TLS stream (close_notify), not a connection cut under it."""
    async with running(tls_server(tls_pki)) as srv:
        assert srv.tls_port
        # (SSLEOFError here if the end was ragged)
        await asyncio.wait_for(asyncio.to_thread(_read_to_the_end, tls_pki, srv.tls_port), 20)


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
async def test_refused_evicted_and_timed_out_handshakes_leave_no_descriptor_open(
    tls_pki: Pki,
) -> None:
    """The port takes each accepted socket over (a duplicate of its descriptor): connections
    that never handshake -- refused past the limit, evicted by a newcomer, timed out -- and a
    plain client on the port each end with no descriptor of ours left open."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls_pki.server_cert), str(tls_pki.server_key))
    port = TLSPort(context, lambda: pytest.fail("no handshake finishes"),  # type: ignore[arg-type,return-value]
                   handshake_timeout=0.4, max_handshakes=2)
    listener = await port.listen("127.0.0.1", 0)
    address = listener.sockets[0].getsockname()
    before = _open_descriptors()
    writers = []
    for wave in range(3):  # the third: past the limit once the first have aged
        for _ in range(3):
            _, writer = await asyncio.open_connection(*address)
            writers.append(writer)
        if wave == 1:
            writers[-1].write(serialise(GetProperties(version="1.7")))  # plain INDI
        await until(lambda: port.refused >= 1, what="a refusal")
    await until(lambda: port.refused == 9 and not port.pending, timeout=10,
                what="every connection refused or timed out")
    for writer in writers:
        writer.close()
    await until(lambda: _open_descriptors() <= before, timeout=10, what="the descriptors closed")
    listener.close()
