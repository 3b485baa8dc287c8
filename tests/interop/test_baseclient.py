"""indilib's own client library, ``INDI::BaseClient`` (libindiclient 1.9.9: what KStars/Ekos and
PHD2 are built on), against our server and against indilib's ``indiserver`` serving our driver.

The client is tests/interop/baseclient/indi_baseclient_probe.cpp, compiled once a run
(peers.baseclient_probe); it prints every BaseClient callback as a JSON line and takes
commands on stdin (peers.BaseClientProbe). The driver is tests/interop/baseclient/rig.py, one
device with a vector of each kind. Each rig test runs twice: ``ipyserver`` (our IPyServer with
the rig in-process) and ``indiserver`` (indilib's C server running the rig as an executable
driver), so both our server and our driver are checked against BaseClient. The last tests take
an image from indilib's CCD simulator the way Ekos does, under both servers.

Missing g++, libindi-dev or indi-bin make these tests fail (tests/peers.py), never skip.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import os
import re
import stat
import sys
import uuid
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from peers import BaseClientProbe
from peers import IndiServer
from peers import baseclient_probe
from peers import find_binary
from peers import hello
from serverkit import recv_with_fds
from serverkit import running
from waiting import until

from indipycore.protocol import BLOB
from indipycore.protocol import NewBLOBVector
from indipycore.protocol import PingRequest
from indipycore.protocol import serialise
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver.server import IPyServer

BASECLIENT = Path(__file__).resolve().parent / "baseclient"
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASECLIENT))

from rig import DEVICE
from rig import FORMATS
from rig import NOTE
from rig import blob_bytes
from rig import make_driver

CCD = "CCD Simulator"
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?"
SERVERS = ["ipyserver", "indiserver"]

ProbeFactory = Callable[..., Awaitable[BaseClientProbe]]


@functools.cache
def fnv1a64(data: bytes) -> str:
    """64-bit FNV-1a as 16 hex digits, as the probe computes it over a BLOB's decoded bytes."""
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def members(event: dict[str, Any]) -> dict[str, Any]:
    """A property event's member values by name."""
    return {m["name"]: m["value"] for m in event["members"]}


@dataclass
class Rig:
    """The rig driver served by one kind of server: where to connect and what the driver got."""

    kind: str
    port: int
    rxlog: Path
    server: IPyServer | IndiServer

    def received(self) -> list[dict[str, Any]]:
        """Every client request the driver's rxevent has been given so far."""
        return [json.loads(line) for line in self.rxlog.read_text().splitlines()]

    async def wait_received(self, vector: str, count: int = 1, timeout: float = 10.0
                            ) -> dict[str, Any]:
        """The ``count``-th request for ``vector`` the driver received; fails after timeout."""
        def got() -> list[dict[str, Any]]:
            return [r for r in self.received() if r["vector"] == vector]

        def failure() -> str:
            extra = self.server.log_tail() if isinstance(self.server, IndiServer) else ""
            return (f"request {count} for {vector}: the driver ({self.kind}) got "
                    f"{len(got())}: {self.received()}\n{extra}")

        await until(lambda: len(got()) >= count, timeout, failure, interval=0.02)
        return got()[count - 1]


