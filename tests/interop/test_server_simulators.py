"""Our IPyServer serving indilib's telescope and CCD simulators plus an in-process Python driver,
seen through indilib's command-line clients.

Protects: executable drivers on pipes behind the router; BLOB delivery to indi_getprop, image
after image (from the second image on, indilib >= 1.9.7 drivers wait for our pingReply); the
CCD snooping the telescope through our server (its FITS header follows the mount); killing a
driver process gives delProperty and the device comes back after the restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from blobwatch import EnableBlobWatch
from peers import connect
from peers import find_binary
from peers import getprop
from peers import hello
from peers import indi_eval
from peers import setprop
from peers import switch_on
from serverkit import running
from waiting import until

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.retrypolicy import ExponentialBackoff
from indipyserver.demo import make_driver
from indipyserver.drivers.executable import ExDriverConnection
from indipyserver.routing.streamblobs import is_stream_blob
from indipyserver.server import IPyServer

TELESCOPE = "Telescope Simulator"
CCD = "CCD Simulator"


@pytest.fixture
async def served(tmp_home: Path) -> AsyncIterator[IPyServer]:
    """Telescope + CCD simulators and the demo thermostat on one of our servers (port 0)."""
    find_binary("indi_simulator_telescope")
    find_binary("indi_simulator_ccd")
    server = IPyServer(make_driver(interval=0.5), host="127.0.0.1", port=0, handle_signals=False)
    server.add_exdriver("indi_simulator_telescope", backoff=ExponentialBackoff(0.2, 30.0))
    server.add_exdriver("indi_simulator_ccd", backoff=ExponentialBackoff(0.2, 30.0))
    async with running(server):
        yield server


def fits_header(path: Path) -> dict[str, str]:
    """The FITS primary header cards as {keyword: raw value text}."""
    data = path.read_bytes()
    assert data.startswith(b"SIMPLE  ="), f"{path} is not a FITS file"
    cards: dict[str, str] = {}
    for i in range(0, len(data), 80):
        card = data[i : i + 80].decode("ascii", "replace")
        if card.startswith("END "):
            break
        key, _, rest = card.partition("=")
        cards[key.strip()] = rest.split("/")[0].strip().strip("'").strip()
    return cards


def sexagesimal(text: str) -> float:
    sign = -1 if text.strip().startswith("-") else 1
    parts = [abs(float(p)) for p in text.replace(":", " ").split()]
    return sign * (parts[0] + parts[1] / 60 + parts[2] / 3600)


async def expose(port: int, workdir: Path) -> Path:
    """Take one 0.1 s exposure and let indi_getprop save it, as a KStars user would."""
    workdir.mkdir()
    relay = EnableBlobWatch(port)
    watcher = asyncio.create_task(
        asyncio.to_thread(getprop, relay.port, f"{CCD}.CCD1.CCD1", timeout=20, cwd=workdir)
    )
    try:
        # indi_getprop must have seen the defBLOBVector and sent enableBLOB before the image.
        await until(lambda: relay.enabled == 1 or watcher.done(), timeout=20,
                    what="indi_getprop's enableBLOB")
        result = await asyncio.to_thread(
            setprop, port, f"{CCD}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=0.1"
        )
        assert result.returncode == 0, result.describe()
    finally:
        got = await watcher
        await asyncio.to_thread(relay.close)
    assert got.returncode == 0, got.result.describe()
    return workdir / f"{CCD}.CCD1.CCD1.fits"


async def test_three_devices_three_images_and_snooped_coordinates(
    served: IPyServer, tmp_path: Path
) -> None:
    """All three devices visible; three FITS in a row; the FITS header follows a mount sync."""
    port = served.port
    seen = await asyncio.to_thread(getprop, port, "*.*.*", timeout=3)
    devices = {key.split(".")[0] for key in seen}
    assert {TELESCOPE, CCD, "Thermostat"} <= devices, seen.result.describe()

    for spec in (f"{TELESCOPE}.CONNECTION.CONNECT=On", f"{CCD}.CONNECTION.CONNECT=On"):
        result = await asyncio.to_thread(setprop, port, spec)
        assert result.returncode == 0, result.describe()
    ok = await asyncio.to_thread(
        indi_eval, port, f'"{CCD}.CONNECTION.CONNECT"==1 && "{TELESCOPE}.CONNECTION.CONNECT"==1',
        timeout=10,
    )
    assert ok.returncode == 0, ok.describe()

    # Sync (not slew) the mount: its coordinates change at once, so the test stays fast.
    for spec in (f"{TELESCOPE}.ON_COORD_SET.SYNC=On",
                 f"{TELESCOPE}.EQUATORIAL_EOD_COORD.RA;DEC=5;-10"):
        result = await asyncio.to_thread(setprop, port, spec)
        assert result.returncode == 0, result.describe()
    moved = await asyncio.to_thread(
        indi_eval, port, f'"{TELESCOPE}.EQUATORIAL_EOD_COORD.DEC"<-9', timeout=10
    )
    assert moved.returncode == 0, moved.describe()
    # No wait for the CCD's snoop: the router queued the mount's set to the CCD driver as it
    # sent it to indi_eval, so it precedes the exposure requests on the driver's stdin.

    images = [await expose(port, tmp_path / f"image{i}") for i in range(3)]
    for image in images:
        assert image.stat().st_size > 100_000
    header = fits_header(images[-1])
    # The header holds J2000 coordinates converted from the mount's JNow: allow for precession.
    assert abs(sexagesimal(header["OBJCTRA"]) - 5.0) < 0.1, header
    assert abs(sexagesimal(header["OBJCTDEC"]) - -10.0) < 0.5, header


async def test_killed_driver_process_gives_delproperty_then_device_returns(
    served: IPyServer, tmp_path: Path
) -> None:
    """SIGKILL a simulator: clients see delProperty for its device, then its defs again."""
    port = served.port
    (telescope,) = [
        c for c in served.connections
        if isinstance(c, ExDriverConnection) and c.program == "indi_simulator_telescope"
    ]
    first = await asyncio.to_thread(getprop, port, f"{TELESCOPE}.CONNECTION.CONNECT", timeout=5)
    assert first.returncode == 0, first.result.describe()
    old_pid = telescope.pid
    assert old_pid is not None

    # A raw client watching everything, to see the delProperty itself.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b'<getProperties version="1.7"/>')
    await writer.drain()
    framer = Framer()
    tags: list[str] = []

    async def read_until(tag: str, after: int = 0) -> int:
        while tag not in tags[after:]:
            chunk = await reader.read(65536)
            assert chunk, "server closed the client"
            tags.extend(
                f.tag for f in framer.feed(chunk)
                if isinstance(f, Frame) and f.device == TELESCOPE
            )
        return tags.index(tag, after)

    async with asyncio.timeout(10):
        await read_until("defSwitchVector")
    os.kill(old_pid, signal.SIGKILL)
    async with asyncio.timeout(10):
        deleted = await read_until("delProperty")
        await read_until("defSwitchVector", deleted)
    writer.close()
    await writer.wait_closed()
    assert telescope.pid != old_pid
    again = await asyncio.to_thread(getprop, port, f"{TELESCOPE}.CONNECTION.CONNECT", timeout=5)
    assert again.returncode == 0, again.result.describe()


async def test_ccd_video_stream_frames_are_dropped_only_for_a_client_too_far_behind(
    tmp_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """-d against the real CCD simulator streaming video: its frames (format '.stream') reach a
    client that reads, while one that has stopped reading is given none once it is more than
    -d MB behind (indiserver's rule), stays connected, and its queue stays near -d instead of
    growing with the stream."""
    find_binary("indi_simulator_ccd")
    limit_mb = 2
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False, max_stream_behind_mb=limit_mb)
    server.add_exdriver("indi_simulator_ccd", max_restarts=0)
    opening = hello(blobs_from=CCD)
    with caplog.at_level(logging.DEBUG, logger="indipyserver.router"):
        async with asyncio.TaskGroup() as tg:
            tg.create_task(server.asyncrun())
            await asyncio.wait_for(server.started(), 10)
            opened: list[asyncio.StreamWriter] = []  # closed whatever happens (no leaked sockets)
            try:
                stalled_r, stalled_w = await asyncio.open_connection("127.0.0.1", server.port)
                opened.append(stalled_w)
                stalled_w.transport.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_RCVBUF, 4096
                )
                stalled_w.write(opening)
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                opened.append(writer)
                writer.write(opening)
                framer = Framer()
                frames: list[Frame] = []

                async def until(done) -> None:  # type: ignore[no-untyped-def]
                    while not done():
                        chunk = await reader.read(1 << 20)
                        assert chunk, "server closed the reading client"
                        frames.extend(f for f in framer.feed(chunk) if isinstance(f, Frame))

                def has(name: str) -> bool:
                    return any(f.device == CCD and f.name == name for f in frames)

                async def settled(quiet: float = 0.5) -> None:
                    # The simulator defines its properties over a while after CONNECT. Turned on
                    # in the middle of that (seen on a loaded machine: the stream's def came
                    # 85th of ~114), its video stream sent one frame ten seconds later and
                    # then none -- under indiserver 1.9.9 too (4 of 8 such runs on a loaded
                    # machine, 2 of 8 under ours) -- so the stream is started only once the
                    # driver has gone quiet.
                    while True:
                        try:
                            chunk = await asyncio.wait_for(reader.read(1 << 20), quiet)
                        except TimeoutError:
                            return
                        assert chunk, "server closed the reading client"
                        frames.extend(f for f in framer.feed(chunk) if isinstance(f, Frame))

                # bounds a failure only: beside a second copy of the suite the simulator took
                # more than 20 s to connect, define and stream 8 frames
                async with asyncio.timeout(60):
                    await until(lambda: has("CONNECTION"))
                    writer.write(connect(CCD))
                    await until(lambda: has("CCD_VIDEO_STREAM"))
                    await settled()
                    writer.write(switch_on(CCD, "CCD_VIDEO_STREAM", "STREAM_ON"))
                    blobs = lambda: [f for f in frames if f.tag == "setBLOBVector"]
                    await until(lambda: len(blobs()) >= 8)
                assert all(is_stream_blob(f.data) for f in blobs())  # the real format: '.stream'
                (stalled,) = [c for c in server.clients if c.label.endswith(
                    str(stalled_w.get_extra_info("sockname")[1]))]
                assert stalled.queued_bytes < (limit_mb + 4) * 1024 * 1024
                writer.write(switch_on(CCD, "CCD_VIDEO_STREAM", "STREAM_OFF"))
                writer.close()
                stalled_w.close()
                del stalled_r
            finally:
                for opened_writer in opened:
                    opened_writer.close()
                server.shutdown()
    assert "stream frame CCD Simulator.CCD1 dropped" in caplog.text
