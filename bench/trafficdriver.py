#!/usr/bin/env python3
"""Traffic-generator INDI executable driver for the benchmarks (standard library and the
repository's protocol core, whose serialiser writes its elements).

Speaks INDI on stdin/stdout like any executable driver, so indilib's ``indiserver`` and
``indipyserver`` can both launch it by path; with ``--listen-fd FD`` it serves the first client
of the inherited listening socket FD itself, as a device speaking INDI on TCP does.  Device
``Bench`` defines:

* ``BENCH_CONTROL``  text vector (rw), member ``cmd``: the benchmark client writes commands here;
* ``BENCH_STATUS``   text vector (ro), member ``status``: ``ready <id>`` / ``done <id>`` replies;
* ``NUM``            number vector (rw), member ``v``: burst stream and echo (round trip);
* ``BLOB``           BLOB vector (ro), member ``data``;
* ``EXTRA_0000`` ... ``N`` extra number vectors when ``BENCH_EXTRA=N`` is set in the environment.

Commands (``cmd`` text, space separated ``key=value``):

* ``prepare id=ID kind=num count=N``  pre-encodes N setNumberVector messages;
* ``prepare id=ID kind=blob count=N size=BYTES style=libindi|oneline ping=0|1``
  pre-encodes one setBLOBVector (BYTES decoded) sent N times.  ``libindi``: base64 wrapped at
  72 columns with ``enclen`` like indilib drivers; ``oneline``: one base64 line, no ``enclen``,
  as Python drivers send it.  ``ping=1``: after each BLOB send ``<pingRequest uid="SetBLOB/K"/>``
  and, like indilib >= 1.9.7 drivers, wait for the reply to the previous ping before the next BLOB.
  ``writes=libindi``: write each BLOB in the pieces libindi's ``IDSetBLOB`` writes instead of
  one ``os.write``: on a pipe stdio's 4096-byte ``write(2)``s (glibc's buffer is the pipe's
  ``st_blksize``); on an AF_UNIX socket (indiserver gives every driver a socketpair, ours
  gives one to indilib's ELF drivers) ``driverio``'s ``sendmsg`` of each 64 KiB it gathered.
  Under our server this script has the socket too (beside it the side channel for BLOB
  descriptors, ``INDIPY_BLOB_FD``, ``indipyserver/drivers/fdchannel.py``, where it asks for
  no pipe) and writes the 64 KiB pieces (its BLOBs are inline base64, never memfds, under
  every server).
* ``prepare id=ID kind=clock rate=R seconds=S``  a paced stream (for ``term_latency.py``):
  R setNumberVector a second for S seconds, each ``NUM.v`` the wall-clock time
  (``time.time()``) at which it is written, so a client on this machine can tell how late it
  shows a value;
* ``go id=ID`` streams what was prepared, then sends ``BENCH_STATUS`` = ``done ID``.
  Preparation answers ``ready ID`` so that encoding never falls inside a measurement.

Echo mode is always on: a ``newNumberVector`` for ``NUM`` is answered at once with a
``setNumberVector`` carrying the same value.

stdin is read by the main thread; streams are written by a worker thread with plain blocking
``os.write`` on the pre-encoded bytes, so the driver is never the bottleneck.
"""

import base64
import os
import re
import sys
import threading
import time
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indipycore.protocol import BLOB
from indipycore.protocol import DefBLOBVector
from indipycore.protocol import DefNumberVector
from indipycore.protocol import DefTextVector
from indipycore.protocol import Event
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import PingRequest
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import SetNumberVector
from indipycore.protocol import SetTextVector
from indipycore.protocol import State
from indipycore.protocol import Text
from indipycore.protocol import serialise
from indipycore.protocol.escaping import escape
from indipycore.protocol.serialiser import COMPACT
from indipycore.protocol.serialiser import Serialiser
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import end_tag
from indipycore.protocol.serialiser import start_tag

