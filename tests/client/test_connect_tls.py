"""The client library over TLS: ``indipyclient.connect(..., ssl=SSLContext)`` against our server's
TLS port (issue 60 item 6)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
from pathlib import Path

import pytest
from serverkit import Gadget
from serverkit import make_gadget
from serverkit import running
from serverkit import send_blob
from serverkit import server
from tlskit import Pki

import indipyclient
from indipyclient.model.events import setBLOBVector
from indipycore.tls import client_context
from indipyserver import IPyServer


def tls_gadget_server(pki: Pki, driver: Gadget) -> IPyServer:
    srv = server(driver)
    srv.listen_tls(0, pki.server_cert, pki.server_key, client_ca=pki.ca)
    return srv


def context(pki: Pki, name: str = "operator", ca: Path | None = None) -> ssl.SSLContext:
    cert, key = pki.client(name)
    return client_context(str(ca or pki.ca), str(cert), str(key))


async def test_connect_over_tls_reads_sets_and_receives_a_large_blob_whole(
    tls_pki: Pki, tmp_path: Path,
) -> None:
    """With ``ssl=`` the client verifies the server, presents its certificate (the server
    knows it by its CN), reads the definitions, sets a value and gets the driver's answer, and
    receives a 6 MB BLOB byte for byte (large reads into the client's pooled buffers, through
    asyncio's TLS transport)."""
    driver = make_gadget()
    payload = os.urandom(6 * 1024 * 1024)
    async with running(tls_gadget_server(tls_pki, driver)) as srv, indipyclient.connect(
            "localhost", srv.tls_port, blobfolder=tmp_path, ssl=context(tls_pki)) as client:
        await client.wait_for("Gadget", "VALUE", timeout=10)
        result = await client.set("Gadget", "VALUE", {"V": 12}, wait=True, timeout=10)
        assert str(result.state) in ("Ok", "State.OK") and client.get("Gadget", "VALUE",
                                                                    "V") == 12
        assert [c.identity for c in srv.clients] == ["operator"]
        await client.send_enableBLOB("Also", "Gadget")
        async with client.events() as stream, asyncio.timeout(60):
            await send_blob(driver, payload)
            async for event in stream:
                if isinstance(event, setBLOBVector):
                    break
        saved = Path(event.filenames["I"])
        assert hashlib.sha256(saved.read_bytes()).digest() == hashlib.sha256(
            payload).digest()


async def test_a_server_whose_certificate_does_not_verify_is_refused_saying_why(
    tls_pki: Pki,
) -> None:
    """A server certificate our CA file did not sign: entering ``connect`` raises
    ConnectionError with the reason; nothing is read from that server."""
    async with running(tls_gadget_server(tls_pki, make_gadget())) as srv:
        with pytest.raises(ConnectionError, match="certificate verify failed"):
            async with indipyclient.connect("localhost", srv.tls_port, first_failure_ends=True,
                                            ssl=context(tls_pki, ca=tls_pki.stranger_ca)):
                pass
        assert not srv.clients


def test_ssl_takes_a_context() -> None:
    """``ssl=`` takes an ssl.SSLContext, not a file name (said at once)."""
    with pytest.raises(TypeError, match="SSLContext"):
        indipyclient.connect("localhost", 7625, ssl="ca.pem")
