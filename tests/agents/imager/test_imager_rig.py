"""The rig's INDI camera and wheel (`IndiCamera`, `IndiWheel`, `open_rig`) on indilib's CCD
and wheel simulators under our server: frames come back whole as BLOBs, settings reach the
devices, filters go by name or slot, and a device that goes away is said at once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.plan.model import Devices
from indipyagents.rig.camera import TAKEN
from indipyagents.rig.camera import IndiCamera
from indipyagents.rig.connect import connect_device
from indipyagents.rig.connect import open_rig
from indipyagents.rig.indiset import is_connected
from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import DeviceRefused
from indipyagents.rig.protocols import Frame
from indipyagents.rig.wheel import IndiWheel
from indipyclient import Client
from indipyclient import setBLOBVector
from indipyclient import setNumberVector
from indipycore.fits import read_header
from indipyserver.drivers.executable import ExDriverConnection

CCD, WHEEL = "CCD Simulator", "Filter Simulator"


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    """A client of our server running indilib's CCD and wheel simulators (not connected)."""
    served = server()
    served.add_exdriver("indi_simulator_ccd", max_restarts=0)
    served.add_exdriver("indi_simulator_wheel", max_restarts=0)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as connected:
        yield connected


async def test_open_rig_connects_the_devices_and_a_frame_comes_back_whole(client: Client) -> None:
    """open_rig connects the CCD and the wheel (indilib's start disconnected) and asks for
    UPLOAD_MODE Client; an exposure returns the FITS the camera sent, with the binning, the
    frame type and the gain asked for."""
    await client.wait_for(CCD, "CONNECTION")
    assert not is_connected(client, CCD)
    rig = await open_rig(client, Devices(camera=CCD, wheel=WHEEL))
    assert is_connected(client, CCD) and is_connected(client, WHEEL)
    assert client.get(CCD, "UPLOAD_MODE", "UPLOAD_CLIENT") == "On"
    assert rig.camera.has_gain()
    frame = await rig.camera.expose(0.2, binning=2, frame_type="Dark", gain=40)
    header = read_header(frame.data)
    assert frame.format == ".fits"
    assert (header["XBINNING"], header["EXPTIME"], header["IMAGETYP"]) == (2, 0.2, "Dark Frame")
    assert len(frame.data) >= header.data_offset + header.data_size
    assert client.get(CCD, "CCD_GAIN", "GAIN") == 40


async def test_named_wheel_is_in_the_header_and_filters_go_by_name_or_slot(client: Client
                                                                          ) -> None:
    """After name_devices(wheel=...), the frame's FILTER is that wheel's filter, not the CCD
    simulator's own; select takes a name or a slot and answers at once when already there."""
    rig = await open_rig(client, Devices(camera=CCD, wheel=WHEEL))
    wheel = rig.wheel
    assert isinstance(wheel, IndiWheel)
    assert wheel.filters()[:3] == ["Red", "Green", "Blue"]
    assert await wheel.select("Green") == 2
    telescope = client.get(CCD, "ACTIVE_DEVICES", "ACTIVE_TELESCOPE")
    await rig.camera.name_devices(wheel=WHEEL)
    assert client.get(CCD, "ACTIVE_DEVICES", "ACTIVE_FILTER") == WHEEL
    assert client.get(CCD, "ACTIVE_DEVICES", "ACTIVE_TELESCOPE") == telescope  # not given
    header = read_header((await rig.camera.expose(0.1)).data)
    assert header["FILTER"] == "Green"
    async with client.events() as stream:
        assert await wheel.select(2) == 2
        await client.send_getProperties(WHEEL, "FILTER_NAME")  # a round trip
        await client.wait_for(WHEEL, "FILTER_NAME")
        stream.close()
        sent = [event async for event in stream
                if getattr(event, "vectorname", None) == "FILTER_SLOT"]
    assert sent == [], "select of the slot it is at moved the wheel"


async def test_wheel_refuses_an_unknown_filter_naming_its_filters(client: Client) -> None:
    """A filter the wheel has not: DeviceRefused naming the wheel and what it has."""
    rig = await open_rig(client, Devices(camera=CCD, wheel=WHEEL))
    assert rig.wheel is not None
    with pytest.raises(DeviceRefused, match="no filter named 'Ultraviolet'.*Red, Green"):
        await rig.wheel.select("Ultraviolet")
    with pytest.raises(DeviceRefused, match="no slot 40"):
        await rig.wheel.select(40)