def write_launcher(path: Path, rxlog: Path) -> Path:
    """An executable that runs the rig on stdin/stdout with this interpreter and checkout
    (indiserver starts drivers with no arguments)."""
    python = sys.executable if len(sys.executable) < 120 else "/usr/bin/env python3"
    path.write_text(
        f"#!{python}\n"
        "import sys\n"
        f"sys.path[:0] = [{str(REPO)!r}, {str(BASECLIENT)!r}]\n"
        "from rig import run_stdio\n"
        f"run_stdio({str(rxlog)!r})\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture(scope="session")
def probe_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The BaseClient probe, compiled once per test session."""
    return baseclient_probe(tmp_path_factory)


@pytest.fixture
async def probes(probe_binary: Path, tmp_path: Path) -> AsyncIterator[ProbeFactory]:
    """Start BaseClient probes: ``await probes(port, watch=[...])``; all closed at teardown."""
    started: list[BaseClientProbe] = []

    async def start(port: int, watch: tuple[str, ...] = ()) -> BaseClientProbe:
        probe = BaseClientProbe(probe_binary, port, watch=watch,
                                log_path=tmp_path / f"probe-{len(started)}.log")
        started.append(probe)
        return await probe.start()

    try:
        yield start
    finally:
        for probe in reversed(started):
            await probe.close()


@pytest.fixture(params=SERVERS)
async def rig(request: pytest.FixtureRequest, tmp_path: Path, tmp_home: Path,
              indiserver_factory: Callable[..., IndiServer]) -> AsyncIterator[Rig]:
    """The rig driver on our IPyServer (in-process, port 0) or on indilib's indiserver."""
    rxlog = tmp_path / "rxlog.jsonl"
    if request.param == "indiserver":
        launcher = write_launcher(tmp_path / "indi_py_baseclient_rig", rxlog)
        server = indiserver_factory(str(launcher))
        rxlog.touch()  # the driver (re)creates it when it starts
        yield Rig("indiserver", server.port, rxlog, server)
        return
    ours = IPyServer(make_driver(rxlog), host="127.0.0.1", port=0, handle_signals=False)
    async with running(ours):
        yield Rig("ipyserver", ours.port, rxlog, ours)


async def connected(probes: ProbeFactory, rig: Rig, *names: str) -> BaseClientProbe:
    """A probe connected to the rig once BaseClient has the named properties of the device."""
    probe = await probes(rig.port)
    for name in names or ("ACTIONS",):
        await probe.expect("newProperty", device=DEVICE, name=name)
    return probe


# ------------------------------------------------------------------------------ a: definitions


async def test_definitions_reach_baseclient_with_every_attribute(
    rig: Rig, probes: ProbeFactory, tmp_path: Path
) -> None:
    """BaseClient creates the device once and each vector once, with the label, group, perm,
    rule, state and every member's label and value the driver defined; numbers keep format,
    min, max and step, a sexagesimal value the driver was given as "12:30:15" arrives as the
    number, and text with XML special and non-ASCII characters arrives unchanged."""
    device = make_driver(tmp_path / "unused.jsonl")[DEVICE]
    # Every vector defined at the start (DEBUG_LEVEL only once DEBUG is enabled).
    expected = {name: vector for name, vector in device.items() if vector.enable}
    probe = await connected(probes, rig, *expected)
    await probe.barrier()
    assert [e["device"] for e in probe.select("newDevice")] == [DEVICE]
    first_def = probe.events.index(probe.select("newProperty")[0])
    assert probe.events.index(probe.select("newDevice")[0]) < first_def

    for name, vector in expected.items():
        (got,) = probe.select("newProperty", device=DEVICE, name=name)
        assert got["type"] == vector.kind, got
        assert (got["label"], got["group"], got["state"]) == (
            vector.label, vector.group, vector.state), got
        if vector.kind != "Light":
            assert got["perm"] == vector.perm, got
        if vector.kind == "Switch":
            assert got["rule"] == vector.rule, got
        assert [m["name"] for m in got["members"]] == list(vector), got
        assert [m["label"] for m in got["members"]] == [vector.memberlabel(m) for m in vector]

    coords = probe.select("newProperty", name="COORDS")[0]
    ra, dec, gain = coords["members"]
    assert ra == {"name": "RA", "label": "RA (h)", "format": "%010.6m", "min": 0, "max": 24,
                  "step": 0, "value": 12 + 30 / 60 + 15 / 3600, "formatted": "  12:30:15"}
    assert (dec["format"], dec["min"], dec["max"], dec["value"], dec["formatted"]) == (
        "%9.6m", -90, 90, -10.505, "-10:30:18")
    assert (gain["step"], gain["value"], gain["formatted"]) == (0.5, 12.5, "12.5")
    assert members(probe.select("newProperty", name="MODE")[0]) == {
        "SLOW": "On", "FAST": "Off", "TURBO": "Off"}
    assert members(probe.select("newProperty", name="SITE")[0]) == {
        "NAME": "Observatory", "NOTE": NOTE}
    assert members(probe.select("newProperty", name="STATUS")[0]) == {
        "POWER": "Ok", "FAULT": "Alert"}
    (frame,) = probe.select("newProperty", name="IMAGE")[0]["members"]
    assert (frame["name"], frame["size"], frame["bloblen"]) == ("FRAME", 0, 0)


async def test_number_formats_display_as_libindi_formats_them(
    rig: Rig, probes: ProbeFactory, tmp_path: Path
) -> None:
    """For printf and INDI sexagesimal formats (%010.6m, %9.6m, %7.3m, %11.8m, %12.9m, %8.5m,
    %.3f, %+08.2f, %5.0f, %.4e, %g), the value BaseClient parsed, shown with libindi's own
    numberFormat(), is what our NumberMember.getformattedvalue() shows: a client and a Python
    driver display the same text."""
    probe = await connected(probes, rig, "FORMATS")
    got = {m["name"]: m for m in probe.select("newProperty", name="FORMATS")[0]["members"]}
    ours = make_driver(tmp_path / "unused.jsonl")[DEVICE]["FORMATS"]
    for name, fmt, value in FORMATS:
        assert (got[name]["format"], got[name]["value"]) == (fmt, value)
        assert got[name]["formatted"] == ours.getformattedvalue(name), (name, fmt, value)


# ------------------------------------------------------------------- b: client writes, replies


async def test_send_new_number_reaches_the_driver_and_the_reply_comes_back(
    rig: Rig, probes: ProbeFactory
) -> None:
    """sendNewNumber sends every member of COORDS; the driver's rxevent gets exactly the values
    sent (1.1 too, which libindi writes as %.20g "1.1000000000000000888"), and its setVector
    reply (state Ok) reaches BaseClient as updateProperty and newNumber with those values."""
    probe = await connected(probes, rig, "COORDS")
    after = probe.mark()
    await probe.command("number", DEVICE, "COORDS", "RA=1.1", "DEC=-33.25", "GAIN=42.5")
    received = await rig.wait_received("COORDS")
    # the text libindi sent (3.x values), which reads back as exactly the doubles sent
    assert {k: float(v) for k, v in received["values"].items()} == {
        "RA": 1.1, "DEC": -33.25, "GAIN": 42.5}
    assert float(received["raw"]["RA"]) == 1.1
    for cb in ("updateProperty", "newNumber"):
        reply = await probe.expect(cb, after=after, device=DEVICE, name="COORDS")
        assert reply["state"] == "Ok"
        assert members(reply) == {"RA": 1.1, "DEC": -33.25, "GAIN": 42.5}
        assert reply["members"][0]["formatted"] == "   1:06:00"


async def test_send_new_switch_one_of_many_reaches_the_driver_and_the_reply_comes_back(
    rig: Rig, probes: ProbeFactory
) -> None:
    """A GUI-style OneOfMany change (TURBO On, the others reset) sent with sendNewSwitch reaches
    rxevent as libindiclient sends it, the member turned On alone (the partial vector the SPEC
    allows for switches); the reply turns SLOW Off and TURBO On, state Ok, seen as newSwitch."""
    probe = await connected(probes, rig, "MODE")
    after = probe.mark()
    await probe.command("switch", DEVICE, "MODE", "TURBO=On")
    received = await rig.wait_received("MODE")
    assert received["values"] == {"TURBO": "On"}
    for cb in ("updateProperty", "newSwitch"):
        reply = await probe.expect(cb, after=after, device=DEVICE, name="MODE")
        assert reply["state"] == "Ok"
        assert members(reply) == {"SLOW": "Off", "FAST": "Off", "TURBO": "On"}


async def test_send_new_text_reaches_the_driver_and_the_reply_comes_back(
    rig: Rig, probes: ProbeFactory
) -> None:
    """sendNewText with spaces, XML special characters and non-ASCII text: rxevent gets the
    exact strings, and the reply (state Ok) shows them in newText."""
    probe = await connected(probes, rig, "SITE")
    after = probe.mark()
    # Not starting with one of < & " ': libindiclient 1.9.9's lilxml leaves an entity at the very
    # start of a value undecoded ("&lt;dome>"), whichever server and driver (interoperability
    # notes, "Whitespace and entities").
    note = "Dome <roof> & \"door\" 'open' — ≥ 3 m"
    await probe.command("text", DEVICE, "SITE", "NAME=North Dome 2", f"NOTE={note}")
    received = await rig.wait_received("SITE")
    assert received["values"] == {"NAME": "North Dome 2", "NOTE": note}
    for cb in ("updateProperty", "newText"):
        reply = await probe.expect(cb, after=after, device=DEVICE, name="SITE")
        assert reply["state"] == "Ok"
        assert members(reply) == {"NAME": "North Dome 2", "NOTE": note}


# ------------------------------------------------------------------------------------ c: BLOBs


@pytest.mark.parametrize("scope", ["device", "property"])
async def test_blob_mode_also_delivers_the_bytes_the_driver_sent(
    rig: Rig, probes: ProbeFactory, scope: str
) -> None:
    """After setBLOBMode(Also) for the device, or for IMAGE only, a 1.5 MB BLOB of random bytes
    arrives as newBLOB with the size, format and FNV-1a checksum the driver sent, followed by
    the driver's next Number update."""
    probe = await connected(probes, rig, "IMAGE", "BLOB_REQUEST")
    await probe.command("blobmode", DEVICE, *(["IMAGE"] if scope == "property" else []), "Also")
    await probe.barrier()  # the server has the enableBLOB before the driver sends
    after = probe.mark()
    size, seed = 1_500_000, 11
    await probe.command("number", DEVICE, "BLOB_REQUEST", f"SIZE={size}", f"SEED={seed}")
    blob = await probe.expect("newBLOB", after=after, device=DEVICE, name="IMAGE", timeout=15)
    assert (blob["member"], blob["format"], blob["size"], blob["bloblen"]) == (
        "FRAME", ".bin", size, size)
    assert blob["fnv1a64"] == fnv1a64(blob_bytes(size, seed))
    assert blob["state"] == "Ok"
    count = await probe.expect("newNumber", after=after, device=DEVICE, name="BLOB_COUNT")
    assert members(count) == {"COUNT": 1}
    assert probe.events.index(blob) < probe.events.index(count)


async def test_blob_mode_never_by_default_drops_the_blob_but_not_what_follows(
    rig: Rig, probes: ProbeFactory
) -> None:
    """Without setBLOBMode a connection is Never: the driver's BLOB is not delivered, the Number
    update it sends after the BLOB is. Switching to Also then delivers the next BLOB (so the
    first one really was sent and withheld)."""
    probe = await connected(probes, rig, "IMAGE", "BLOB_REQUEST")
    after = probe.mark()
    await probe.command("number", DEVICE, "BLOB_REQUEST", "SIZE=200000", "SEED=5")
    count = await probe.expect("newNumber", after=after, device=DEVICE, name="BLOB_COUNT")
    assert members(count) == {"COUNT": 1}
    await probe.barrier()
    assert probe.select("newBLOB", after=after) == []
    assert probe.select("updateProperty", after=after, name="IMAGE") == []

    await probe.command("blobmode", DEVICE, "Also")
    await probe.barrier()
    after = probe.mark()
    await probe.command("number", DEVICE, "BLOB_REQUEST", "SIZE=200000", "SEED=6")
    blob = await probe.expect("newBLOB", after=after, device=DEVICE, name="IMAGE")
    assert (blob["size"], blob["fnv1a64"]) == (200000, fnv1a64(blob_bytes(200000, 6)))
    count = await probe.expect("newNumber", after=after, device=DEVICE, name="BLOB_COUNT")
    assert members(count) == {"COUNT": 2}


async def test_a_refused_blob_upload_is_answered_to_a_client_that_never_enabled_blobs(
    rig: Rig, probes: ProbeFactory
) -> None:
    """A newBLOBVector to the read-only IMAGE is refused by the driver with a set of IMAGE's
    state only (Alert and why, no BLOB). On our server it reaches its sender, a plain client
    that never sent enableBLOB (most clients do not), and BaseClient (Never by default) takes
    it as an update of IMAGE. Failed before issue 28 (item 6): it went to BLOB-enabled clients
    only, so neither heard of the refusal. indiserver still drops it for them."""
    probe = await connected(probes, rig, "IMAGE")
    after = probe.mark()
    reader, writer = await asyncio.open_connection("127.0.0.1", rig.port)
    try:
        writer.write(hello(device=DEVICE)
                     + serialise(NewBLOBVector(DEVICE, "IMAGE", (BLOB("FRAME", b"abc", 3, ".bin"),)))
                     + serialise(PingRequest("after-upload")))
        await writer.drain()
        framer, frames = Framer(), []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3):
                while not any(f.tag == "setBLOBVector" for f in frames):
                    data = await reader.read(1 << 16)
                    assert data, "the server closed the connection"
                    frames += [f for f in framer.feed(data) if isinstance(f, Frame)]
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    answers = [f for f in frames if f.tag == "setBLOBVector" and f.name == "IMAGE"]
    if rig.kind == "indiserver":
        assert answers == []
        return
    assert len(answers) == 1, frames
    assert answers[0].attrs["state"] == "Alert"
    assert "read-only" in answers[0].attrs["message"]
    update = await probe.expect("updateProperty", after=after, device=DEVICE, name="IMAGE")
    assert update["state"] == "Alert"


