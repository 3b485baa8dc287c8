"""Malformed XML from an executable driver or a remote server never reaches the clients.

The server passes drivers' elements on byte for byte, so one with a member closed by the wrong
tag, a repeated attribute or an undefined entity would break every client's parser (indilib's
clients print "Bad XML" and drop the connection). Each element read from a peer is checked
(``wellformed.plain_update``, expat for anything else): a malformed one is dropped with a
warning naming the peer and the error, and the peer and everything else it sends go on.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
from serverkit import RawClient
from serverkit import running

from indipycore.protocol.wellformed import xml_error
from indipyserver import IPyServer

GOOD = [
    b'<defTextVector device="Fake" name="T" state="Idle" perm="ro">'
    b'<defText name="t">start</defText></defTextVector>',
    b'<setTextVector device="Fake" name="T" state="Ok"><oneText name="t">good 1</oneText>'
    b"</setTextVector>",
    b'<setTextVector device="Fake" name="T" state="Ok"><oneText name="t">good 2</oneText>'
    b"</setTextVector>",
    b'<message device="Fake" message="good 3"/>',
]
BAD = [
    b'<setTextVector device="Fake" name="T"><oneText name="t">a</oneNumber></setTextVector>',
    b'<setTextVector device="Fake" name="T" state="Ok" state="Alert"><oneText name="t">b'
    b"</oneText></setTextVector>",
    b'<setTextVector device="Fake" name="T"><oneText name="t">&undefined;</oneText>'
    b"</setTextVector>",
    b'<message device="Fake" message="a &amp b"/>',
]
# What the peer writes: alone in a read (the round trip's shortcut, ``fastpath.shortcut``) and several in
# one write (the general path); the last good element ends the test.
WRITES = [GOOD[0], BAD[0], GOOD[1], BAD[1] + b"\n" + BAD[2] + b"\n" + GOOD[2], BAD[3], GOOD[3]]


def check_client_stream(client: RawClient) -> None:
    assert not client.errors
    texts = [f.data for f in client.frames if f.attrs.get("device") == "Fake"]
    assert texts == GOOD, texts
    for frame in client.frames:
        assert xml_error(frame.data) is None, frame.data


async def serve_and_check(server: IPyServer) -> None:
    """Run `server`, take everything its peer sends up to the last good element, and check
    that a client got the good elements only."""
    async with running(server):
        client = await RawClient.connect(server.port)
        await client.send('<getProperties version="1.7"/>')
        await client.wait_for("message", timeout=10)  # the peer's last element: all is in
        check_client_stream(client)


def check_log(text: str, peer: str) -> None:
    for tag, why in (("setTextVector", "mismatched tag"), ("setTextVector", "duplicate attribute"),
                     ("setTextVector", "undefined entity"), ("message", "not well-formed")):
        assert f"sent a malformed <{tag}> ({why}" in text, text
    assert text.count(peer) >= 4


async def test_an_executable_drivers_malformed_elements_are_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script = tmp_path / "fake_driver.py"
    script.write_text(
        "import os, sys, time\n"
        "sys.stdin.buffer.read1(65536)\n"  # the server's getProperties
        f"for data in {WRITES!r}:\n"
        "    os.write(1, data + b'\\n')\n"
        "    time.sleep(0.05)\n"  # paced so most are read alone; the test waits for the last
        "sys.stdin.buffer.read()\n"
    )
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    server.add_exdriver(sys.executable, str(script))
    with caplog.at_level(logging.WARNING):
        await serve_and_check(server)
    check_log(caplog.text, str(script))


async def test_a_remote_servers_malformed_elements_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writers: list[asyncio.StreamWriter] = []

    async def fake_remote(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(65536)  # the chained server's getProperties
        for data in WRITES:
            writer.write(data + b"\n")
            await writer.drain()
            await asyncio.sleep(0.05)  # paced so most are read alone; the test waits for the last
        await reader.read()

    remote = await asyncio.start_server(fake_remote, "127.0.0.1", 0)
    port = remote.sockets[0].getsockname()[1]
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    server.add_remote("127.0.0.1", port)
    try:
        with caplog.at_level(logging.WARNING):
            await serve_and_check(server)
    finally:
        remote.close()
        for writer in writers:
            writer.close()
        await remote.wait_closed()
    check_log(caplog.text, f"127.0.0.1:{port}")
