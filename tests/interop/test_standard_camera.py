"""The Python camera (examples/ccd_simulator.py, on indipydriver.standard's Camera role) with
indilib's real peers: as an executable driver under indilib's `indiserver` and in-process in
our server, seen by indi_getprop / indi_setprop / indi_eval and by our own client library.

Protects issue 42's proof: DRIVER_INFO with the right interface bits on both servers, a full
exposure giving a FITS of the frame size (NAXIS1/NAXIS2/BITPIX from its header), abort ending
an exposure, connect/disconnect defining and deleting the camera's properties, and the
driver's log lines reaching clients as INDI messages.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from peers import HOST
from peers import _seconds
from peers import find_binary
from peers import free_port
from peers import getprop
from peers import getprop_holding
from peers import indi_eval
from peers import setprop
from serverkit import running

import indipyclient
from indipycore.fits import read_header
from indipyserver import IPyServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "ccd_simulator.py"
DEV = "Python CCD Simulator"

if str(EXAMPLE.parent) not in sys.path:
    sys.path.insert(0, str(EXAMPLE.parent))

from ccd_simulator import make_driver


@pytest.fixture
def under_indiserver(indiserver_factory):  # type: ignore[no-untyped-def]
    """indilib's indiserver running examples/ccd_simulator.py (stdio, as it runs any driver)."""
    server = indiserver_factory(str(EXAMPLE))
    values = getprop(server.port, f"{DEV}.DRIVER_INFO.DRIVER_INTERFACE", timeout=15)
    assert values.returncode == 0, values.result.describe() + "\n" + server.log_tail()
    return server


def check_driver_info(port: int) -> None:
    # The members named, not DRIVER_INFO.* (a wildcard waits out its whole timeout and says
    # what came, while indiserver passes the getProperties on to the driver): indi_getprop
    # ends once all came; the timeout only bounds a failure.
    info = [f"{DEV}.DRIVER_INFO.{name}" for name in
            ("DRIVER_INTERFACE", "DRIVER_NAME", "DRIVER_EXEC", "DRIVER_VERSION", "_GROUP", "_PERM")]
    values = getprop(port, *info, f"{DEV}.CONNECTION.CONNECT", timeout=20)
    assert values.returncode == 0, values.result.describe()
    assert values[f"{DEV}.DRIVER_INFO.DRIVER_INTERFACE"] == "2"  # CCD
    assert values[f"{DEV}.DRIVER_INFO.DRIVER_NAME"] == DEV
    assert values[f"{DEV}.DRIVER_INFO.DRIVER_EXEC"] == "indipy_simulator_ccd"
    assert values[f"{DEV}.DRIVER_INFO.DRIVER_VERSION"] == "1.0"
    assert values[f"{DEV}.DRIVER_INFO._GROUP"] == "General Info"
    assert values[f"{DEV}.DRIVER_INFO._PERM"] == "ro"
    assert values[f"{DEV}.CONNECTION.CONNECT"] == "Off"


def test_indi_getprop_shows_driver_info_under_indiserver(under_indiserver) -> None:  # type: ignore[no-untyped-def]
    """DRIVER_INFO, defined before connect: interface 2 (CCD), name, exec, version; the
    camera's own properties are not there until a client connects."""
    check_driver_info(under_indiserver.port)
    # An answer holding ACTIVE_DEVICES, the last vector the driver defines before connect: a
    # camera vector, had one been defined, would follow it in the same answer.
    before = getprop_holding(under_indiserver.port, f"{DEV}.*.*",
                             f"{DEV}.ACTIVE_DEVICES.ACTIVE_TELESCOPE")
    assert not any(".CCD_" in key for key in before), before.stdout


async def test_indi_getprop_shows_driver_info_on_our_server() -> None:
    port = free_port()
    async with running(IPyServer(make_driver(), host=HOST, port=port)):
        await asyncio.to_thread(check_driver_info, port)


