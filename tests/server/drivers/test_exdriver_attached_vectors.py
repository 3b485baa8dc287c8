"""Shared BLOBs end to end, vectors and timing: a fake C driver (a Python script on a Unix-socket
stdout, ``shared_blobs=True``) sends setBLOBVectors whose attached members' memfds come in one
sendmsg or several, with inline members among them; large ones are converted over many loop
iterations (``blobs.attached``), during which what the driver sends next must wait, and the
driver dying or the server stopping must leave no memfd open.

How indilib itself sends several BLOBs of one vector is in docs/interoperability.rst.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serverkit import SCRIPT_WAIT_FOR
from serverkit import RawClient
from serverkit import attached_member
from serverkit import open_memfds as memfds
from serverkit import running
from waiting import until

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import text_element
from indipyserver import IPyServer
from indipyserver.blobs import attached as attachedblobs
from indipyserver.drivers import executable as exdriver_module
from indipyserver.drivers.executable import ExDriverConnection

# argv[1]: JSON {"sizes": [payload size per memfd], "sends": [[text, [memfd indices]], ...],
# "later": text sent when a newTextVector NEXT arrives, "exit": exit after the sends}.
# Payload i is random.Random(i).randbytes(size), so the test can rebuild it.
DRIVER = textwrap.dedent(
    """
    import array, json, os, random, socket, sys
    spec = json.loads(sys.argv[1])
    out = socket.socket(fileno=1)
    # wait_for
    fds = []
    for i, size in enumerate(spec["sizes"]):
        fd = os.memfd_create("shm_anon", os.MFD_CLOEXEC)
        os.write(fd, random.Random(i).randbytes(size))
        os.ftruncate(fd, (size >> 20) + 1 << 20)  # rounded up to whole MiB, as indilib does
        fds.append(fd)
    wait_for(b"getProperties")
    out.sendall(b"<defBLOBVector device='Fake' name='CCD' state='Idle' perm='ro'>"
                b"<defBLOB name='A'/><defBLOB name='B'/><defBLOB name='C'/><defBLOB name='X'/>"
                b"<defBLOB name='Z'/></defBLOBVector>\\n"
                b"<defTextVector device='Fake' name='GO' state='Idle' perm='rw'>"
                b"<defText name='GO'/></defTextVector>\\n")
    wait_for(b"<newTextVector")
    for text, which in spec["sends"]:
        rights = array.array("i", [fds[i] for i in which]).tobytes()
        out.sendmsg([text.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)] if which else [])
    for fd in fds:
        os.close(fd)  # the server holds its own copies
    if spec.get("exit"):
        sys.exit(0)
    wait_for(b"<newTextVector")
    out.sendall(spec["later"].encode())
    wait_for(b"never")
    """
).replace("# wait_for\n", SCRIPT_WAIT_FOR)

GO = "<newTextVector device='Fake' name='GO'><oneText name='GO'>go</oneText></newTextVector>"
DONE = "<message device='Fake' message='done'/>\n"


def payload(i: int, size: int) -> bytes:
    return random.Random(i).randbytes(size)


def attached(name: str, size: int) -> str:
    """An attached member (serverkit.attached_member), on a line of its own."""
    return "  " + attached_member(name, size) + "\n"


def inline(name: str, data: bytes) -> str:
    """A member holding `data` inline: its base64 on one line, with ``enclen``."""
    b64 = base64.b64encode(data).decode()
    attrs = "".join(attribute(key, value) for key, value in (
        ("name", name), ("size", str(len(data))), ("format", ".bin"), ("enclen", str(len(b64)))))
    return "  " + text_element("oneBLOB", attrs, b64, "\n")


#: A member of size 0 as indilib writes one (a state change only): inline, never attached.
EMPTY = "  <oneBLOB\n    name='Z'\n    size='0'\n    enclen='0'\n    format='.fits'>\n  </oneBLOB>\n"


def vector(*members: str) -> str:
    return ("<setBLOBVector\n  device='Fake'\n  name='CCD'\n  state='Ok'\n>\n" + "".join(members)
            + "</setBLOBVector>\n")


def members_of(frame: Frame) -> dict[str, tuple[dict[str, str], bytes]]:
    """Each oneBLOB of a received vector: its attributes and decoded value (one line)."""
    out = {}
    for m in re.finditer(rb"<oneBLOB([^>]*)>(.*?)</oneBLOB>", frame.data, re.DOTALL):
        (head,) = Framer().feed(b"<oneBLOB" + m.group(1) + b"/>")
        assert isinstance(head, Frame)
        body = m.group(2).strip()
        assert b"\n" not in body
        out[head.attrs["name"]] = (head.attrs, base64.b64decode(body, validate=True))
    return out


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[attachedblobs.AttachedBlobs]]:
    """The AttachedBlobs of the drivers started in the test."""
    made: list[attachedblobs.AttachedBlobs] = []

    class Recording(attachedblobs.AttachedBlobs):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(exdriver_module, "AttachedBlobs", Recording)
    yield made


def serve(tmp_path: Path, spec: dict[str, Any], **options: Any) -> tuple[
    ExDriverConnection, IPyServer
]:
    script = tmp_path / "fake_c_driver.py"
    script.write_text(DRIVER)
    conn = ExDriverConnection(sys.executable, str(script), json.dumps(spec), shared_blobs=True,
                              **options)
    return conn, IPyServer(conn, port=0, handle_signals=False)


async def go(port: int) -> RawClient:
    client = await RawClient.connect(port)
    await client.send("<getProperties version='1.7'/><enableBLOB device='Fake'>Also</enableBLOB>")
    await client.wait_for("defTextVector", name="GO")
    await client.send(GO)
    return client


async def converting(captured: list[attachedblobs.AttachedBlobs], timeout: float) -> None:
    """Wait until the first driver's AttachedBlobs is converting a BLOB."""
    await until(lambda: captured and captured[0].converting, timeout,
                "the first driver's AttachedBlobs converting", interval=0)


