"""The client against a misbehaving server: a raw asyncio TCP server in the test plays the peer.

Protects: garbage, an endless element and a close in the middle of an element are logged and
skipped, and the client goes on (learns what comes after, reconnects); a 50 MB BLOB arrives
whole in the folder; a ``.z`` BLOB is saved decompressed; a ``pingRequest`` is answered with
its uid; an unreachable server is retried with growing delays and found once it is up; a
program that reads events slowly loses old events (counted), never memory.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from peers import free_port
from rawpeer import raw_server
from rawpeer import read_until
from rawpeer import stay_connected
from waiting import until

import indipyclient
from indipyclient import ConnectionLost
from indipyclient import ConnectionMade
from indipyclient import ExponentialBackoff
from indipyclient import setBLOBVector

DEF_TEXT = (b'<defTextVector device="Dev" name="TEXT" state="Idle" perm="rw">'
            b'<defText name="t">start</defText></defTextVector>\n')
DEF_BLOB = (b'<defBLOBVector device="Dev" name="IMAGE" state="Idle" perm="ro">'
            b'<defBLOB name="img"/></defBLOBVector>\n')


def set_blob(data: bytes, fmt: str, size: int | None = None) -> bytes:
    body = base64.b64encode(data)
    size = len(data) if size is None else size
    return (b'<setBLOBVector device="Dev" name="IMAGE" state="Ok"><oneBLOB name="img" size="'
            + str(size).encode() + b'" format="' + fmt.encode() + b'">' + body
            + b"</oneBLOB></setBLOBVector>\n")


async def test_garbage_is_skipped_and_what_follows_is_learnt(
        caplog: pytest.LogCaptureFixture) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"getProperties")
        writer.write(b"\x00\xff garbage <<>> &&& </nothing> <setTextVector device='x'>"
                     b"<oneText></setTextVector>\n<defNumberVector device='Dev' name='N' "
                     b"state='Bogus' perm='rw'><defNumber name='n' format='%g' min='0' "
                     b"max='1' step='0'>0</defNumber></defNumberVector>\n" + DEF_TEXT)
        await stay_connected()

    async with raw_server(script) as port, indipyclient.connect("127.0.0.1", port) as client:
        vector = await client.wait_for("Dev", "TEXT", timeout=5)
        assert vector["t"] == "start"
        assert "N" not in client["Dev"]
        assert client.connected
    assert "malformed" in caplog.text


async def test_an_endless_element_is_dropped_with_bounded_memory_and_the_client_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"getProperties")
        writer.write(b'<setTextVector device="Dev" name="TEXT"><oneText name="t">')
        for _ in range(40):
            writer.write(b"x" * 100_000)
            await writer.drain()
        writer.write(b"</oneText></setTextVector>\n" + DEF_TEXT)
        await stay_connected()

    options = {"max_element_size": 1_000_000}
    async with raw_server(script) as port, \
            indipyclient.connect("127.0.0.1", port, **options) as client:
        vector = await client.wait_for("Dev", "TEXT", timeout=10)
        assert vector["t"] == "start"
    assert "malformed" in caplog.text


async def test_a_close_in_the_middle_of_an_element_is_a_lost_connection() -> None:
    connections = 0

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_until(reader, b"getProperties")
        if connections == 1:
            writer.write(DEF_TEXT + b'<setTextVector device="Dev" name="TEXT"><oneText na')
            await writer.drain()
            return  # closes
        writer.write(DEF_TEXT)
        await stay_connected()

    fast = ExponentialBackoff(0.05, 0.1, jitter="equal")
    async with raw_server(script) as port, \
            indipyclient.connect("127.0.0.1", port, backoff=fast) as client:
        kinds = []
        async with client.events() as stream, asyncio.timeout(10):
            async for event in stream:
                kinds.append(type(event))
                if isinstance(event, ConnectionLost):
                    assert len(client.devices) == 0
                if ConnectionMade in kinds and len(client.devices) == 1 and kinds.count(
                        indipyclient.defTextVector) == 2:
                    break
        assert ConnectionLost in kinds
        assert client["Dev"]["TEXT"]["t"] == "start"


async def test_a_50_mb_blob_arrives_whole_and_pings_are_answered(tmp_path: Path) -> None:
    payload = bytes(range(256)) * (50 * 1024 * 1024 // 256)
    replies: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"getProperties")
        writer.write(DEF_BLOB)
        seen = await read_until(reader, b"</enableBLOB>")
        assert b"Also" in seen
        writer.write(set_blob(payload, ".fits") + b'<pingRequest uid="SetBLOB/1"/>\n')
        await writer.drain()
        replies.append(await read_until(reader, b"pingReply"))
        await stay_connected()

    async with raw_server(script) as port, \
            indipyclient.connect("127.0.0.1", port, blobfolder=tmp_path) as client:
        async with client.events() as stream, asyncio.timeout(60):
            async for event in stream:
                if isinstance(event, setBLOBVector):
                    break
        saved = Path(event.filenames["img"])
        assert saved.parent == tmp_path
        assert hashlib.sha256(saved.read_bytes()).digest() == hashlib.sha256(payload).digest()
        assert client["Dev"]["IMAGE"].member("img").value is None  # the body is not kept
        await until(lambda: replies, 10, what="the client's pingReply")
    assert b'<pingReply uid="SetBLOB/1"/>' in replies[0]


async def test_a_zlib_blob_is_saved_decompressed_under_a_safe_name(tmp_path: Path) -> None:
    text = b"reading,temperature\n" * 1000

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"getProperties")
        evil = DEF_BLOB.replace(b'"Dev"', b'"../../Dev"')
        writer.write(evil)
        await read_until(reader, b"</enableBLOB>")
        blob = set_blob(zlib.compress(text), "/../.csv.z", size=len(text))
        writer.write(blob.replace(b'"Dev"', b'"../../Dev"'))
        await stay_connected()

    folder = tmp_path / "inside"
    folder.mkdir()
    async with raw_server(script) as port, \
            indipyclient.connect("127.0.0.1", port, blobfolder=folder) as client, \
            client.events() as stream, asyncio.timeout(10):
        async for event in stream:
            if isinstance(event, setBLOBVector):
                break
    assert event["img"] == text
    (saved,) = folder.iterdir()
    assert saved.read_bytes() == text
    assert saved.suffix == ".csv" and ".." not in saved.name, saved.name
    assert list(tmp_path.iterdir()) == [folder]


async def test_an_unreachable_server_is_retried_with_growing_delays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each failed attempt is logged with the delay before the next, and the delays grow
    (0.05, 0.1, 0.2, then capped at 0.4) instead of hammering the port; once a server listens,
    the next attempt connects. Read from the log in order, not counted in a time window."""
    port = free_port()
    backoff = ExponentialBackoff(0.05, 0.4)
    client = indipyclient.connect("127.0.0.1", port, backoff=backoff, connect_timeout=None)

    def delays() -> list[str]:
        return [r.getMessage().rsplit("retrying in ", 1)[1] for r in caplog.records
                if "retrying in" in r.getMessage()]

    with caplog.at_level(logging.INFO, logger="indipyclient"):
        async with client:
            await until(lambda: len(delays()) >= 5, what="five failed attempts")
            assert delays()[:5] == ["0.05 s", "0.10 s", "0.20 s", "0.40 s", "0.40 s"]

            async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                await read_until(reader, b"getProperties")
                writer.write(DEF_TEXT)
                await stay_connected()

            async with raw_server(serve, port):
                failed = len(delays())
                await client.wait_for("Dev", "TEXT", timeout=5)
                # At most the attempt already under way when the server came up failed.
                assert len(delays()) <= failed + 1, delays()


