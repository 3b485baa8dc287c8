"""Remote servers chained over TLS (``IPyServer.add_remote(..., ssl=)``, ``@tls://`` on the command
line; issue 60 item 5): the remote's certificate verified, ours presented, a remote that does
not verify never used, logged and retried."""

from __future__ import annotations

import asyncio
import logging

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from serverkit import server
from tlskit import Pki
from waiting import until

from indipycore.protocol.events import GetProperties
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import Number
from indipycore.protocol.parser import parse_element
from indipycore.protocol.serialiser import serialise
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry
from indipycore.tls import client_context
from indipyserver import IPyServer
from indipyserver.cli import build_server
from indipyserver.cli import parse_args
from indipyserver.drivers.remote import RemoteConnection
from indipyserver.drivers.remote import RemoteSpec
from indipyserver.drivers.remote import parse_remote_spec

GET_PROPERTIES = serialise(GetProperties(version="1.7"))
QUICK = Retry(ConstantBackoff(0.1))


def leaf(pki: Pki) -> IPyServer:
    """A server with the gadget on a TLS port that requires a certificate our CA signed."""
    srv = server(make_gadget())
    srv.listen_tls(0, pki.server_cert, pki.server_key, client_ca=pki.ca)
    return srv


def remote_context(pki: Pki, name: str | None = "site-east", ca: str | None = None):  # type: ignore[no-untyped-def]
    cert, key = pki.client(name) if name else (None, None)
    return client_context(ca or str(pki.ca), str(cert) if cert else None,
                          str(key) if key else None)


async def test_a_remote_over_tls_is_served_and_knows_us_by_our_certificate(
    tls_pki: Pki,
) -> None:
    """A server chained to another's TLS port with ``ssl=`` serves its devices: a client at the
    top reads the gadget's definitions and sets a value that the leaf's driver answers; the
    leaf knows the chained server by its certificate's CN."""
    async with running(leaf(tls_pki)) as bottom:
        top = server()
        conn = top.add_remote("localhost", bottom.tls_port,
                              ssl=remote_context(tls_pki), retry=QUICK)
        assert "(TLS)" in conn.label
        async with running(top):
            client = await RawClient.connect(top.port)
            await until(lambda: getattr(conn, "connected", False), what="the TLS remote")
            await client.send(GET_PROPERTIES)
            await client.wait_for("defNumberVector", device="Gadget", name="VALUE")
            await client.send(serialise(NewNumberVector("Gadget", "VALUE", (Number("V", "7"),))))
            frame = await client.wait_for("setNumberVector", device="Gadget", name="VALUE")
            assert b"7" in frame.data
            assert [c.identity for c in bottom.clients] == ["site-east"]


async def test_updates_through_a_tls_remote_arrive_whole_and_in_order(
    tls_pki: Pki, caplog: pytest.LogCaptureFixture,
) -> None:
    """Many updates in quick succession through a TLS remote (several TLS records in one read
    of the chained server) reach the top's client, every one of them, in order, and nothing
    read from the remote is malformed. (asyncio 3.11's TLS transport reads the rest of a
    record into a copy of a bytearray slice: the chained server's reads once handed stale
    bytes on.)"""
    caplog.set_level(logging.WARNING)
    driver = make_gadget()
    bottom = server(driver)
    bottom.listen_tls(0, tls_pki.server_cert, tls_pki.server_key, client_ca=tls_pki.ca)
    async with running(bottom):
        top = server()
        conn = top.add_remote("localhost", bottom.tls_port, ssl=remote_context(tls_pki))
        async with running(top):
            client = await RawClient.connect(top.port)
            await client.send(GET_PROPERTIES)
            await client.wait_for("defNumberVector", device="Gadget", name="VALUE")
            vector = driver["Gadget"]["VALUE"]
            for value in range(1, 201):
                vector["V"] = value
                await vector.send_setVector()
                if value % 10 == 0:
                    await asyncio.sleep(0)
            await client.read_until(lambda frames: sum(
                f.tag == "setNumberVector" for f in frames) >= 200)
            sets = [parse_element(f.data) for f in client.frames if f.tag == "setNumberVector"]
            assert [round(event.members[0].float) for event in sets  # type: ignore[union-attr]
                    ] == list(range(1, 201))
            assert conn.connected
    assert "malformed" not in caplog.text


@pytest.mark.parametrize(("who", "ca", "said"), [
    ("site-east", "stranger", "certificate verify failed"),
    ("stranger", None, "TLS client"),
])
async def test_a_remote_that_does_not_verify_is_never_used_logged_and_retried(
    tls_pki: Pki, caplog: pytest.LogCaptureFixture, who: str, ca: str | None, said: str,
) -> None:
    """A remote whose certificate our CA file did not sign, or that refuses the certificate we
    present: its devices never reach the top's clients, the failure is logged and the remote
    is tried again and again (the one retry loop), the top serving meanwhile."""
    caplog.set_level(logging.INFO)
    async with running(leaf(tls_pki)) as bottom:
        top = server()
        context = remote_context(tls_pki, who, str(tls_pki.stranger_ca) if ca else None)
        top.add_remote("localhost", bottom.tls_port, ssl=context, retry=QUICK)
        async with running(top):
            def failures() -> int:
                return sum(("cannot connect to remote" in r.getMessage()
                            or "lost remote" in r.getMessage())
                           and "(TLS)" in r.getMessage() for r in caplog.records)

            await until(lambda: failures() >= 3, what="three failed attempts")
            client = await RawClient.connect(top.port)
            await client.send(GET_PROPERTIES)
            await client.round_trip()
            assert "Gadget" not in [f.attrs.get("device") for f in client.frames]
            assert not bottom.clients
    assert said in caplog.text


def test_the_command_line_chains_a_remote_over_tls(tls_pki: Pki) -> None:
    """``"dev"@tls://host:port`` is a remote over TLS, made with --remote-tls-ca and our
    --remote-tls-cert/--remote-tls-key; ``@host:port`` stays plain."""
    assert parse_remote_spec('"Gadget"@tls://obs.example:7625') == RemoteSpec(
        "obs.example", 7625, "Gadget", tls=True)
    assert parse_remote_spec("@tls://[::1]") == RemoteSpec("::1", 7624, None, tls=True)
    cert, key = tls_pki.client("site-east")
    srv = build_server(parse_args([
        "@tls://localhost:7625", "@localhost:7626", "--remote-tls-ca", str(tls_pki.ca),
        "--remote-tls-cert", str(cert), "--remote-tls-key", str(key)]))
    remotes = [c for c in srv.connections if isinstance(c, RemoteConnection)]
    assert [(r.port, r.ssl is not None) for r in remotes] == [(7625, True), (7626, False)]
    assert remotes[0].ssl is not None and remotes[0].ssl.get_ca_certs()[0]["subject"] == (
        (("commonName", "ca"),),)


def test_a_wrong_type_for_ssl_is_refused_at_once() -> None:
    """ssl= takes an ssl.SSLContext (asyncio's convention), not True or a file name."""
    with pytest.raises(TypeError, match="SSLContext"):
        RemoteConnection("localhost", 7624, ssl="ca.pem")  # type: ignore[arg-type]
