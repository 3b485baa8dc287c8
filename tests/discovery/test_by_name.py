"""Where a front end takes a host, a discovered server's name works (issue 73 item 2): PyIndi's
``setServer`` and the bridges' INDI link connect to our indipyserver, announcing itself on lo,
by the service name ``indipy-discover`` lists; an unknown name fails with the names found, and
a host name or address is used as it is, without a listing."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest
from discoverykit import Avahi
from peers import OurServer

from indipycore.protocol import Frame
from indipydiscovery.announce import instance_name
from indipydiscovery.hostname import ServiceNotFound
from indipydiscovery.hostname import looks_like_host
from indipydiscovery.hostname import server_address
from indiredis.indilink import IndiLink
from PyIndi import BaseClient


class Client(BaseClient):
    """A pyindi-client program that counts the devices it is told of."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.seen = threading.Event()

    def newDevice(self, device: object) -> None:
        self.names.append(device.getDeviceName())  # type: ignore[attr-defined]
        self.seen.set()


def test_pyindi_connects_by_service_name_and_names_what_it_found_otherwise(
        avahi: Avahi, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``setServer("HOST INDI PORT", 0)``: connectServer finds the announced server and its
    Thermostat arrives (the port given is ignored: the service's is used); a name nobody
    announces: connectServer returns False and the log names the server that was found."""
    server = OurServer("--demo", workdir=tmp_path)
    with server:
        name = instance_name("INDI", server.port)
        client = Client()
        client.setServer(name, 0)
        try:
            assert client.connectServer()
            assert client.seen.wait(20), "no device from the server found by name"
            assert "Thermostat" in client.names and client.getHost() == name
        finally:
            client.disconnectServer()
        caplog.set_level(logging.ERROR, logger="PyIndi.baseclient")
        other = Client()
        other.setServer("nobody INDI 1", 7624)
        assert not other.connectServer()
        assert "no server called 'nobody INDI 1'" in caplog.text
        assert repr(name) in caplog.text, caplog.text


def test_a_bridge_link_connects_by_service_name_and_retries_an_unknown_one(
        avahi: Avahi, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The bridges' IndiLink given the service name as its host reads the server's
    definitions; given a name nobody announces it says which names were found and keeps
    trying (the link does not end)."""
    caplog.set_level(logging.INFO, logger="indiredis.indilink")
    server = OurServer("--demo", workdir=tmp_path)
    with server:
        name = instance_name("INDI", server.port)

        async def run() -> None:
            frames: list[Frame] = []

            async def got(batch: list[Frame]) -> None:
                frames.extend(batch)

            link = IndiLink(name, 1, got)
            lost = IndiLink("nobody INDI 1", 1, got)
            tasks = [asyncio.create_task(link.run()), asyncio.create_task(lost.run())]
            try:
                for _ in range(400):
                    if any(b"Thermostat" in f.data for f in frames) and \
                            "no server called 'nobody INDI 1'" in caplog.text:
                        break
                    await asyncio.sleep(0.05)
                assert any(b"Thermostat" in f.data for f in frames), "nothing read by name"
                assert not tasks[1].done()  # still trying
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run(run())
    assert f"connected to INDI server 127.0.0.1:{server.port} ({name})" in caplog.text
    assert "cannot connect to INDI server nobody INDI 1:1" in caplog.text
    assert repr(name) in caplog.text


def test_a_host_name_or_address_is_kept_without_a_listing() -> None:
    """Addresses, ``localhost``, ``localhost:PATH`` and names this machine resolves come back
    as given, at once; a service-like name is never taken for a host name; with no listing to
    find it in, the error names it."""
    for host in ("127.0.0.1", "::1", "localhost", "localhost:/tmp/indi.sock"):
        assert looks_like_host(host)
        where = asyncio.run(server_address(host, 7624))
        assert (where.host, where.port, where.service) == (host, 7624, None)
    for name in ("pi INDI 7624", "", "a..b", "-pi", "x" * 254):
        assert not looks_like_host(name)
    with pytest.raises(ServiceNotFound, match="no server called 'nobody INDI 2'"):
        asyncio.run(server_address("nobody INDI 2", 7624, timeout=0.5))