async def test_blob_mode_only_delivers_the_blobs_and_nothing_else_of_the_device(
    rig: Rig, probes: ProbeFactory
) -> None:
    """setBLOBMode(Only) for the device: two BLOBs arrive intact, while the Number updates the
    driver sends around them (the BLOB_REQUEST replies, BLOB_COUNT after the first BLOB, which
    the driver sent before the second) never do; ping replies still do (they belong to no
    device)."""
    probe = await connected(probes, rig, "IMAGE", "BLOB_REQUEST")
    await probe.command("blobmode", DEVICE, "Only")
    await probe.barrier()
    after = probe.mark()
    for seed in (9, 10):
        await probe.command("number", DEVICE, "BLOB_REQUEST", "SIZE=300000", f"SEED={seed}")
        await rig.wait_received("BLOB_REQUEST", count=seed - 8)
    blobs = [await probe.expect("newBLOB", after=after, device=DEVICE, name="IMAGE",
                                fnv1a64=fnv1a64(blob_bytes(300000, seed))) for seed in (9, 10)]
    assert [b["size"] for b in blobs] == [300000, 300000]
    second = probe.events.index(blobs[1])
    assert [e for e in probe.events[after:second] if e.get("type") == "Number"] == []
    await probe.barrier()


# ------------------------------------------------------------------ d: messages and deletion