def two_slow_blobs(monkeypatch: pytest.MonkeyPatch, **spec: Any) -> dict[str, Any]:
    """A driver's spec (with `spec` added) sending one vector of two attached BLOBs, 2 MB and
    1 MB, converted 192 bytes a step: thousands of loop iterations, for a test to act between."""
    monkeypatch.setattr(attachedblobs, "STEP", 3 * 64)
    sizes = [2_000_000, 1_000_000]
    return {"sizes": sizes, "sends": [[vector(attached("A", sizes[0]), attached("B", sizes[1])),
                                       [0, 1]]], **spec}


SMALL = [3000, 5001, 7002]  # converted at once, in the read
LARGE = [300_000, 1_000_001, 250_002]  # more than a step: converted over many iterations


def sends(mode: str, sizes: list[int]) -> list[list[Any]]:
    a, b, c = (attached(n, s) for n, s in zip("ABC", sizes, strict=True))
    if mode == "one sendmsg":  # indilib's driverio: the element, its ping and every fd at once
        return [[vector(a, b, c) + "<pingRequest uid='SetBLOB/1'/>\n" + DONE, [0, 1, 2]]]
    if mode == "fd with its member":  # as driverio flushing early: each fd with the text so far
        text = vector(a, b, c) + DONE
        cuts = [text.index('attached="true">', text.index(f'name="{n}"')) + 16 for n in "AB"]
        return [[text[: cuts[0]], [0]], [text[cuts[0] : cuts[1]], [1]], [text[cuts[1] :], [2]]]
    if mode == "fds first":  # every fd with the first bytes of the element
        text = vector(a, b, c) + DONE
        return [[text[:10], [0, 1, 2]], [text[10:], []]]
    assert mode == "inline among attached"
    return [[vector(a, inline("X", payload(9, 100)), EMPTY, c) + DONE, [0, 2]]]


