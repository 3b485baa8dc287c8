"""Identities and the audit trail in a running server (issue 60, items 2 and 4).

The identity a client gets decides what the access rules grant it, so it is checked with real
peers: a TCP client is ``anonymous``; on the Unix socket the kernel says who runs the process at
the other end (processes run here as other users, one of them a uid without a name). The audit
trail is read as written: one JSON line per command, BLOB sizes not bytes; and when its disk
stops taking lines, commands are refused, never done unrecorded, and the count of those
refused reaches the file once it moves again.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import pwd
import signal
import socket
import stat
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from serverkit import Gadget
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from serverkit import send_blob
from serverkit import server
from waiting import until
from waiting import wait_for

from indipycore.protocol.events import BLOB
from indipycore.protocol.events import NewBLOBVector
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import Number
from indipycore.protocol.serialiser import serialise
from indipydriver import newNumberVector
from indipyserver.audit import AuditTrail
from indipyserver.clients.identity import ANONYMOUS


def _as_user(path: str, uid: int) -> int:
    """A process (forked: it needs nothing executable) run as `uid`, holding a connection
    to the Unix socket `path` until it is killed; its pid."""
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: no exception may escape into the test runner's copy
        os.setgroups([])
        os.setgid(65534)
        os.setuid(uid)
        sock = socket.socket(socket.AF_UNIX)
        sock.connect("\0" + path)
        sock.sendall(b'<getProperties version="1.7"/>')
        sock.settimeout(30)
        while sock.recv(65536):
            pass
    finally:
        os._exit(0)


def _no_such_uid() -> int:
    uid = 54321
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
        uid += 1


@pytest.mark.skipif(os.geteuid() != 0, reason="running clients as other users needs root")
async def test_identities_of_tcp_and_unix_clients() -> None:
    """TCP: anonymous, its peer host:port. Unix socket: unix:<user> of the process at the
    other end (root, nobody), unix:<uid> for a uid without a name; the peer is the socket."""
    path = f"/tmp/indipy-test-{uuid.uuid4().hex}"
    srv = server(make_gadget())
    srv.listen_unix(path)
    async with running(srv):
        tcp = await RawClient.connect(srv.port)
        await tcp.send(b'<getProperties version="1.7"/>')
        await tcp.round_trip()
        nameless = _no_such_uid()
        nobody = pwd.getpwnam("nobody").pw_uid
        children = [_as_user(path, nobody), _as_user(path, nameless), _as_user(path, 0)]
        try:
            expected = {(ANONYMOUS, "127.0.0.1"), ("unix:nobody", "@" + path),
                        (f"unix:{nameless}", "@" + path), ("unix:root", "@" + path)}

            def seen() -> set[tuple[str, str]]:
                return {(c.identity, c.peer.rsplit(":", 1)[0] if c.identity == ANONYMOUS
                         else c.peer) for c in srv.clients}

            await until(lambda: seen() == expected, 30, what=lambda: f"{seen()}")
            (anonymous,) = [c for c in srv.clients if c.identity == ANONYMOUS]
            assert anonymous.peer == f"127.0.0.1:{tcp.writer.get_extra_info('sockname')[1]}"
        finally:
            for child in children:
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)  # noqa: ASYNC222  # killed: reaped at once


class Counting(Gadget):
    """The gadget, counting the commands that reach it."""

    commands = 0

    async def rxevent(self, event: Any) -> None:
        if isinstance(event, newNumberVector):
            type(self).commands += 1
        await super().rxevent(event)


def _number(value: int) -> bytes:
    return serialise(NewNumberVector("Gadget", "VALUE", (Number("V", str(value)),)))


async def test_audit_lines_say_who_what_and_whether(tmp_path: Path) -> None:
    """One line per command: time in UTC, identity, peer, device, vector, values as sent, a
    BLOB's size and format instead of its bytes, and allowed True/False as the rules said."""
    acl = tmp_path / "acl"
    acl.write_text("anonymous read Gadget\n")
    audit = tmp_path / "audit.jsonl"
    srv = server(make_gadget(), acl=str(acl), audit=str(audit))
    async with running(srv):
        client = await RawClient.connect(srv.port)
        await client.send(b'<getProperties version="1.7"/>')
        await client.send(_number(7))
        payload = os.urandom(3000)
        await client.send(serialise(NewBLOBVector("Gadget", "IMAGE", (
            BLOB("I", payload, len(payload), ".fits"),))))
        await client.round_trip()
        acl.write_text("anonymous write Gadget.VALUE\n")
        assert srv.reload()
        await client.send(_number(8))
        await client.wait_for("setNumberVector", name="VALUE")
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["vector"], e["values"], e["allowed"]) for e in lines] == [
        ("VALUE", {"V": "7"}, False),
        ("IMAGE", {"I": {"size": 3000, "format": ".fits"}}, False),
        ("VALUE", {"V": "8"}, True)]
    for entry in lines:
        assert entry["identity"] == "anonymous" and entry["device"] == "Gadget"
        assert entry["peer"].startswith("127.0.0.1:")
        assert entry["time"].endswith("Z") and "T" in entry["time"]
    assert base64.b64encode(payload)[:40].decode() not in audit.read_text()