async def test_device_and_site_messages_reach_baseclient(rig: Rig, probes: ProbeFactory) -> None:
    """The driver's device message arrives as newMessage for the device with its text, and its
    site-wide message (no device) as newUniversalMessage."""
    probe = await connected(probes, rig, "SAY")
    after = probe.mark()
    text = "Roof <open> & ready"
    await probe.command("text", DEVICE, "SAY", f"MESSAGE={text}")
    message = await probe.expect("newMessage", after=after, device=DEVICE)
    # libindiclient shows "<timestamp>: <text>", with a space after a device's message
    assert re.fullmatch(rf"{TIMESTAMP}: {re.escape(text)} ", message["message"]), message
    universal = await probe.expect("newUniversalMessage", after=after)
    assert re.fullmatch(rf"{TIMESTAMP}: site: {re.escape(text)}", universal["message"]), universal


async def test_deleted_property_then_deleted_device_leave_baseclient(
    rig: Rig, probes: ProbeFactory
) -> None:
    """The driver deletes SPARE: removeProperty for it, and BaseClient no longer has it while
    the other properties stay. Then it deletes the whole device: removeDevice, and BaseClient
    no longer knows the device."""
    probe = await connected(probes, rig, "SPARE", "ACTIONS")
    after = probe.mark()
    await probe.command("switch", DEVICE, "ACTIONS", "DELETE_SPARE=On")
    removed = await probe.expect("removeProperty", after=after, device=DEVICE)
    assert (removed["name"], removed["type"]) == ("SPARE", "INDI_NUMBER")
    await probe.barrier()
    assert "no such property" in (await probe.command("get", DEVICE, "SPARE", ok=False))["error"]
    await probe.command("get", DEVICE, "COORDS")

    after = probe.mark()
    await probe.command("switch", DEVICE, "ACTIONS", "DELETE_DEVICE=On")
    await probe.expect("removeDevice", after=after, device=DEVICE)
    await probe.barrier()
    assert "no device" in (await probe.command("get", DEVICE, "COORDS", ok=False))["error"]