DEVICE = "Bench"
OUT = sys.stdout.fileno()
IN = sys.stdin.fileno()
_write_lock = threading.Lock()


def _ts() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 100):02d}"


def write(data: bytes) -> None:
    """Write all of data to stdout (blocking); one writer at a time."""
    view = memoryview(data)
    with _write_lock:
        while view:
            n = os.write(OUT, view)
            view = view[n:]


def _out_is_unix_socket() -> bool:
    """True when stdout is an AF_UNIX socket, the test libindi's driverio makes, or a pipe
    beside our server's side channel, where libindi would have that socket."""
    import socket
    if os.environ.get("INDIPY_BLOB_FD"):
        return True
    try:
        sock = socket.socket(fileno=os.dup(OUT))
    except OSError:
        return False
    try:
        return sock.family == socket.AF_UNIX
    finally:
        sock.close()


def libindi_pieces(data: bytes, on_socket: bool) -> list[memoryview]:
    """`data` cut as libindi 1.9.9 writes it to the server (see the module's ``writes=``).

    On a socket, driverio gathers what userio writes (a 72-column line and its newline at a
    time) and sends the gathered bytes plus the write that would pass 65536 in one sendmsg:
    pieces of 65,536 to 65,609 bytes; modelled as 65,536 plus the rest. On a pipe, stdio
    flushes its 4096-byte buffer each time it fills."""
    size = 65536 if on_socket else 4096
    view = memoryview(data)
    return [view[i:i + size] for i in range(0, len(view), size)]


# What this driver writes is the protocol's serialiser's (its lines: an element's start tag, each
# member and its end tag on a line of their own), each member indented by two spaces as indilib's
# drivers indent them (`indented`); a BLOB in libindi's layout is spelt by the serialiser's
# functions (`build_blob`).


def indented(wire: bytes) -> bytes:
    """`wire` (one element the serialiser wrote) with each member indented by two spaces."""
    return wire.replace(b">\n<one", b">\n  <one").replace(b">\n<def", b">\n  <def")


def spelt(*attributes: tuple[str, str]) -> str:
    """`attributes` (name, value) in order, their values escaped."""
    return "".join(attribute(name, escape(value)) for name, value in attributes)


def build_defs(extra: int) -> bytes:
    ts = _ts()
    common = {"timeout": "0", "timestamp": ts}
    vectors: list[Event] = [
        DefTextVector(DEVICE, "BENCH_CONTROL", State.IDLE, Perm.RW, (Text("cmd", "", "Command"),),
                      "Control", "Bench", **common),
        DefTextVector(DEVICE, "BENCH_STATUS", State.IDLE, Perm.RO,
                      (Text("status", "idle", "Status"),), "Status", "Bench", **common),
        DefNumberVector(DEVICE, "NUM", State.IDLE, Perm.RW,
                        (Number("v", "0", "Value", "%.6f", "0", "0", "0"),), "Number", "Bench",
                        **common),
        DefBLOBVector(DEVICE, "BLOB", State.IDLE, Perm.RO, (BLOB("data", label="Data"),), "BLOB",
                      "Bench", **common),
    ]
    for i in range(extra):
        vectors.append(DefNumberVector(
            DEVICE, f"EXTRA_{i:04d}", State.IDLE, Perm.RO,
            (Number("a", str(i), "A", "%.3f", "0", "100", "1"),
             Number("b", "1.5", "B", "%.3f", "0", "100", "1")), f"Extra {i}", "Extra", **common))
    return b"".join(indented(serialise(vector)) for vector in vectors)


def status(text: str) -> bytes:
    return indented(serialise(SetTextVector(DEVICE, "BENCH_STATUS", (Text("status", text),),
                                            state=State.OK, timestamp=_ts())))


def number_set(value: str, timestamp: str) -> bytes:
    return indented(serialise(SetNumberVector(DEVICE, "NUM", (Number("v", value),),
                                              state=State.OK, timestamp=timestamp)))


def build_numbers(count: int) -> bytes:
    ts = _ts()
    return b"".join(number_set(str(i), ts) for i in range(count))