@pytest.mark.parametrize("sizes", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize(
    "mode", ["one sendmsg", "fd with its member", "fds first", "inline among attached"]
)
async def test_each_member_of_a_vector_arrives_whole(
    tmp_path: Path, mode: str, sizes: list[int]
) -> None:
    _, server = serve(tmp_path, {"sizes": sizes, "sends": sends(mode, sizes)})
    async with running(server) as srv:
        client = await go(srv.port)
        await client.wait_for("message", message="done", timeout=20)
        (frame,) = [f for f in client.frames if f.tag == "setBLOBVector"]
        got = members_of(frame)
        if mode == "inline among attached":
            # 0 and 2 are the fds sent, for A and C in document order; B is not in this vector.
            expected = {"A": payload(0, sizes[0]), "X": payload(9, 100), "Z": b"",
                        "C": payload(2, sizes[2])}
            assert list(got) == ["A", "X", "Z", "C"]
            assert got["X"][0]["enclen"] == str(len(base64.b64encode(payload(9, 100))))
            assert got["Z"][0]["size"] == "0"
        else:
            expected = {n: payload(i, s) for i, (n, s) in enumerate(zip("ABC", sizes, strict=True))}
            assert list(got) == ["A", "B", "C"]
        assert {n: v for n, (_, v) in got.items()} == expected
        for name in "AC":
            attrs = got[name][0]
            assert "attached" not in attrs and "enclen" not in attrs
            assert attrs["len"] == attrs["size"] == str(len(expected[name]))
        assert memfds() == []
    assert memfds() == []


async def test_what_the_driver_sends_after_a_large_blob_waits_for_it(
    tmp_path: Path, captured: list[attachedblobs.AttachedBlobs], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachedblobs, "STEP", 3 * 64)  # 1 MB: thousands of loop iterations
    size = 1_000_000
    spec = {
        "sizes": [size],
        "sends": [[vector(attached("A", size)) + "<message device='Fake' message='same read'/>\n",
                   [0]]],
        "later": "<message device='Fake' message='later read'/>\n",
    }
    _, server = serve(tmp_path, spec)
    async with running(server) as srv:
        client = await go(srv.port)
        await converting(captured, 10)
        # The driver answers this at once; its answer must still come after the BLOB.
        await client.send("<newTextVector device='Fake' name='GO'><oneText name='GO'>next"
                          "</oneText></newTextVector>")
        assert captured[0].converting
        await client.wait_for("message", message="later read", timeout=20)
        tags = [(f.tag, f.attrs.get("message")) for f in client.frames
                if f.tag in ("setBLOBVector", "message")]
        assert tags == [("setBLOBVector", None), ("message", "same read"),
                        ("message", "later read")]
        (frame,) = [f for f in client.frames if f.tag == "setBLOBVector"]
        assert members_of(frame)["A"][1] == payload(0, size)


async def test_driver_dying_mid_conversion_leaves_no_memfd(
    tmp_path: Path, captured: list[attachedblobs.AttachedBlobs], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = two_slow_blobs(monkeypatch, exit=True)
    sizes = spec["sizes"]
    conn, server = serve(tmp_path, spec, max_restarts=0)
    async with running(server) as srv:
        client = await go(srv.port)
        await converting(captured, 20)
        async with asyncio.timeout(20):
            process = conn._process
            assert process is not None
            await process.wait()  # the driver is dead ...
            assert captured[0].converting  # ... while its BLOB is still being converted
            await until(lambda: conn.exited_for_good, what="the driver to exit for good")
        assert memfds() == []
        # What it sent before dying is passed on whole: the data was in the server's hands.
        frame = await client.wait_for("setBLOBVector", timeout=20)
        got = members_of(frame)
        assert got["A"][1] == payload(0, sizes[0]) and got["B"][1] == payload(1, sizes[1])


async def test_server_stopping_mid_conversion_leaves_no_memfd(
    tmp_path: Path, captured: list[attachedblobs.AttachedBlobs], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = two_slow_blobs(monkeypatch, later="")
    _, server = serve(tmp_path, spec)
    async with running(server) as srv:
        await go(srv.port)
        await converting(captured, 20)
        assert memfds()  # the two memfds, held while converting
    assert not captured[0].converting
    assert memfds() == []