# ------------------------------------------------------------- e: an Ekos capture, CCD simulator


@pytest.fixture(params=SERVERS)
async def ccd_port(request: pytest.FixtureRequest, tmp_home: Path,
                   indiserver_factory: Callable[..., IndiServer]) -> AsyncIterator[int]:
    """indilib's CCD simulator on our IPyServer (add_exdriver) or on indiserver; its port."""
    find_binary("indi_simulator_ccd")
    if request.param == "indiserver":
        yield indiserver_factory("indi_simulator_ccd").port
        return
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    server.add_exdriver("indi_simulator_ccd", max_restarts=0)
    async with running(server):
        yield server.port


class ImageReader:
    """A plain socket client beside the probe, asking for the CCD's BLOBs too: the reference
    for what the probe decoded. Python's base64 decoder skips the newlines of indilib's
    72-column form, so its bytes are the image the driver sent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._framer = Framer()
        self._frames: list[Frame] = []

    @classmethod
    async def open(cls, port: int) -> ImageReader:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(hello(blobs_from=CCD))
        await writer.drain()
        return cls(reader, writer)

    async def next_image(self, timeout: float = 20.0) -> tuple[str, bytes]:
        """The oneBLOB content of the next CCD1 setBLOBVector, raw and decoded."""
        async with asyncio.timeout(timeout):
            while True:
                while self._frames:
                    frame = self._frames.pop(0)
                    if frame.tag == "setBLOBVector" and frame.name == "CCD1":
                        m = re.search(rb"<oneBLOB[^>]*>(.*?)</oneBLOB", frame.data, re.DOTALL)
                        assert m is not None, frame
                        return m.group(1).decode("ascii"), base64.b64decode(m.group(1))
                data = await self._reader.read(1 << 20)
                assert data, "the server closed the reference client's connection"
                self._frames += [f for f in self._framer.feed(data) if isinstance(f, Frame)]

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


async def connect_camera_for_blobs(probe: BaseClientProbe) -> None:
    """What Ekos does first: connect the CCD simulator (CONNECTION) once it is defined, wait
    for its image and exposure properties, and take its BLOBs (Also)."""
    await probe.expect("newProperty", device=CCD, name="CONNECTION", timeout=15)
    after = probe.mark()
    await probe.command("switch", CCD, "CONNECTION", "CONNECT=On")
    await probe.expect("newSwitch", after=after, device=CCD, name="CONNECTION",
                       where=lambda e: e["state"] == "Ok" and members(e)["CONNECT"] == "On",
                       timeout=15)
    await probe.expect("newProperty", device=CCD, name="CCD1", timeout=15)
    await probe.expect("newProperty", device=CCD, name="CCD_EXPOSURE", timeout=15)
    await probe.command("blobmode", CCD, "Also")
    await probe.barrier()


async def expose(probe: BaseClientProbe) -> tuple[int, dict[str, Any]]:
    """One 0.1 s exposure: the probe's mark before it, and the newBLOB of its image."""
    after = probe.mark()
    await probe.command("number", CCD, "CCD_EXPOSURE", "CCD_EXPOSURE_VALUE=0.1")
    return after, await probe.expect("newBLOB", after=after, device=CCD, name="CCD1",
                                     timeout=20)