async def test_connect_raises_when_the_server_cannot_be_reached() -> None:
    with pytest.raises(ConnectionError, match="could not connect"):
        async with indipyclient.connect("127.0.0.1", free_port(), connect_timeout=0.3):
            pass


async def test_a_slow_reader_loses_old_events_not_memory() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"getProperties")
        writer.write(DEF_TEXT + b"".join(
            b'<setTextVector device="Dev" name="TEXT"><oneText name="t">'
            + str(i).encode() + b"</oneText></setTextVector>\n" for i in range(500)))
        await stay_connected()

    async with raw_server(script) as port, indipyclient.connect("127.0.0.1", port) as client:
        stream = client.events(maxsize=20)
        await until(lambda: "Dev" in client and client.get("Dev", "TEXT", "t") == "499", 10,
                    what="the 500th set applied")
        assert stream.dropped >= 400
        assert len(stream._items) <= 20
        events = [event async for event in _drain(stream)]
        assert events[-1]["t"] == "499"


async def _drain(stream: indipyclient.EventStream) -> AsyncIterator[indipyclient.setVector]:
    stream.close()
    async for event in stream:
        yield event  # type: ignore[misc]


async def test_large_blobs_stream_z_decompressed_to_file_or_to_memory(tmp_path: Path) -> None:
    """BLOBs over 64 KiB are received in pieces: a .z one is decompressed as it arrives, and
    without a folder the bytes are in the event."""
    payload = hashlib.sha256(b"seed").digest() * 40_000  # 1.28 MB, incompressible
    packed = zlib.compress(payload)

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"getProperties")
        writer.write(DEF_BLOB)
        await read_until(reader, b"</enableBLOB>")
        writer.write(set_blob(packed, ".bin.z", size=len(payload)))
        await stay_connected()

    for folder in (tmp_path, None):
        async with raw_server(script) as port, \
                indipyclient.connect("127.0.0.1", port, blobfolder=folder) as client:
            if folder is None:
                await client.wait_for("Dev", "IMAGE", timeout=5)
                await client.send_enableBLOB("Also", "Dev")
            async with client.events() as stream, asyncio.timeout(10):
                async for event in stream:
                    if isinstance(event, setBLOBVector):
                        break
        assert event["img"] == payload
        assert event.sizeformat["img"] == (len(payload), ".bin.z")
        if folder is not None:
            (saved,) = folder.iterdir()
            assert saved.suffix == ".bin" and saved.read_bytes() == payload
        else:
            assert event.filenames == {}