def build_blob(size: int, style: str) -> bytes:
    # Incompressible-looking but cheap to make: repeat a random 64 KiB block.
    block = os.urandom(65536)
    raw = (block * (size // len(block) + 1))[:size]
    if style == "libindi":
        b64 = base64.encodebytes(raw)          # 76 columns; re-wrap to 72 like indilib
        flat = b64.replace(b"\n", b"")
        lines = [flat[i:i + 72] for i in range(0, len(flat), 72)]
        body = b"\n".join(lines) + b"\n"
        # libindi's layout, which the serialiser does not write (it puts the base64 right
        # after the start tag): the base64 on lines of its own between the member's tags.
        head = start_tag("setBLOBVector", spelt(("device", DEVICE), ("name", "BLOB"),
                                                ("state", "Ok"), ("timestamp", _ts())), "\n")
        member = start_tag("oneBLOB", spelt(("name", "data"), ("size", str(size)),
                                            ("enclen", str(len(flat))), ("format", ".fits")), "\n")
        tail = end_tag("oneBLOB", "\n") + end_tag("setBLOBVector", "\n")
        return (head + "  " + member).encode() + body + ("  " + tail).encode()
    return indented(serialise(SetBLOBVector(DEVICE, "BLOB", (BLOB("data", raw, size, ".fits"),),
                                            state=State.OK, timestamp=_ts())))


class Pinger:
    """Waits for pingReply uids like indilib's IDSetBLOB does."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.replied: set[str] = set()

    def reply(self, uid: str) -> None:
        with self.cond:
            self.replied.add(uid)
            self.cond.notify_all()

    def wait(self, uid: str, timeout: float = 60.0) -> bool:
        end = time.monotonic() + timeout
        with self.cond:
            while uid not in self.replied:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            self.replied.discard(uid)
            return True


PINGER = Pinger()
PREPARED: dict[str, dict] = {}


def stream_clock(rate: float, seconds: float) -> None:
    """Write `rate` sets a second, each carrying the time it is written; a late wake-up
    writes every set already due at once (the rate holds on average)."""
    total = int(rate * seconds)
    start = time.monotonic()
    sent = 0
    while sent < total:
        due = min(total, int((time.monotonic() - start) * rate) + 1)
        parts = []
        while sent < due:
            parts.append(number_set(f"{time.time():.6f}", _ts()))
            sent += 1
        write(b"".join(parts))
        next_at = start + sent / rate
        time.sleep(max(0.0, next_at - time.monotonic()))


def stream(job: dict, job_id: str) -> None:
    if job["kind"] == "num":
        write(job["data"])
    elif job["kind"] == "clock":
        stream_clock(job["rate"], job["seconds"])
    else:
        blob = job["data"]
        for k in range(job["count"]):
            if job["ping"] and k > 0 and not PINGER.wait(f"SetBLOB/{job['base'] + k - 1}"):
                sys.stderr.write("trafficdriver: ping reply timeout\n")
            if job["pieces"] is None:
                write(blob)
            else:
                for piece in job["pieces"]:
                    write(piece)
            if job["ping"]:
                write(serialise(PingRequest(f"SetBLOB/{job['base'] + k}")))
    write(status(f"done {job_id}"))


_ping_base = [0]


def command(text: str) -> None:
    args = dict(p.split("=", 1) for p in text.split()[1:] if "=" in p)
    verb = text.split()[0] if text.split() else ""
    job_id = args.get("id", "0")
    if verb == "prepare":
        count = int(args.get("count", "0"))
        if args.get("kind") == "blob":
            job = {"kind": "blob", "count": count, "ping": args.get("ping", "0") == "1",
                   "data": build_blob(int(args.get("size", "1048576")),
                                      args.get("style", "libindi")),
                   "base": _ping_base[0]}
            job["pieces"] = (libindi_pieces(job["data"], _out_is_unix_socket()) if args.get("writes") == "libindi"
                             else None)
            _ping_base[0] += count
        elif args.get("kind") == "clock":
            job = {"kind": "clock", "rate": float(args.get("rate", "1000")),
                   "seconds": float(args.get("seconds", "30"))}
        else:
            job = {"kind": "num", "data": build_numbers(count)}
        PREPARED[job_id] = job
        write(status(f"ready {job_id}"))
    elif verb == "go":
        job = PREPARED.pop(job_id, None)
        if job is None:
            write(status(f"unknown {job_id}"))
            return
        threading.Thread(target=stream, args=(job, job_id), daemon=True).start()


_TAG = re.compile(rb"<([A-Za-z][A-Za-z0-9_]*)")
# The echo of a newNumberVector for NUM, on one line: the serialiser's compact element around
# the value (as the client sent it), cut where the value goes once, not serialised per trip.
_ECHO_BEFORE, _ECHO_AFTER = (
    Serialiser(escape, COMPACT)(SetNumberVector(DEVICE, "NUM", (Number("v", "|"),),
                                                state=State.OK)) + b"\n").split(b"|")
_ATTR = re.compile(rb'([A-Za-z_]+)\s*=\s*("[^"]*"|\'[^\']*\')')
_TEXT = re.compile(rb"<oneText[^>]*>(.*?)</oneText>", re.DOTALL)
_NUMBER = re.compile(rb"<oneNumber[^>]*>(.*?)</oneNumber>", re.DOTALL)


def attrs(start: bytes) -> dict[bytes, bytes]:
    return {k: v[1:-1] for k, v in _ATTR.findall(start)}


def handle(elem: bytes, tag: bytes, defs: bytes) -> None:
    start = elem[:elem.find(b">") + 1]
    if tag == b"getProperties":
        write(defs)
    elif tag == b"newNumberVector":
        a = attrs(start)
        if a.get(b"name") == b"NUM":
            m = _NUMBER.search(elem)
            value = m.group(1).strip() if m else b"0"
            write(_ECHO_BEFORE + value + _ECHO_AFTER)
    elif tag == b"newTextVector":
        a = attrs(start)
        if a.get(b"name") == b"BENCH_CONTROL":
            m = _TEXT.search(elem)
            if m:
                command(m.group(1).decode().strip())
    elif tag == b"pingReply":
        uid = attrs(start).get(b"uid", b"").decode()
        PINGER.reply(uid)
    elif tag == b"pingRequest":
        write(start.replace(b"pingRequest", b"pingReply", 1))


def serve_one(listener_fd: int) -> None:
    """Serve INDI to the first client of the listening socket LISTENER_FD (inherited, so it
    listens before this starts), as a device that speaks INDI itself does, instead of on
    stdin/stdout under a server: the client's socket becomes this driver's stdin and stdout.
    ``mqttblobs.py --feed direct`` gives inditomqtt such a feed."""
    import socket
    with socket.socket(fileno=listener_fd) as listener:
        conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    os.dup2(conn.fileno(), IN)
    os.dup2(conn.fileno(), OUT)
    conn.close()


def main() -> None:
    if sys.argv[1:2] == ["--listen-fd"]:
        serve_one(int(sys.argv[2]))
    defs = build_defs(int(os.environ.get("BENCH_EXTRA", "0")))
    buf = b""
    while True:
        chunk = os.read(IN, 1 << 16)
        if not chunk:
            break
        buf += chunk
        while True:
            m = _TAG.search(buf)
            if m is None:
                buf = b""
                break
            tag = m.group(1)
            gt = buf.find(b">", m.end())
            if gt < 0:
                buf = buf[m.start():]
                break
            if buf[gt - 1:gt] == b"/":
                end = gt + 1
            else:
                close = buf.find(b"</" + tag + b">", gt)
                if close < 0:
                    buf = buf[m.start():]
                    break
                end = close + len(tag) + 3
            elem = buf[m.start():end]
            buf = buf[end:]
            handle(elem, tag, defs)


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