def test_a_full_queue_refuses_and_the_count_is_written_later(tmp_path: Path) -> None:
    """The trail's file is a pipe nobody reads (a disk that stopped): once the pipe and the
    queue are full, `record` says no (the server then refuses the command); when the pipe is
    read again, every entry taken is there, in order, and then a line counting the refused."""
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        trail = AuditTrail(fifo, queue_size=4)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        trail.start()
        taken = 0
        refused = 0
        entry = {"n": 0, "pad": "x" * 200}
        for n in range(2000):
            if trail.record({**entry, "n": n}):
                taken += 1
            else:
                refused += 1
        assert refused > 0 and taken > 0
        # A pipe holds 64 KiB: far fewer than 2000 lines of 220 bytes got through.
        assert taken < 1000
        got = bytearray()

        def drain() -> None:
            while chunk := os.read(reader, 1 << 16):
                got.extend(chunk)

        os.set_blocking(reader, True)
        thread = threading.Thread(target=drain, daemon=True)
        thread.start()
        def after() -> bool:
            nonlocal refused
            if trail.record({**entry, "n": "after"}):
                return True
            refused += 1  # the writer has not made room yet: refused, and counted, too
            return False

        wait_for(after, 15)
        trail.close()
        thread.join(10)
        lines = [json.loads(line) for line in got.decode().splitlines()]
        entries = [e["n"] for e in lines if "n" in e]
        notes = [e["refused_unrecorded"] for e in lines if "refused_unrecorded" in e]
        assert entries[:-1] == sorted(entries[:-1]) and len(entries) == taken + 1
        assert entries[-1] == "after" and lines[-1]["n"] == "after"  # nothing after it
        # Each refusal counted once, in lines before "after" (right before it, or before the
        # last entries taken when the last refusal came earlier).
        assert sum(notes) == refused
    finally:
        os.close(reader)