async def test_a_device_the_server_does_not_hold_is_named(client: Client) -> None:
    """connect_device of a device nobody serves: DeviceLost naming it, after `appear` s."""
    with pytest.raises(DeviceLost) as raised:
        await connect_device(client, "No Such Camera", appear=0.5)
    assert raised.value.device == "No Such Camera"


async def test_a_camera_disconnected_mid_exposure_is_lost_at_once(client: Client) -> None:
    """A 30 s exposure whose camera another client disconnects ends with DeviceLost at once,
    not after the exposure's timeout."""
    rig = await open_rig(client, Devices(camera=CCD))
    camera = rig.camera
    assert isinstance(camera, IndiCamera)
    exposing = asyncio.create_task(camera.expose(30))
    await client.wait_for(CCD, "CCD_EXPOSURE", state="Busy")
    async with indipyclient.connect(client.host, client.port) as other:
        await other.set(CCD, "CONNECTION", {"DISCONNECT": "On"})
    with pytest.raises(DeviceLost, match="disconnected"):
        await asyncio.wait_for(exposing, 15)


async def test_abort_ends_the_exposure_and_warm_turns_the_cooler_off(client: Client) -> None:
    """abort() during an exposure: CCD_ABORT_EXPOSURE, the CCD no longer Busy; warm(): the
    CCD's CCD_COOLER is COOLER_OFF."""
    rig = await open_rig(client, Devices(camera=CCD))
    await client.set(CCD, "CCD_COOLER", {"COOLER_ON": "On"})
    exposing = asyncio.create_task(rig.camera.expose(30))
    await client.wait_for(CCD, "CCD_EXPOSURE", state="Busy")
    await rig.camera.abort()
    await client.wait_for(CCD, "CCD_EXPOSURE", state=("Idle", "Ok", "Alert"), timeout=10)
    exposing.cancel()
    await rig.camera.warm()
    assert client.get(CCD, "CCD_COOLER", "COOLER_OFF") == "On"


async def test_pixel_size_is_ccd_infos(client: Client) -> None:
    """wait_pixel_size() is CCD_INFO's CCD_PIXEL_SIZE once the camera has said it (indilib's
    simulator: 5.2 um), which the sequencer's dither and the solver's scale use; pixel_size()
    is None before the camera has said it. Read the moment after a connect, indilib's CCD_INFO
    may still hold its zeros (issue 90 item 4: a full run failed reading pixel_size() there),
    so the size is waited for by event."""
    await client.wait_for(CCD, "CONNECTION")
    camera = IndiCamera(client, CCD)
    assert camera.pixel_size() is None
    rig = await open_rig(client, Devices(camera=CCD))
    assert await rig.camera.wait_pixel_size() == pytest.approx(5.2, abs=1e-4)


async def test_a_bias_is_taken_at_the_shortest_exposure_and_out_of_range_is_refused(
        client: Client) -> None:
    """A plan's 0 s bias on indilib's CCD simulator (CCD_EXPOSURE_VALUE min 0.01 s) is taken
    at that shortest exposure, not failed by the client's range check; any other exposure
    outside the camera's range is refused naming the range (the run pauses saying so)."""
    rig = await open_rig(client, Devices(camera=CCD))
    header = read_header((await rig.camera.expose(0, frame_type="Bias")).data)
    assert (header["EXPTIME"], header["IMAGETYP"]) == (pytest.approx(0.01), "Bias Frame")
    for seconds, frame_type in ((0.0, "Dark"), (7200.0, "Light")):
        with pytest.raises(DeviceRefused, match="outside its CCD_EXPOSURE range, 0.01 to"):
            await rig.camera.expose(seconds, frame_type=frame_type)


