"""The Unix socket local clients may use besides TCP (indiserver's ``-u``; ``clients.unixsocket``)."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from pathlib import Path

import pytest
from peers import OurServer
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from waiting import wait_for

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver import IPyServer
from indipyserver.cli import build_server
from indipyserver.cli import parse_args
from indipyserver.clients import unixsocket


def abstract_name() -> str:
    return f"/tmp/indipy-test-{uuid.uuid4().hex}"


def unix_connection(address: str) -> socket.socket | None:
    """A socket connected to ``address``, or None while nothing listens there."""
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.connect(address)
    except OSError:
        sock.close()
        return None
    return sock


async def unix_client(address: str) -> RawClient:
    reader, writer = await asyncio.open_unix_connection(address)
    return RawClient(reader, writer)


def unix_server(path: str, port: int = 0) -> IPyServer:
    """A gadget's server on a TCP port (by default one the system picks) and the Unix socket
    `path`."""
    server = IPyServer(make_gadget(), host="127.0.0.1", port=port, handle_signals=False)
    server.listen_unix(path)
    return server


async def test_a_client_on_the_unix_socket_is_served_as_a_tcp_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With listen_unix the server also listens on that abstract name (Linux, as indiserver):
    a client there gets the definitions and its request reaches the driver, whose answer
    comes back; a TCP client meanwhile gets the same update. The log names both sockets
    and the client."""
    path = abstract_name()
    with caplog.at_level(logging.DEBUG, logger="indipyserver"):  # clients: DEBUG
        server = unix_server(path)
        async with running(server):
            local = await unix_client("\0" + path)
            tcp = await RawClient.connect(server.port)
            for client in (local, tcp):
                await client.send('<getProperties version="1.7"/>')
                await client.wait_for("defNumberVector", name="VALUE")
            await local.send('<newNumberVector device="Gadget" name="VALUE">'
                             '<oneNumber name="V">42</oneNumber></newNumberVector>')
            for client in (local, tcp):
                answer = await client.wait_for("setNumberVector", name="VALUE")
                assert b">42" in answer.data or b"42.00" in answer.data
            await local.close()
            await tcp.close()
    text = caplog.text
    assert f"serving INDI on Unix socket @{path}" in text
    assert "client unix-client-" in text and "connected" in text


async def test_a_taken_unix_socket_is_an_error_naming_it_and_frees_the_port() -> None:
    """A second server given the same -u path cannot start (as indiserver): an OSError that
    names the socket and says why, and its TCP port is released again."""
    path = abstract_name()
    first = unix_server(path)
    async with running(first):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        second = unix_server(path, port=port)
        with pytest.raises(OSError, match=f"cannot listen on Unix socket @{path}: "
                                          "Address already in use"):
            await asyncio.wait_for(second.asyncrun(), 5)
        again = socket.socket()
        again.bind(("127.0.0.1", port))  # released: bind succeeds
        again.close()


async def test_filesystem_socket_where_names_are_not_abstract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where there are no abstract names (not Linux) the path is a socket file: one left
    behind by a server that is gone is replaced, while a path that is a live socket or not
    a socket at all is left alone and the error says so."""
    monkeypatch.setattr(unixsocket, "ABSTRACT", False)
    path = tmp_path / "indi.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens
    server = unix_server(str(path))
    async with running(server):
        client = await unix_client(str(path))
        await client.send('<getProperties version="1.7"/>')
        await client.wait_for("defNumberVector", name="VALUE")
        await client.close()
        live = unix_server(str(path))
        with pytest.raises(OSError, match="Address already in use"):
            await asyncio.wait_for(live.asyncrun(), 5)
    plain = tmp_path / "notasocket"
    plain.write_text("keep me")
    other = unix_server(str(plain))
    with pytest.raises(OSError, match=f"cannot listen on Unix socket {plain}"):
        await asyncio.wait_for(other.asyncrun(), 5)
    assert plain.read_text() == "keep me"


def test_u_on_the_command_line() -> None:
    """-u PATH as indiserver's (indiwebmanager passes it); absent: no Unix socket."""
    assert parse_args(["-u", "/tmp/indiFIFO_sock", "--demo"]).unix_path == "/tmp/indiFIFO_sock"
    assert parse_args(["--demo"]).unix_path is None
    # indiwebmanager's command line (indi-notes 2.3), whole.
    webmanager = parse_args(["-p", "7624", "-m", "1000", "-v", "-f", "/tmp/indiFIFO",
                             "-u", "/tmp/indiFIFO_sock"])
    assert (webmanager.port, webmanager.max_client_mb, webmanager.verbosity, webmanager.fifo,
            webmanager.unix_path) == (7624, 1000, 1, "/tmp/indiFIFO", "/tmp/indiFIFO_sock")
    with pytest.raises(SystemExit):
        parse_args(["-u", "", "--demo"])


def test_shared_blobs_off_serves_base64_on_the_unix_socket_too() -> None:
    """By default clients on -u get a C driver's memfds as they are, as indiserver's do;
    ``--shared-blobs off`` (pipes for the drivers) gives them base64, as over TCP."""
    assert build_server(parse_args(["-u", "/tmp/x", "--demo"])).unix_attached
    assert build_server(parse_args(["-u", "/tmp/x", "--shared-blobs", "on", "--demo"])).unix_attached
    assert not build_server(parse_args(["-u", "/tmp/x", "--shared-blobs", "off",
                                        "--demo"])).unix_attached


def test_the_command_serves_the_unix_socket_on_its_own_loop(tmp_path: Path) -> None:
    """The indipyserver command (its own event loop, whose selector reads clients itself)
    serves a client on -u's socket: the demo's definitions arrive, and the listening line
    names the socket without -v."""
    path = abstract_name()
    server = OurServer("--demo", workdir=tmp_path / "server", verbosity=0, socket_path=path)
    server.start()
    try:
        sock = wait_for(lambda: unix_connection("\0" + path), 15,
                        "the command listening on its Unix socket")
        frames: list[Frame] = []
        with sock:
            sock.settimeout(10)
            sock.sendall(b'<getProperties version="1.7"/>')
            framer = Framer()
            while not any(f.tag == "defBLOBVector" for f in frames):
                data = sock.recv(65536)
                assert data, "the server closed the connection"
                frames += [f for f in framer.feed(data) if isinstance(f, Frame)]
        assert {f.attrs["device"] for f in frames} == {"Thermostat"}
        assert server.process is not None
        server.process.terminate()
        assert server.process.wait(timeout=15) == 0, server.log_tail()
        assert f"serving INDI on Unix socket @{path}" in server.log_text(), server.log_tail()
    finally:
        server.stop()