async def test_a_command_the_trail_cannot_record_is_not_done(tmp_path: Path) -> None:
    """Through the server: with the trail's disk stopped, commands past what it holds never
    reach the driver, and each such client is told why; the ones that reached the driver are
    exactly the ones the trail recorded."""
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    Counting.commands = 0
    driver = make_gadget()
    driver.__class__ = Counting  # the same gadget, counting
    got = bytearray()

    def drain() -> None:
        os.set_blocking(reader, True)
        while chunk := os.read(reader, 1 << 16):
            got.extend(chunk)

    try:
        srv = server(driver, audit=str(fifo), audit_queue=4)
        async with running(srv):
            client = await RawClient.connect(srv.port)
            await client.send(b'<getProperties version="1.7"/>')
            await client.send(b"".join(_number(n % 1000) for n in range(1500)))
            await client.round_trip(60)
            refusals = [f for f in client.frames if f.tag == "message"
                        and "audit trail" in f.attrs.get("message", "")]
            assert refusals
            await until(lambda: Counting.commands + len(refusals) >= 1500, 30,
                        what=lambda: f"{Counting.commands} commands, {len(refusals)} refused")
            thread = threading.Thread(target=drain, daemon=True)
            thread.start()
        thread.join(15)  # the trail is closed with the server: the pipe ends
        lines = [json.loads(line) for line in got.decode().splitlines()]
        entries = [line for line in lines if "refused_unrecorded" not in line]
        assert Counting.commands + len(refusals) == 1500
        assert len(entries) == Counting.commands
        assert all(line["allowed"] for line in entries)
        # Each refusal is counted in the trail, the last ones when it closes.
        assert sum(line.get("refused_unrecorded", 0) for line in lines) == len(refusals)
    finally:
        os.close(reader)


# An executable driver that defines Rec.N and appends everything it reads to argv[1]: its
# commands are those the round trip's shortcut could take.
RECORDER = f"#!{sys.executable}\n" + textwrap.dedent(
    """
    import os, sys
    DEF = (b'<defNumberVector device="Rec" name="N" state="Idle" perm="rw">'
           b'<defNumber name="x" format="%g" min="0" max="10" step="1">3</defNumber>'
           b'</defNumberVector>\\n')
    os.write(1, DEF)
    with open(sys.argv[1], "ab", buffering=0) as log:
        while data := os.read(0, 65536):
            log.write(data)
            if b"<getProperties" in data:
                os.write(1, DEF)
    """
)


@pytest.mark.parametrize("acl", [None, "anonymous write Rec\n"])
async def test_every_command_to_an_executable_driver_is_in_the_trail(
        tmp_path: Path, acl: str | None) -> None:
    """With an audit trail (with rules or without), commands alone in their reads to an
    executable driver -- the round trip's shortcut's kind -- each reach the driver and each
    have their line: the trail is written where the router decides, and no client's command
    goes round it."""
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    script.chmod(0o755)
    log, audit = tmp_path / "stdin.log", tmp_path / "audit.jsonl"
    options: dict[str, Any] = {"audit": str(audit)}
    if acl is not None:
        (tmp_path / "acl").write_text(acl)
        options["acl"] = str(tmp_path / "acl")
    srv = server(**options)
    srv.add_exdriver(str(script), str(log), max_restarts=0)
    sent = [serialise(NewNumberVector("Rec", "N", (Number("x", str(n)),))).strip()
            for n in range(5)]
    async with running(srv):
        client = await RawClient.connect(srv.port)
        await client.send(b'<getProperties version="1.7"/>')
        await client.wait_for("defNumberVector", device="Rec")
        for element in sent:  # each alone in its read: the next once the driver has it
            await client.send(element)
            await until(lambda e=element: log.exists() and e in log.read_bytes(), 10,
                        what=f"{element!r} to reach the driver")
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["vector"], e["values"], e["allowed"]) for e in lines] == [
        ("N", {"x": str(n)}, True) for n in range(5)]
    assert all(element in log.read_bytes() for element in sent)