async def test_a_server_gone_in_the_middle_of_a_blob_leaves_no_file(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"getProperties")
        writer.write(DEF_BLOB)
        await read_until(reader, b"</enableBLOB>")
        blob = set_blob(payload, ".fits")
        writer.write(blob[: len(blob) // 2])
        await writer.drain()  # half a BLOB in the kernel's buffers, then the close after it

    fast = ExponentialBackoff(5, 5, jitter="equal")
    async with raw_server(script) as port, \
            indipyclient.connect("127.0.0.1", port, blobfolder=tmp_path, backoff=fast) as client, \
            client.events() as stream, asyncio.timeout(10):
        async for event in stream:
            assert not isinstance(event, setBLOBVector)
            if isinstance(event, ConnectionLost):
                break
    assert list(tmp_path.iterdir()) == []


async def test_an_unanswered_set_times_out_and_gives_vector_timeout() -> None:
    """A driver that never answers: set(wait=True) returns timed_out with the vector Busy, and
    the events stream gets VectorTimeOut (0.9.4's TimeOut) once the vector's time is up."""
    sent: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"getProperties")
        writer.write(b'<defNumberVector device="Dev" name="N" state="Idle" perm="rw" '
                     b'timeout="0"><defNumber name="n" format="%g" min="0" max="10" step="1">'
                     b"1</defNumber></defNumberVector>\n")
        sent.append(await read_until(reader, b"</newNumberVector>"))
        await stay_connected()

    async with raw_server(script) as port, indipyclient.connect("127.0.0.1", port) as client:
        client.connection.timeout_min = 0.3
        await client.wait_for("Dev", "N", state="Idle", timeout=5)
        async with client.events() as stream:
            result = await client.set("Dev", "N", {"n": "7"}, timeout=0.2)
            assert result.timed_out and not result.ok and result.state == "Busy"
            assert client["Dev"]["N"].state == "Busy"
            async with asyncio.timeout(5):
                async for event in stream:
                    if isinstance(event, indipyclient.VectorTimeOut):
                        break
        assert (event.eventtype, event.devicename, event.vectorname) == ("TimeOut", "Dev", "N")
    assert b'<oneNumber name="n">7.0</oneNumber>' in sent[0]
