"""The server's TLS port beside the plain one (``clients.tlsport``; issue 60 items 1 and 2's TLS
identities). Certificates are made by the openssl command (tests/tlskit.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from peers import REPO
from peers import OurServer
from peers import ServingProgram
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from serverkit import server
from tlskit import Pki
from waiting import wait_for

from indipycore.protocol.events import GetProperties
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import Number
from indipycore.protocol.serialiser import serialise
from indipycore.tls import TLSFileError
from indipyserver import IPyServer
from indipyserver.cli import build_server
from indipyserver.cli import parse_args

GET_PROPERTIES = serialise(GetProperties(version="1.7"))


def tls_server(pki: Pki, *, client_ca: bool = True, **kw: object) -> IPyServer:
    """A test server with a gadget, its plain port and a TLS port (both picked by the system)."""
    srv = server(make_gadget(), **kw)
    srv.listen_tls(0, pki.server_cert, pki.server_key, client_ca=pki.ca if client_ca else None)
    return srv


async def test_a_client_with_a_certificate_is_served_over_tls_as_its_cn(tls_pki: Pki) -> None:
    """With a client CA, a TLS client presenting a certificate the CA signed is served like any
    other: it gets the definitions, its new value reaches the driver and the driver's answer
    comes back to it and to a plain client alike; its identity is the certificate's CN and its
    peer its address."""
    async with running(tls_server(tls_pki)) as srv:
        assert srv.tls_port and srv.tls_port != srv.port
        secure = await RawClient.connect(srv.tls_port, ssl=tls_pki.client_context("observer"))
        plain = await RawClient.connect(srv.port)
        for client in (secure, plain):
            await client.send(GET_PROPERTIES)
            await client.wait_for("defNumberVector", name="VALUE")
        await secure.send(serialise(NewNumberVector("Gadget", "VALUE", (Number("V", "42"),))))
        for client in (secure, plain):
            frame = await client.wait_for("setNumberVector", name="VALUE")
            assert b"42" in frame.data, frame.data
        identities = sorted((c.identity, c.peer) for c in srv.clients)
        local = secure.writer.get_extra_info("sockname")
        assert ("observer", f"{local[0]}:{local[1]}") in identities, identities
        assert ("anonymous", f"127.0.0.1:{plain.writer.get_extra_info('sockname')[1]}") \
            in identities, identities


async def test_without_a_client_ca_tls_clients_need_no_certificate_and_are_anonymous(
    tls_pki: Pki,
) -> None:
    """Without --tls-client-ca the port encrypts but asks no certificate: a client with none is
    served, and its identity is ``anonymous`` as on the plain port."""
    async with running(tls_server(tls_pki, client_ca=False)) as srv:
        client = await RawClient.connect(srv.tls_port, ssl=tls_pki.client_context(None))
        await client.send(GET_PROPERTIES)
        await client.wait_for("defNumberVector", name="VALUE")
        assert [c.identity for c in srv.clients] == ["anonymous"]


async def test_openssl_s_client_with_a_certificate_reads_the_definitions(tls_pki: Pki) -> None:
    """Another TLS implementation's client, openssl s_client, verifies the server against the
    CA, presents its certificate and reads the definitions it asked for in plain INDI."""
    async with running(tls_server(tls_pki)) as srv:
        cert, key = tls_pki.client("operator")
        process = await asyncio.create_subprocess_exec(
            "openssl", "s_client", "-connect", f"127.0.0.1:{srv.tls_port}", "-CAfile",
            str(tls_pki.ca), "-cert", str(cert), "-key", str(key), "-verify_return_error",
            "-quiet", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(GET_PROPERTIES)
        await process.stdin.drain()
        got = b""
        try:
            async with asyncio.timeout(20):
                while b'name="VALUE"' not in got:
                    data = await process.stdout.read(65536)
                    assert data, f"s_client ended: {got[-500:]!r}"
                    got += data
            await wait_for_identity(srv, "operator")
        finally:
            process.kill()
            await process.wait()


async def wait_for_identity(srv: IPyServer, identity: str) -> None:
    async with asyncio.timeout(10):
        while identity not in [c.identity for c in srv.clients]:
            await asyncio.sleep(0.02)


async def test_port_none_serves_tls_alone(tls_pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    """``port=None`` (the command line's -p 0) opens no plain TCP port: the server listens on
    its TLS port alone (the process's listening sockets say so) and serves there."""
    with caplog.at_level(logging.INFO, logger="indipyserver.server"):
        async with running(tls_server(tls_pki, port=None)) as srv:
            assert srv.port == 0 and not srv.serves_tcp
            listening = {c.laddr.port for c in psutil.Process().net_connections("tcp")
                         if c.status == psutil.CONN_LISTEN}
            assert srv.tls_port in listening
            client = await RawClient.connect(srv.tls_port, ssl=tls_pki.client_context())
            await client.send(GET_PROPERTIES)
            await client.wait_for("defNumberVector", name="VALUE")
            assert listening == {srv.tls_port}, listening
    assert "serving INDI over TLS on 127.0.0.1:" in caplog.text
    assert "serving INDI on 127.0.0.1" not in caplog.text


def test_the_command_line_takes_the_tls_options(tls_pki: Pki) -> None:
    """``-p 0 --tls-port P --tls-cert C --tls-key K --tls-client-ca CA`` makes a server with
    no plain port and those TLS settings; misuse is a usage error (exit 2) saying why."""
    options = parse_args(["--demo", "-p", "0", "--tls-port", "7625", "--tls-cert",
                          str(tls_pki.server_cert), "--tls-key", str(tls_pki.server_key),
                          "--tls-client-ca", str(tls_pki.ca), "--tls-host", "0.0.0.0"])
    srv = build_server(options)
    assert not srv.serves_tcp and srv.tls_port == 7625 and srv.tls_host == "0.0.0.0"
    for argv, said in (
        (["--tls-port", "7625"], "--tls-port needs --tls-cert"),
        (["--tls-cert", "x.pem"], "need --tls-port"),
        (["-p", "0"], "-p 0 turns the plain TCP port off"),
    ):
        result = subprocess.run([sys.executable, "-m", "indipyserver", "--demo", *argv],
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 2 and said in result.stderr, (argv, result.stderr)


def test_a_bad_certificate_file_stops_the_server_at_start_naming_it(tls_pki: Pki,
                                                                     tmp_path: Path) -> None:
    """A missing or unusable certificate, key or CA file is an error at start (listen_tls: a
    ValueError; the command: exit 1) that names the file, not a failure at the first client."""
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(TLSFileError, match="nowhere.pem"):
        server(make_gadget()).listen_tls(0, tls_pki.server_cert, tls_pki.server_key,
                                         client_ca=missing)
    with pytest.raises(TLSFileError, match="server.crt"):  # another key
        server(make_gadget()).listen_tls(0, tls_pki.server_cert, tls_pki.ca.with_suffix(".key"))
    with pytest.raises(ValueError, match="certificate"):
        IPyServer(handle_signals=False).listen_tls(0, "")
    result = subprocess.run(
        [sys.executable, "-m", "indipyserver", "--demo", "-p", "0", "--tls-port", "17625",
         "--tls-cert", str(missing)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and "nowhere.pem" in result.stderr, result.stderr


def test_the_command_serves_tls_clients_and_indilib_tools_on_the_plain_port(
    tls_pki: Pki, tmp_path: Path, free_port: int,
) -> None:
    """``indipyserver --tls-port ...`` as a process: a TLS client with a certificate reads the
    demo's definitions on the TLS port while the plain port still serves indilib's
    indi_getprop; the log says where each listens."""
    srv = OurServer("--demo", "--tls-port", str(free_port), "--tls-cert",
                    str(tls_pki.server_cert), "--tls-key", str(tls_pki.server_key),
                    "--tls-client-ca", str(tls_pki.ca), workdir=tmp_path).start()
    try:
        read_definitions(free_port, tls_pki.client_context("operator"))
        from peers import getprop

        # Named, not *.*.* (a wildcard waits out its fixed timeout and says what came,
        # however late the server answers): indi_getprop ends as soon as it came.
        result = getprop(srv.port, "Thermostat.TARGET.TARGET", timeout=20)
        assert result.returncode == 0, result.result.describe() + srv.log()
        assert "Thermostat.TARGET.TARGET" in result, result.stdout
        wait_for(lambda: "over TLS on localhost:" in srv.log(), what=srv.log)
    finally:
        assert srv.stop() == 0


def read_definitions(port: int, context: ssl.SSLContext) -> bytes:
    """Connect to the TLS port `port` with `context` (a blocking socket), ask getProperties
    and read until a number vector is defined; what was read."""
    with ssl_socket(port, context) as sock:
        sock.sendall(GET_PROPERTIES)
        got = b""
        while b"defNumberVector" not in got:
            data = sock.recv(65536)
            assert data, got
            got += data
    return got


def ssl_socket(port: int, context: ssl.SSLContext) -> ssl.SSLSocket:
    import socket

    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    return context.wrap_socket(raw, server_hostname="localhost")


def test_the_command_with_p_0_listens_on_its_tls_port_alone(tls_pki: Pki, tmp_path: Path,
                                                            tmp_home: Path, free_port: int
                                                            ) -> None:
    """``indipyserver -p 0 --tls-port P ...`` as a process: its only listening TCP socket is
    the TLS port, where a client with a certificate reads the demo's definitions; Ctrl-C
    stops it cleanly (exit 0)."""
    program = ServingProgram(
        [sys.executable, "-m", "indipyserver", "--demo", "-p", "0", "--tls-port",
         str(free_port), "--tls-cert", str(tls_pki.server_cert), "--tls-key",
         str(tls_pki.server_key), "--tls-client-ca", str(tls_pki.ca)],
        free_port, tmp_path, env={"PYTHONPATH": str(REPO), "HOME": str(tmp_home)},
    ).wait_listening()
    try:
        listening = {c.laddr.port for c in psutil.Process(program.process.pid)
                     .net_connections("tcp") if c.status == psutil.CONN_LISTEN}
        assert listening == {free_port}, listening
        read_definitions(free_port, tls_pki.client_context("operator"))
    finally:
        code, _, err = program.ctrl_c()
    assert code == 0, err
    assert "serving INDI over TLS on localhost:" in err and "serving INDI on " not in err


async def test_tls_identities_are_what_the_access_rules_and_the_audit_trail_see(
    tls_pki: Pki, tmp_path: Path,
) -> None:
    """Under --acl and --audit, TLS clients are their certificates' CNs from the moment they
    are accepted: ``operator`` (write *) sets the gadget's value, ``observer`` (read *) sees
    it and is told "permission denied" for its own set, which never reaches the driver; a
    plain client (``anonymous``, no rule) sees nothing of the gadget; the audit lines name
    each identity and its peer address."""
    acl = tmp_path / "site.acl"
    acl.write_text("operator write *\nobserver read *\n")
    audit = tmp_path / "audit.jsonl"
    async with running(tls_server(tls_pki, acl=str(acl), audit=str(audit))) as srv:
        operator = await RawClient.connect(srv.tls_port, ssl=tls_pki.client_context("operator"))
        observer = await RawClient.connect(srv.tls_port, ssl=tls_pki.client_context("observer"))
        plain = await RawClient.connect(srv.port)
        for client in (operator, observer):
            await client.send(GET_PROPERTIES)
            await client.wait_for("defNumberVector", name="VALUE")
        await plain.send(GET_PROPERTIES)
        await plain.round_trip()
        assert not [f for f in plain.frames if f.attrs.get("device") == "Gadget"]
        await observer.send(serialise(NewNumberVector("Gadget", "VALUE", (Number("V", "5"),))))
        denied = await observer.wait_for("message", device="Gadget")
        assert "permission denied: observer" in denied.attrs["message"]
        await operator.send(serialise(NewNumberVector("Gadget", "VALUE", (Number("V", "9"),))))
        for client in (operator, observer):
            frame = await client.wait_for("setNumberVector", name="VALUE")
            assert b"9" in frame.data and b">5" not in frame.data
    lines = [json.loads(line) for line in audit.read_text().splitlines() if line.strip()]
    said = {(line.get("identity"), line.get("allowed")) for line in lines}
    assert {("observer", False), ("operator", True)} <= said, lines
    assert all(str(line.get("peer", "")).startswith("127.0.0.1:") for line in lines
               if line.get("identity") in ("observer", "operator")), lines