async def test_sighup_reloads_a_server_that_handles_signals(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """`IPyServer(acl=..., handle_signals=True)` takes SIGHUP (not its default, which ends
    the process): a good file is in force at once, a malformed one is logged with its line and
    the rules before it stay."""
    acl = tmp_path / "acl"
    acl.write_text("anonymous read Nothing\n")
    fallback: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda *_: fallback.append(1))
    try:
        srv = server(make_gadget(), acl=str(acl), handle_signals=True)
        async with running(srv):
            client = await RawClient.connect(srv.port)
            await client.send(b'<getProperties version="1.7"/>')
            await client.round_trip()
            assert not any(f.attrs.get("device") == "Gadget" for f in client.frames)
            acl.write_text("anonymous read Gadget\n")
            with caplog.at_level(logging.INFO, "indipyserver.server"):
                os.kill(os.getpid(), signal.SIGHUP)
                await until(lambda: "access rules reloaded" in caplog.text, 10)
                await client.send(b'<getProperties version="1.7"/>')
                await client.wait_for("defNumberVector", device="Gadget")
                acl.write_text("anonymous read Gadget\nanonymous\n")
                os.kill(os.getpid(), signal.SIGHUP)
                await until(lambda: "line 2: expected 'read' or 'write'" in caplog.text, 10)
            client.frames.clear()
            await client.send(b'<getProperties version="1.7"/>')
            await client.wait_for("defNumberVector", device="Gadget")
        assert fallback == []
    finally:
        signal.signal(signal.SIGHUP, previous)


async def test_a_chained_server_is_a_client_with_an_identity(tmp_path: Path) -> None:
    """A server chained to one with rules connects as a client (anonymous over TCP): its own
    clients get only what that identity may read, and their commands the rules do not let it
    write are refused at the server that has the rules, the "permission denied" coming back
    up the chain."""
    acl = tmp_path / "acl"
    acl.write_text("anonymous read Sky\n")
    audit = tmp_path / "audit.jsonl"
    site = server(make_gadget("Gadget"), make_gadget("Sky"), acl=str(acl), audit=str(audit))
    async with running(site):
        hub = server()
        hub.add_remote("127.0.0.1", site.port)
        async with running(hub):
            client = await RawClient.connect(hub.port)
            await client.send(b'<getProperties version="1.7"/>')
            await client.wait_for("defNumberVector", device="Sky", name="VALUE")
            await client.send(serialise(NewNumberVector("Sky", "VALUE", (Number("V", "3"),))))
            told = await client.wait_for("message", device="Sky")
            assert told.attrs["message"] == "permission denied: anonymous may not set Sky.VALUE"
            await client.round_trip()
            assert {f.attrs.get("device") for f in client.frames if "device" in f.attrs} == {"Sky"}
    (entry,) = [json.loads(line) for line in audit.read_text().splitlines()]
    assert (entry["identity"], entry["device"], entry["allowed"]) == ("anonymous", "Sky", False)


async def test_blobs_reach_only_who_may_read_them_in_a_running_server(tmp_path: Path) -> None:
    """Both asked for BLOBs (enableBLOB Also); the anonymous TCP client, who may read only the
    gadget's VALUE, never gets its image, while the operator on the Unix socket does, and both
    get the VALUE set the driver sends after it (so the image had its turn)."""
    acl = tmp_path / "acl"
    acl.write_text(f"anonymous read Gadget.VALUE\nunix:{pwd.getpwuid(os.getuid()).pw_name} read *\n")
    path = f"/tmp/indipy-test-{uuid.uuid4().hex}"
    driver = make_gadget()
    srv = server(driver, acl=str(acl))
    srv.listen_unix(path, attached=False)
    async with running(srv):
        public = await RawClient.connect(srv.port)
        reader, writer = await asyncio.open_unix_connection("\0" + path)
        operator = RawClient(reader, writer)
        for client in (public, operator):
            await client.send(b'<getProperties version="1.7"/>'
                              b'<enableBLOB device="Gadget">Also</enableBLOB>')
            await client.wait_for("defNumberVector", device="Gadget", name="VALUE")
        await send_blob(driver, b"secret image" * 100)
        driver["Gadget"]["VALUE"]["V"] = 42
        await driver["Gadget"]["VALUE"].send_setVector()
        for client in (public, operator):
            await client.wait_for("setNumberVector", device="Gadget", name="VALUE")
        assert "setBLOBVector" in operator.tags()
        assert "setBLOBVector" not in public.tags()
        assert {f.attrs.get("name") for f in public.frames if f.tag.startswith("def")} == {"VALUE"}
        await operator.close()