async def test_a_camera_found_disconnected_is_connected_again_and_named_again() -> None:
    """A camera whose driver restarted (SIGKILL, restarted by our server) comes back
    disconnected, with its own ACTIVE_DEVICES: the next expose connects it again and names
    the wheel again before the frame (what the sequencer's retry of a lost frame relies on),
    so the frame's header has the wheel."""
    served = server()
    ccd = served.add_exdriver("indi_simulator_ccd", max_restarts=1)
    served.add_exdriver("indi_simulator_wheel", max_restarts=0)
    assert isinstance(ccd, ExDriverConnection)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        rig = await open_rig(client, Devices(camera=CCD, wheel=WHEEL))
        camera = rig.camera
        await camera.name_devices(wheel=WHEEL)
        pid = ccd.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await until(lambda: ccd.pid not in (None, pid)
                    and client.devices.vector(CCD, "CONNECTION") is not None
                    and client.devices.vector(CCD, "ACTIVE_DEVICES") is not None, 30,
                    "the camera's driver restarted and defined again")
        assert not is_connected(client, CCD)
        frame = await asyncio.wait_for(camera.expose(0.2), 60)
        assert is_connected(client, CCD)
        assert client.get(CCD, "ACTIVE_DEVICES", "ACTIVE_FILTER") == WHEEL
        assert read_header(frame.data).values.get("FILTER") == client.get(
            WHEEL, "FILTER_NAME", "FILTER_SLOT_NAME_1")


async def test_a_camera_a_client_disconnected_is_left_so(client: Client) -> None:
    """The camera connected by the rig, then disconnected by another client while it stays
    defined (issue 89 item 1): the next expose does not connect it again but is DeviceLost
    saying why, and it stays disconnected; once a client connects it, it is used again."""
    rig = await open_rig(client, Devices(camera=CCD))
    async with indipyclient.connect(client.host, client.port) as other:
        await other.set(CCD, "CONNECTION", {"DISCONNECT": "On"})
        await client.wait_for(CCD, "CONNECTION", state=("Idle", "Ok"))
        await asyncio.sleep(0)
        with pytest.raises(DeviceLost, match="disconnected by a client"):
            await rig.camera.expose(0.2)
        assert not is_connected(client, CCD)
        await other.set(CCD, "CONNECTION", {"CONNECT": "On"})
    await until(lambda: is_connected(client, CCD), 10, "connected by the other client")
    frame = await asyncio.wait_for(rig.camera.expose(0.2), 60)
    assert frame.format == ".fits"


async def test_a_local_folder_takes_the_frame_as_the_cameras_file_no_blob(
        client: Client, tmp_path: Path) -> None:
    """With a folder of this machine (the imager face's way, as indilib's agent: UPLOAD_MODE
    Local), indilib's camera writes the frame there and names it in CCD_FILE_PATH: expose
    returns that file whole, removes it, and no CCD1 BLOB crossed the server."""
    rig = await open_rig(client, Devices(camera=CCD), local=tmp_path / "incoming")
    assert client.get(CCD, "UPLOAD_MODE", "UPLOAD_LOCAL") == "On"
    assert client.get(CCD, "UPLOAD_SETTINGS", "UPLOAD_DIR") == str(tmp_path / "incoming")
    blobs = []
    async with client.events(maxsize=100) as stream:
        frame = await rig.camera.expose(0.2, frame_type="Dark")

        async def drain() -> None:
            async for event in stream:
                if isinstance(event, setBLOBVector):
                    blobs.append(event)

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(drain(), 0.5)
    header = read_header(frame.data)
    assert header["EXPTIME"] == 0.2 and len(frame.data) >= header.data_offset + header.data_size
    assert blobs == [] and list((tmp_path / "incoming").iterdir()) == []


async def test_a_local_frame_is_read_later_and_the_cameras_next_file_does_not_spoil_it(
        client: Client, tmp_path: Path) -> None:
    """The camera writes every frame under the same name: the agent renames the file as the
    frame comes and reads it only when the bytes are wanted (after the next exposure has
    been asked for), so two frames taken before either is read are both whole and each is
    its own (EXPTIME 0.2 then 0.3); reading removes the file."""
    incoming = tmp_path / "incoming"
    rig = await open_rig(client, Devices(camera=CCD), local=incoming)
    first = await rig.camera.expose(0.2, frame_type="Dark")
    second = await rig.camera.expose(0.3, frame_type="Dark")
    assert len(list(incoming.iterdir())) == 2
    assert read_header(second.data)["EXPTIME"] == 0.3
    assert read_header(first.data)["EXPTIME"] == 0.2
    assert list(incoming.iterdir()) == []