def expose_and_fetch(port: int, workdir: Path, seconds: float = 1.5) -> bytes:
    """Connect, bin 2x2 on a 600x400 subframe, expose through indi_setprop while indi_getprop
    waits for the CCD1 BLOB and saves it; return the file's bytes."""
    assert setprop(port, f"{DEV}.CONNECTION.CONNECT=On").returncode == 0
    assert indi_eval(port, f'"{DEV}.CCD_INFO._STATE"==0', timeout=10).returncode == 0
    assert setprop(port, f"{DEV}.CCD_BINNING.HOR_BIN;VER_BIN=2;2").returncode == 0
    assert setprop(port, f"{DEV}.CCD_FRAME.X;Y;WIDTH;HEIGHT=100;50;600;400").returncode == 0
    # indi_eval waits for the settings to be taken (Ok is 1) before the exposure.
    assert indi_eval(port, f'"{DEV}.CCD_BINNING._STATE"==1 && "{DEV}.CCD_FRAME._STATE"==1',
                     timeout=10).returncode == 0
    timeout = 20
    waiting = subprocess.Popen(
        [find_binary("indi_getprop"), "-h", HOST, "-p", str(port), "-t", _seconds(timeout),
         f"{DEV}.CCD1.CCD1"], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert setprop(port, f"{DEV}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE={seconds}").returncode == 0
        out, err = waiting.communicate(timeout=timeout + 10)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    saved = workdir / f"{DEV}.CCD1.CCD1.fits"
    assert saved.exists(), (out, err, list(workdir.iterdir()))
    assert indi_eval(port, f'"{DEV}.CCD_EXPOSURE._STATE"==1', timeout=10).returncode == 0
    return saved.read_bytes()


def check_fits(data: bytes) -> None:
    header = read_header(data)
    assert (header["SIMPLE"], header["BITPIX"], header["NAXIS"]) == (True, 16, 2)
    assert (header["NAXIS1"], header["NAXIS2"]) == (300, 200)  # 600x400 binned 2x2
    assert (header["XBINNING"], header["YBINNING"], header["EXPTIME"]) == (2, 2, 1.5)
    assert len(data) >= header.data_offset + header.data_size


def test_a_full_exposure_through_indi_setprop_under_indiserver(under_indiserver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """indi_setprop starts a 1.5 s exposure; indi_getprop receives CCD1 and saves a FITS of
    the binned frame size; CCD_EXPOSURE ends Ok."""
    check_fits(expose_and_fetch(under_indiserver.port, tmp_path))


async def test_a_full_exposure_through_indi_setprop_on_our_server(tmp_path: Path) -> None:
    port = free_port()
    async with running(IPyServer(make_driver(), host=HOST, port=port)):
        data = await asyncio.to_thread(expose_and_fetch, port, tmp_path)
    check_fits(data)


def test_abort_ends_the_exposure_under_indiserver(under_indiserver) -> None:  # type: ignore[no-untyped-def]
    """A 60 s exposure is Busy; ABORT=On makes CCD_ABORT_EXPOSURE Ok and CCD_EXPOSURE Idle
    (0 in indi_eval's states) with value 0, long before 60 s."""
    port = under_indiserver.port
    assert setprop(port, f"{DEV}.CONNECTION.CONNECT=On").returncode == 0
    assert indi_eval(port, f'"{DEV}.CCD_EXPOSURE._STATE"==0', timeout=10).returncode == 0
    assert setprop(port, f"{DEV}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=60").returncode == 0
    assert indi_eval(port, f'"{DEV}.CCD_EXPOSURE._STATE"==2', timeout=10).returncode == 0
    assert setprop(port, f"{DEV}.CCD_ABORT_EXPOSURE.ABORT=On").returncode == 0
    result = indi_eval(port, f'"{DEV}.CCD_EXPOSURE._STATE"==0 && '
                             f'"{DEV}.CCD_ABORT_EXPOSURE._STATE"==1 && '
                             f'"{DEV}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE"==0', timeout=10)
    assert result.returncode == 0, result.describe()
    values = getprop(port, f"{DEV}.CCD_ABORT_EXPOSURE.ABORT")
    assert values[f"{DEV}.CCD_ABORT_EXPOSURE.ABORT"] == "Off"


async def test_connect_disconnect_and_log_messages_seen_by_our_client(under_indiserver) -> None:  # type: ignore[no-untyped-def]
    """Through indiserver, our client library sees: connect defines CCD_EXPOSURE and the rest,
    DEBUG=ENABLE is answered Ok (and defines DEBUG_LEVEL), an exposure's "[INFO] Exposure of 0.1 s done" message
    arrives (the role's Python logging, through the device's MessageHandler), and disconnect
    deletes the camera's properties (a Delete event each) but ACTIVE_DEVICES, defined from
    the start and kept, as indilib's CCD does."""
    port = under_indiserver.port
    async with indipyclient.connect(HOST, port) as client:
        await client.wait_for(DEV, "CONNECTION", timeout=10)
        events = client.events(maxsize=10000)
        assert "CCD_EXPOSURE" not in client[DEV]
        await client.wait_for(DEV, "ACTIVE_DEVICES", timeout=10)  # defined before CONNECT
        assert "CCD_EXPOSURE" not in client[DEV]
        result = await client.set(DEV, "CONNECTION", {"CONNECT": "On"}, wait=True, timeout=10)
        assert result.state == "Ok"
        await client.wait_for(DEV, "CCD_INFO", timeout=10)
        assert client.get(DEV, "CCD_INFO", "CCD_MAX_X") == 1280
        debug = await client.set(DEV, "DEBUG", {"ENABLE": "On"}, wait=True, timeout=10)
        assert debug.state == "Ok"
        await client.set(DEV, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1}, wait=False)
        texts: list[str] = []
        async with asyncio.timeout(20):
            async for event in events:
                if event.eventtype == "Message" and event.devicename == DEV:
                    texts.append(event.message)
                    if "Exposure of 0.1 s done" in event.message:
                        break
        assert "[INFO] Exposure of 0.1 s done" in texts
        defined = [name for name in client[DEV] if name not in
                   ("CONNECTION", "DRIVER_INFO", "DEBUG", "DEBUG_LEVEL", "CONFIG_PROCESS",
                    "POLLING_PERIOD", "ACTIVE_DEVICES")]
        assert {"CCD_EXPOSURE", "CCD_ABORT_EXPOSURE", "CCD_FRAME", "CCD_BINNING", "CCD_INFO",
                "CCD1", "CCD_TEMPERATURE", "CCD_COOLER", "UPLOAD_MODE"} <= set(defined)
        await client.set(DEV, "CONNECTION", {"DISCONNECT": "On"}, wait=False)
        deleted: set[str] = set()
        async with asyncio.timeout(10):
            async for event in events:
                if event.eventtype == "Delete" and event.devicename == DEV:
                    deleted.add(event.vectorname)
                    if deleted >= set(defined):
                        break
        assert deleted == set(defined)
        # DEBUG_LEVEL is the device's (DEBUG is still enabled), not the camera's.
        assert set(client[DEV]) == {"CONNECTION", "DRIVER_INFO", "DEBUG", "DEBUG_LEVEL",
                                    "CONFIG_PROCESS", "POLLING_PERIOD", "ACTIVE_DEVICES"}


def test_frame_reset_pressed_by_indi_setprop_under_indiserver(under_indiserver) -> None:  # type: ignore[no-untyped-def]
    """Issue 58 item 4c: CCD_FRAME_RESET is AtMostOne (RESET Off, a button) where indilib
    declares it OneOfMany; indilib's own client presses it as before (RESET=On): the subframe
    and binning go back to the full frame, CCD_FRAME_RESET answers Ok with RESET Off."""
    port = under_indiserver.port
    assert setprop(port, f"{DEV}.CONNECTION.CONNECT=On").returncode == 0
    assert indi_eval(port, f'"{DEV}.CCD_INFO._STATE"==0', timeout=10).returncode == 0
    size = getprop(port, f"{DEV}.CCD_INFO.CCD_MAX_X", f"{DEV}.CCD_INFO.CCD_MAX_Y")
    width, height = (int(float(size[f"{DEV}.CCD_INFO.{n}"])) for n in ("CCD_MAX_X", "CCD_MAX_Y"))
    assert setprop(port, f"{DEV}.CCD_BINNING.HOR_BIN;VER_BIN=2;2").returncode == 0
    assert setprop(port, f"{DEV}.CCD_FRAME.X;Y;WIDTH;HEIGHT=100;50;600;400").returncode == 0
    assert indi_eval(port, f'"{DEV}.CCD_FRAME.WIDTH"==600 && "{DEV}.CCD_BINNING.HOR_BIN"==2',
                     timeout=10).returncode == 0
    assert setprop(port, f"{DEV}.CCD_FRAME_RESET.RESET=On").returncode == 0
    result = indi_eval(port, f'"{DEV}.CCD_FRAME_RESET._STATE"==1 && "{DEV}.CCD_FRAME.X"==0 && '
                             f'"{DEV}.CCD_FRAME.WIDTH"=={width} && '
                             f'"{DEV}.CCD_FRAME.HEIGHT"=={height} && '
                             f'"{DEV}.CCD_BINNING.HOR_BIN"==1', timeout=10)
    assert result.returncode == 0, result.describe()
    values = getprop(port, f"{DEV}.CCD_FRAME_RESET.RESET")
    assert values[f"{DEV}.CCD_FRAME_RESET.RESET"] == "Off"