async def test_ccd_simulator_exposure_reaches_baseclient_as_a_fits_blob(
    ccd_port: int, probes: ProbeFactory
) -> None:
    """What Ekos does for every capture: watch the camera, connect it (CONNECTION), enable BLOBs
    (Also) for it, set CCD_EXPOSURE; the FITS frame arrives as newBLOB on CCD1 with format
    .fits; its size attribute is the length its own FITS header (BITPIX, NAXIS1, NAXIS2)
    implies, and its first `size` bytes are the image a Python client on the same server
    decoded; the exposure ends Ok. Twice: the simulator sends the second image only once its
    ping after the first was answered.

    Under both servers the image arrives as one line of base64 without ``enclen``, so
    ``bloblen`` is ``size``: indiserver takes the simulator's image through shared memory, and
    so does ours (``blobs.attached``). On a pipe libindi would write base64 wrapped at 72 columns,
    from whose length, newlines included, libindiclient computes a ``bloblen`` about 1.4 % too
    long (what our server passed on before)."""
    probe = await probes(ccd_port, watch=(CCD,))
    reference = await ImageReader.open(ccd_port)
    try:
        await connect_camera_for_blobs(probe)
        for _ in range(2):
            after, blob = await expose(probe)
            text, image = await reference.next_image()
            assert (blob["member"], blob["format"]) == ("CCD1", ".fits"), blob
            assert bytes.fromhex(blob["head"]).startswith(b"SIMPLE  ="), blob
            # the size attribute is the length of the FITS file its own header describes
            fits = blob["fits"]
            pixels = abs(fits["BITPIX"]) // 8 * fits["NAXIS1"] * fits["NAXIS2"]
            assert fits["NAXIS"] == 2 and pixels > 0, fits
            expected = fits["header_bytes"] + -(-pixels // 2880) * 2880
            assert blob["size"] == len(image) == expected, blob
            # ... and those bytes are the image, byte for byte
            assert blob["fnv1a64_size"] == fnv1a64(image), blob
            # one line: the shared-memory image re-encoded by the server
            assert re.fullmatch(r"\s*[A-Za-z0-9+/=]+\s*", text), text[:200]
            assert blob["bloblen"] == blob["size"], blob
            await probe.expect("newNumber", after=after, device=CCD, name="CCD_EXPOSURE",
                               where=lambda e: e["state"] == "Ok", timeout=10)
    finally:
        await reference.close()


# ------------------------------------------------------------------------------ Unix socket (-u)


@pytest.mark.parametrize("kind", SERVERS)
async def test_baseclient_on_the_unix_socket_gets_definitions_requests_and_blobs(
    kind: str, probe_binary: Path, tmp_path: Path, tmp_home: Path,
    indiserver_factory: Callable[..., IndiServer],
) -> None:
    """libindiclient reaches a server's Unix socket (indiserver's -u) with the host name
    ``localhost:PATH`` (an abstract socket on Linux). Ours listens there when given
    `unix_path` and serves it as TCP: definitions, a request and its answer, a 1.5 MB BLOB
    with the driver's bytes (indiserver, the reference, passes that BLOB as a memfd)."""
    rxlog = tmp_path / "rxlog.jsonl"
    async with contextlib.AsyncExitStack() as stack:
        if kind == "indiserver":
            launcher = write_launcher(tmp_path / "indi_py_baseclient_rig", rxlog)
            server: IPyServer | IndiServer = indiserver_factory(str(launcher))
            path = server.socket_path
            rxlog.touch()
        else:
            path = f"/tmp/indipy-test-{uuid.uuid4().hex}"
            server = IPyServer(make_driver(rxlog), host="127.0.0.1", port=0,
                               handle_signals=False)
            server.listen_unix(path)
            tg = await stack.enter_async_context(asyncio.TaskGroup())
            tg.create_task(server.asyncrun())
            stack.callback(server.shutdown)
            await asyncio.wait_for(server.started(), 10)
        probe = BaseClientProbe(probe_binary, 1, host=f"localhost:{path}",
                                log_path=tmp_path / "probe.log")
        stack.push_async_callback(probe.close)
        await probe.start()
        await probe.expect("newProperty", device=DEVICE, name="BLOB_REQUEST")
        await probe.command("blobmode", DEVICE, "Also")
        await probe.barrier()
        after = probe.mark()
        size, seed = 1_500_000, 12
        await probe.command("number", DEVICE, "BLOB_REQUEST", f"SIZE={size}", f"SEED={seed}")
        blob = await probe.expect("newBLOB", after=after, device=DEVICE, name="IMAGE",
                                  timeout=15)
        assert (blob["size"], blob["bloblen"]) == (size, size)
        assert blob["fnv1a64"] == fnv1a64(blob_bytes(size, seed))
        count = await probe.expect("newNumber", after=after, device=DEVICE, name="BLOB_COUNT")
        assert members(count) == {"COUNT": 1}



# ------------------------------------- the CCD simulator's images as memory files, Unix socket


class UnixImageReader:
    """A plain client on a server's Unix socket, reading with ``recvmsg`` as libindiclient
    does there: the bytes, and every descriptor passed beside them (SCM_RIGHTS), in order."""

    def __init__(self, path: str) -> None:
        import socket

        from indipyserver.clients.unixsocket import unix_address

        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(unix_address(path))
        self.sock.sendall(hello(blobs_from=CCD))
        self.sock.setblocking(False)
        self._framer = Framer()
        self.frames: list[Frame] = []
        self.fds: list[int] = []

    async def next_image(self, timeout: float = 20.0) -> tuple[Frame, bytes]:
        """The next CCD1 setBLOBVector and the content of the memory file that came with it
        (or its inline base64 decoded, and b"" if none came)."""
        async with asyncio.timeout(timeout):
            while True:
                while self.frames:
                    frame = self.frames.pop(0)
                    if frame.tag == "setBLOBVector" and frame.name == "CCD1":
                        if b"attached" in frame.data:
                            assert self.fds, f"an attached image without a descriptor: {frame}"
                            fd = self.fds.pop(0)
                            try:
                                return frame, os.pread(fd, 64 << 20, 0)
                            finally:
                                os.close(fd)
                        m = re.search(rb"<oneBLOB[^>]*>(.*?)</oneBLOB", frame.data, re.DOTALL)
                        assert m is not None, frame
                        return frame, base64.b64decode(m.group(1))
                data, fds = await recv_with_fds(self.sock)
                self.fds += fds
                assert data, "the server closed the Unix client's connection"
                self.frames += [f for f in self._framer.feed(data) if isinstance(f, Frame)]

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.sock.close()


@pytest.mark.parametrize("direct", [False, True], ids=["copied", "direct"])
@pytest.mark.parametrize("kind", SERVERS)
async def test_ccd_simulator_images_reach_unix_socket_clients_as_memory_files(
    kind: str, direct: bool, probe_binary: Path, tmp_path: Path, tmp_home: Path,
    indiserver_factory: Callable[..., IndiServer],
) -> None:
    """On the Unix socket a server passes indilib's CCD simulator's images on as the memory
    files the simulator attached (``attached='true'``, the descriptor beside the element), as
    indiserver does: nothing is encoded for those clients. libindiclient (the probe, as
    ``localhost:PATH``) takes them so, copied out or, with ``enableDirectBlobAccess``, mapped
    where they are: its newBLOB carries the FITS image a TCP client gets as base64, byte for
    byte, twice; a raw reader checks the descriptor came and holds the image."""
    find_binary("indi_simulator_ccd")
    async with contextlib.AsyncExitStack() as stack:
        if kind == "indiserver":
            indiserver = indiserver_factory("indi_simulator_ccd")
            port, path = indiserver.port, indiserver.socket_path
        else:
            path = f"/tmp/indipy-test-{uuid.uuid4().hex}"
            server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
            server.listen_unix(path)
            server.add_exdriver("indi_simulator_ccd", max_restarts=0)
            await stack.enter_async_context(running(server))
            port = server.port
        probe = BaseClientProbe(probe_binary, 1, host=f"localhost:{path}",
                                log_path=tmp_path / "probe.log")
        stack.push_async_callback(probe.close)
        await probe.start()
        reference = await ImageReader.open(port)
        stack.push_async_callback(reference.close)
        raw = UnixImageReader(path)
        stack.callback(raw.close)
        if direct:
            await probe.command("directblob", CCD)
        await connect_camera_for_blobs(probe)
        for _ in range(2):
            _, blob = await expose(probe)
            _, image = await reference.next_image()
            frame, shared = await raw.next_image()
            assert b"attached" in frame.data, frame.data[:300]
            assert shared[: len(image)] == image
            assert bytes.fromhex(blob["head"]).startswith(b"SIMPLE  ="), blob
            assert blob["size"] == len(image), blob
            assert blob["fnv1a64_size"] == fnv1a64(image), blob