async def test_a_series_asks_for_each_next_exposure_before_handing_a_frame_over(
        client: Client, tmp_path: Path) -> None:
    """A series of three 1 s frames: each time a frame is handed over, the caller does no
    more than watch, and the camera starts its next exposure (its CCD_EXPOSURE goes Busy
    again), which only a request sent before the handover can explain; after the last, the
    camera ends Ok and starts nothing. The frames are whole and alike."""
    rig = await open_rig(client, Devices(camera=CCD), local=tmp_path / "incoming")
    starts = 0  # CCD_EXPOSURE turning Busy from another state: an exposure begun
    busy = False

    async def exposures_begun(stream: AsyncIterator[object], wanted: int) -> None:
        nonlocal starts, busy
        async for event in stream:
            if isinstance(event, setNumberVector) and event.devicename == CCD \
                    and event.vectorname == "CCD_EXPOSURE" and event.state is not None:
                now_busy = event.state.value == "Busy"
                starts += now_busy and not busy
                busy = now_busy
                if starts >= wanted:
                    return

    async with client.events(maxsize=1000) as stream, \
            contextlib.aclosing(rig.camera.series(1.0, 3, frame_type="Dark")) as frames:
        taken = []
        async for frame in frames:
            taken.append(frame)
            if len(taken) < 3:
                # The next exposure begins with the caller doing nothing but this wait.
                await asyncio.wait_for(exposures_begun(stream, len(taken) + 1), 5)
    await until(lambda: client.devices.vector(CCD, "CCD_EXPOSURE").state.value == "Ok", 5,
                "the last exposure ended")
    assert starts == 3
    assert [read_header(f.data)["EXPTIME"] for f in taken] == [1.0, 1.0, 1.0]


async def test_a_series_left_early_aborts_the_exposure_it_asked_for(client: Client) -> None:
    """Left after its first frame (an error in the caller, a cancel), a series aborts the
    exposure it had already asked for: the camera leaves Busy at once, not 5 s later."""
    rig = await open_rig(client, Devices(camera=CCD))
    async with contextlib.aclosing(rig.camera.series(5.0, 3, frame_type="Dark")) as frames:
        async for _ in frames:
            break
    exposure = client.devices.vector(CCD, "CCD_EXPOSURE")
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(3):
        while exposure.state.value == "Busy":
            await asyncio.sleep(0.05)
    assert asyncio.get_running_loop().time() - started < 3


async def test_frames_left_by_a_killed_agent_are_removed_and_a_live_ones_kept(
        client: Client, tmp_path: Path) -> None:
    """A frame file taken by an agent process that was killed before reading it is never
    saved (the batch takes that frame again): the next agent removes it from the local
    folder; a file of a process still running is left alone."""
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()
    orphan = incoming / f"{TAKEN}{dead.pid}_1.fits"
    alive = incoming / f"{TAKEN}{os.getppid()}_1.fits"
    orphan.write_bytes(b"x")
    alive.write_bytes(b"y")
    await open_rig(client, Devices(camera=CCD), local=incoming)
    assert not orphan.exists() and alive.read_bytes() == b"y"


def test_a_file_frame_is_read_once_and_a_discarded_one_removes_its_file(
        tmp_path: Path) -> None:
    """Frame(path=...) reads its file on the first `data` and removes it; `discard` removes
    a file never read; frames compare by their bytes."""
    one, two = tmp_path / "one.fits", tmp_path / "two.fits"
    one.write_bytes(b"abc")
    two.write_bytes(b"def")
    frame = Frame(path=one)
    assert frame.data == b"abc" and not one.exists() and frame.data == b"abc"
    assert frame == Frame(b"abc")
    Frame(path=two).discard()
    assert not two.exists()


async def test_a_camera_whose_files_are_elsewhere_sends_its_frames_as_blobs(
        tmp_path: Path) -> None:
    """A camera writing on another machine (here: indilib's, in a mount namespace of its own
    with a private tmpfs over the folder, as root) names a file this machine does not have:
    the frame is taken again as a BLOB, and the later ones come as BLOBs from the start."""
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    wrapper = tmp_path / "elsewhere_ccd"
    wrapper.write_text("#!/bin/sh\nexec unshare --mount sh -c "
                       f"'mount -t tmpfs none {incoming} && exec indi_simulator_ccd'\n")
    wrapper.chmod(0o755)
    served = server()
    served.add_exdriver(str(wrapper), max_restarts=0)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as elsewhere:
        rig = await open_rig(elsewhere, Devices(camera=CCD), local=incoming)
        first = await rig.camera.expose(0.2, frame_type="Dark")
        assert elsewhere.get(CCD, "UPLOAD_MODE", "UPLOAD_CLIENT") == "On"
        second = await rig.camera.expose(0.2, frame_type="Dark")
    for frame in (first, second):
        assert read_header(frame.data)["EXPTIME"] == 0.2
    assert list(incoming.iterdir()) == []
