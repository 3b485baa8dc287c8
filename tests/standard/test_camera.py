"""The CCD role (`indipydriver.standard.camera.Camera`): its properties as indilib defines
them, the exposure sequence Ekos expects (Busy countdown, the FITS BLOB, Ok), abort, frame
and binning, upload modes, compression and cooling, driven through `DriverHarness`."""

from __future__ import annotations

import asyncio
import logging
import zlib
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rolekit import number
from rolekit import switch

from indipycore.fits import read_header
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import DefBLOBVector
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import DefSwitchVector
from indipycore.protocol.events import DelProperty
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import NewTextVector
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetBLOBVector
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.events import SetTextVector
from indipycore.protocol.events import Text
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.standard.camera import Camera
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Image
from indipydriver.standard.camera import Sensor
from indipydriver.testing import DriverHarness

ROOT = Path(__file__).resolve().parents[2]
SENSOR = Sensor(64, 48, 3.8, max_binning=4)
DEV = "Cam"


class FakeCamera:
    """Returns a ramp image of the requested size after `exposure.seconds`; records calls."""

    def __init__(self, fail: bool = False) -> None:
        self.requests: list[Exposure] = []
        self.aborts = 0
        self.cancelled = 0
        self.fail = fail

    async def expose(self, exposure: Exposure) -> Image:
        self.requests.append(exposure)
        try:
            await asyncio.sleep(exposure.seconds)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.fail:
            raise OSError("shutter stuck")
        w, h = exposure.image_width, exposure.image_height
        return Image(w, h, array("H", (i % 65536 for i in range(w * h))))

    async def abort(self) -> None:
        self.aborts += 1


class FastCooler:
    def __init__(self) -> None:
        self.celsius = 20.0
        self.target = 20.0
        self.on = False

    async def temperature(self) -> float:
        # 1 degree closer each reading: a ramp the poll loop follows.
        if self.on and self.celsius != self.target:
            self.celsius += max(-1.0, min(1.0, self.target - self.celsius))
        return self.celsius

    async def set_target(self, celsius: float) -> None:
        self.target = celsius

    async def set_cooler(self, on: bool) -> None:
        self.on = on


def make(fake: FakeCamera | None = None, cooler: FastCooler | None = None,
         **kwargs: Any) -> tuple[IPyDriver, Camera, FakeCamera]:
    fake = fake or FakeCamera()
    role = Camera(SENSOR, fake.expose, abort=fake.abort, cooler=cooler, poll_seconds=0.05,
                  **kwargs)
    return IPyDriver(Device(DEV, roles=[role], driver_exec="cam.py")), role, fake


async def connected(client: DriverHarness) -> list[Any]:
    await switch(client, DEV, "CONNECTION", CONNECT="On")
    await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)
    return [e for e in await client.get_properties() if e.name not in
            ("CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS", "POLLING_PERIOD")]


def expose(seconds: float) -> NewNumberVector:
    return NewNumberVector(DEV, "CCD_EXPOSURE", (Number("CCD_EXPOSURE_VALUE", str(seconds)),))


async def test_connect_defines_indilibs_camera_properties() -> None:
    """Names, labels, groups, perms, rules and formats as indilib 1.9.9's CCD simulator; the
    cooler's pair only with a cooler; DRIVER_INTERFACE 2 (CCD)."""
    driver, _, _ = make()
    async with DriverHarness(driver) as client:
        before = await client.get_properties()
        info = next(e for e in before if e.name == "DRIVER_INFO")
        assert info["DRIVER_INTERFACE"].value == "2"
        defs = {e.name: e for e in await connected(client)}
    assert "CCD_TEMPERATURE" not in defs and "CCD_COOLER" not in defs
    exposure = defs["CCD_EXPOSURE"]
    assert isinstance(exposure, DefNumberVector)
    assert (exposure.label, exposure.group, exposure.perm) == ("Expose", "Main Control", "rw")
    value = exposure["CCD_EXPOSURE_VALUE"]
    assert (value.label, value.format, float(value.min), float(value.max)) == (
        "Duration (s)", "%5.2f", 0.01, 3600)
    abort = defs["CCD_ABORT_EXPOSURE"]
    assert isinstance(abort, DefSwitchVector) and abort.rule == "AtMostOne"
    frame = defs["CCD_FRAME"]
    assert frame.group == "Image Settings"
    assert [(m.name, m.label, m.format) for m in frame.members] == [
        ("X", "Left ", "%4.0f"), ("Y", "Top", "%4.0f"), ("WIDTH", "Width", "%4.0f"),
        ("HEIGHT", "Height", "%4.0f")]
    assert frame["WIDTH"].float == 64 and frame["HEIGHT"].float == 48
    assert [m.name for m in defs["CCD_BINNING"].members] == ["HOR_BIN", "VER_BIN"]
    ccd_info = defs["CCD_INFO"]
    assert (ccd_info.label, ccd_info.group, ccd_info.perm) == ("CCD Information", "Image Info", "ro")
    assert {m.name: m.float for m in ccd_info.members} == {
        "CCD_MAX_X": 64, "CCD_MAX_Y": 48, "CCD_PIXEL_SIZE": 3.8, "CCD_PIXEL_SIZE_X": 3.8,
        "CCD_PIXEL_SIZE_Y": 3.8, "CCD_BITSPERPIXEL": 16}
    assert [m.name for m in defs["CCD_FRAME_TYPE"].members] == [
        "FRAME_LIGHT", "FRAME_BIAS", "FRAME_DARK", "FRAME_FLAT"]
    ccd1 = defs["CCD1"]
    assert isinstance(ccd1, DefBLOBVector)
    assert (ccd1.label, ccd1.group, [m.name for m in ccd1.members]) == (
        "Image Data", "Image Info", ["CCD1"])
    upload = defs["UPLOAD_MODE"]
    assert (upload.group, [m.name for m in upload.members]) == (
        "Options", ["UPLOAD_CLIENT", "UPLOAD_LOCAL", "UPLOAD_BOTH"])
    assert [m.name for m in defs["UPLOAD_SETTINGS"].members] == ["UPLOAD_DIR", "UPLOAD_PREFIX"]
    assert defs["CCD_TRANSFER_FORMAT"]["FORMAT_FITS"].value == SwitchState.ON


async def test_an_exposure_counts_down_then_sends_a_fits_of_the_frame_size() -> None:
    """Busy with the duration at once, Busy with less left, Busy 0, the FITS in CCD1 (Ok,
    ".fits", NAXIS1 x NAXIS2 the frame, BITPIX 16, EXPTIME), then CCD_EXPOSURE Ok 0."""
    driver, _, fake = make()
    async with DriverHarness(driver, timeout=5) as client:
        await connected(client)
        await client.send(expose(1.3))
        states = []
        while True:
            event = await client.receive()
            if isinstance(event, SetNumberVector) and event.name == "CCD_EXPOSURE":
                states.append((event.state, event["CCD_EXPOSURE_VALUE"].float))
                if event.state != State.BUSY:
                    break
            elif isinstance(event, SetBLOBVector):
                blob = event["CCD1"]
                assert event.state == State.OK
                states.append(("BLOB", blob.format))
                data = blob.data
    assert states[0] == (State.BUSY, 1.3)
    assert any(s == State.BUSY and 0 < v < 1.3 for s, v in states[1:-3])
    assert states[-3:] == [(State.BUSY, 0.0), ("BLOB", ".fits"), (State.OK, 0.0)]
    header = read_header(data)
    assert (header["NAXIS1"], header["NAXIS2"], header["BITPIX"]) == (64, 48, 16)
    assert header["EXPTIME"] == 1.3 and header["FRAME"] == "Light"
    assert len(data) == header.data_offset + 64 * 48 * 2 + (-(64 * 48 * 2) % 2880)
    assert fake.requests == [Exposure(1.3, 0, 0, 64, 48, 1, 1, "Light")]


async def test_binning_and_a_subframe_set_the_image_size_not_the_frame() -> None:
    """CCD_FRAME stays in unbinned pixels; the image is WIDTH/HOR_BIN x HEIGHT/VER_BIN; the
    frame type reaches expose and the FITS header."""
    driver, _, fake = make()
    async with DriverHarness(driver, timeout=5) as client:
        await connected(client)
        await number(client, DEV, "CCD_FRAME", X=8, Y=4, WIDTH=40, HEIGHT=30)
        frame = await client.expect(SetNumberVector, name="CCD_FRAME")
        assert frame.state == State.OK and frame["WIDTH"].float == 40
        await number(client, DEV, "CCD_BINNING", HOR_BIN=2, VER_BIN=3)
        await client.expect(SetNumberVector, name="CCD_BINNING", state=State.OK)
        await switch(client, DEV, "CCD_FRAME_TYPE", FRAME_DARK="On")
        await client.expect(SetSwitchVector, name="CCD_FRAME_TYPE", state=State.OK)
        await client.send(expose(0.05))
        blob = await client.expect(SetBLOBVector, name="CCD1")
    header = read_header(blob["CCD1"].data)
    assert (header["NAXIS1"], header["NAXIS2"]) == (20, 10)
    assert (header["XBINNING"], header["YBINNING"], header["FRAME"]) == (2, 3, "Dark")
    assert fake.requests[-1] == Exposure(0.05, 8, 4, 40, 30, 2, 3, "Dark")


async def test_a_subframe_past_the_edge_is_cut_and_reset_restores_the_full_frame() -> None:
    driver, role, _ = make()
    async with DriverHarness(driver) as client:
        await connected(client)
        await number(client, DEV, "CCD_FRAME", X=50, WIDTH=64)
        frame = await client.expect(SetNumberVector, name="CCD_FRAME")
        assert (frame["X"].float, frame["WIDTH"].float) == (50, 14)
        await switch(client, DEV, "CCD_FRAME_RESET", RESET="On")
        reset = await client.expect(SetNumberVector, name="CCD_FRAME")
        assert (reset["X"].float, reset["WIDTH"].float, reset["HEIGHT"].float) == (0, 64, 48)
        binning = await client.expect(SetNumberVector, name="CCD_BINNING")
        assert binning["HOR_BIN"].float == 1
    assert role.current_frame() == (0, 0, 64, 48)


async def test_abort_ends_the_exposure_without_an_image() -> None:
    """ABORT=On: the exposure task is cancelled, the abort hook runs, CCD_ABORT_EXPOSURE Ok
    with ABORT Off, CCD_EXPOSURE Idle 0, and no BLOB follows."""
    driver, role, fake = make()
    async with DriverHarness(driver) as client:
        await connected(client)
        await client.send(expose(60))
        await client.expect(SetNumberVector, name="CCD_EXPOSURE", state=State.BUSY)
        await switch(client, DEV, "CCD_ABORT_EXPOSURE", ABORT="On")
        abort = await client.expect(SetSwitchVector, name="CCD_ABORT_EXPOSURE")
        assert abort.state == State.OK and abort["ABORT"].value == SwitchState.OFF
        idle = await client.expect(SetNumberVector, name="CCD_EXPOSURE")
        assert idle.state == State.IDLE and idle["CCD_EXPOSURE_VALUE"].float == 0
        await client.handled()
        assert not [e for e in client.pending() if isinstance(e, SetBLOBVector)]
    assert (fake.cancelled, fake.aborts, role.images_sent) == (1, 1, 0)
    assert not role.exposing.running


async def test_a_failing_exposure_goes_alert() -> None:
    driver, _, _ = make(FakeCamera(fail=True))
    async with DriverHarness(driver) as client:
        await connected(client)
        await client.send(expose(0.01))
        alert = await client.expect(SetNumberVector, name="CCD_EXPOSURE", state=State.ALERT)
        assert "shutter stuck" in alert.message


async def test_upload_local_saves_the_file_and_sends_its_path(tmp_path: Path) -> None:
    """UPLOAD_LOCAL: the FITS goes to UPLOAD_DIR named by UPLOAD_PREFIX (XXX -> a counter),
    its path in CCD_FILE_PATH, and no BLOB."""
    driver, _, _ = make()
    async with DriverHarness(driver) as client:
        await connected(client)
        await client.send(NewTextVector(DEV, "UPLOAD_SETTINGS", (
            Text("UPLOAD_DIR", str(tmp_path)), Text("UPLOAD_PREFIX", "M31_XXX"))))
        await client.expect(SetTextVector, name="UPLOAD_SETTINGS", state=State.OK)
        await switch(client, DEV, "UPLOAD_MODE", UPLOAD_LOCAL="On")
        await client.expect(SetSwitchVector, name="UPLOAD_MODE", state=State.OK)
        await client.send(expose(0.01))
        path = await client.expect(SetTextVector, name="CCD_FILE_PATH")
        await client.expect(SetNumberVector, name="CCD_EXPOSURE", state=State.OK)
        await client.handled()
        assert not [e for e in client.pending() if isinstance(e, SetBLOBVector)]
    saved = Path(path["FILE_PATH"].value)
    assert saved == tmp_path / "M31_001.fits"
    assert read_header(saved.read_bytes())["NAXIS1"] == 64


async def test_compression_sends_fits_z() -> None:
    """CCD_COMPRESSION enabled: the BLOB is zlib-compressed with format .fits.z (INDI's own
    compression, which clients inflate); its size is the FITS' size."""
    driver, _, _ = make()
    async with DriverHarness(driver) as client:
        await connected(client)
        await switch(client, DEV, "CCD_COMPRESSION", INDI_ENABLED="On")
        await client.expect(SetSwitchVector, name="CCD_COMPRESSION")
        await client.send(expose(0.01))
        blob = (await client.expect(SetBLOBVector, name="CCD1"))["CCD1"]
    assert blob.format == ".fits.z"
    fits = zlib.decompress(blob.data)
    assert blob.size == len(fits) and read_header(fits)["NAXIS2"] == 48


async def test_cooling_ramps_busy_then_ok_and_turns_the_cooler_on() -> None:
    """A new CCD_TEMPERATURE: COOLER_ON goes On, the temperature is sent Busy as it moves,
    and Ok once within the threshold of the target."""
    cooler = FastCooler()
    driver, _, _ = make(cooler=cooler)
    async with DriverHarness(driver, timeout=5) as client:
        defs = {e.name: e for e in await connected(client)}
        assert defs["CCD_COOLER"]["COOLER_OFF"].value == SwitchState.ON
        await number(client, DEV, "CCD_TEMPERATURE", CCD_TEMPERATURE_VALUE=17)
        cooler_on = await client.expect(SetSwitchVector, name="CCD_COOLER")
        assert cooler_on["COOLER_ON"].value == SwitchState.ON
        seen = []
        while True:
            event = await client.expect(SetNumberVector, name="CCD_TEMPERATURE")
            seen.append((event.state, event["CCD_TEMPERATURE_VALUE"].float))
            if event.state == State.OK:
                break
    assert seen[0][0] == State.BUSY
    assert seen[-1] == (State.OK, 17.0)
    assert [v for _, v in seen] == sorted((v for _, v in seen), reverse=True)


async def test_disconnect_aborts_the_exposure_and_deletes_the_camera() -> None:
    """DISCONNECT cancels the running exposure and deletes every camera property but
    ACTIVE_DEVICES, which indilib's CCD keeps while disconnected."""
    driver, role, fake = make()
    async with DriverHarness(driver) as client:
        defs = {d.name for d in await connected(client)} - {"ACTIVE_DEVICES"}
        await client.send(expose(60))
        await client.expect(SetNumberVector, name="CCD_EXPOSURE", state=State.BUSY)
        await switch(client, DEV, "CONNECTION", DISCONNECT="On")
        deleted = set()
        while len(deleted) < len(defs):
            deleted.add((await client.expect(DelProperty)).name)
        await client.expect_nothing(DelProperty)
        left = {d.name for d in await client.get_properties()}
    assert deleted == defs
    assert "ACTIVE_DEVICES" in left and not left & defs
    assert fake.cancelled == 1 and not role.exposing.running


async def test_a_new_exposure_while_exposing_aborts_the_first() -> None:
    driver, role, fake = make()
    async with DriverHarness(driver, timeout=5) as client:
        await connected(client)
        await client.send(expose(60))
        await client.expect(SetNumberVector, name="CCD_EXPOSURE", state=State.BUSY)
        await client.send(expose(0.05))
        await client.expect(SetBLOBVector, name="CCD1")
    assert fake.cancelled == 1 and role.images_sent == 1
    assert [r.seconds for r in fake.requests] == [60, 0.05]


@pytest.mark.parametrize("bad", ["0", "4000"])
async def test_an_exposure_outside_the_sensor_limits_is_refused(bad: str) -> None:
    driver, _, fake = make()
    async with DriverHarness(driver) as client:
        await connected(client)
        await number(client, DEV, "CCD_EXPOSURE", CCD_EXPOSURE_VALUE=bad)
        alert = await client.expect(SetNumberVector, name="CCD_EXPOSURE")
        assert alert.state == State.ALERT
    assert fake.requests == []


def _readme_camera() -> IPyDriver:
    """The camera of README.md's "A camera Ekos can capture with", run as written but for its
    last line (which would serve it)."""
    section = (ROOT / "README.md").read_text().split("## A camera Ekos can capture with", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = "\n".join(line for line in code.splitlines() if not line.startswith("asyncio.run("))
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    driver = namespace["driver"]
    assert isinstance(driver, IPyDriver)
    return driver


def _simulator_camera() -> IPyDriver:
    """``indipy_simulator_ccd``: also the camera docs/guides/camera_driver.rst builds (the
    guide shows ``indipysimulators/ccd.py``'s make_driver)."""
    from indipysimulators import ccd

    return ccd.make_driver()


@pytest.mark.parametrize("make_camera", [_readme_camera, _simulator_camera],
                         ids=["README's camera", "indipy_simulator_ccd (the guide's camera)"])
async def test_our_cameras_start_without_a_warning(
        make_camera: Callable[[], IPyDriver], caplog: pytest.LogCaptureFixture) -> None:
    """Issue 58 item 4c: every camera of this repository is built, served and connected with
    nothing logged at WARNING. The toolkit's own vector check warned at each start about
    CCD_FRAME_RESET ("OneOfMany with no switch On"): it is now the AtMostOne button indilib's
    clients press (RESET=On), RESET Off until pressed, and a press still resets the frame."""
    with caplog.at_level(logging.WARNING):
        driver = make_camera()
        name = next(iter(driver))
        async with DriverHarness(driver) as client:
            await switch(client, name, "CONNECTION", CONNECT="On")
            await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)
            defs = {e.name: e for e in await client.get_properties(name)}
            await switch(client, name, "CCD_FRAME_RESET", RESET="On")
            reset = await client.expect(SetSwitchVector, name="CCD_FRAME_RESET")
    assert [record.getMessage() for record in caplog.records
            if record.levelno >= logging.WARNING] == []
    defined = defs["CCD_FRAME_RESET"]
    assert isinstance(defined, DefSwitchVector)
    assert (defined.rule, defined["RESET"].value) == ("AtMostOne", SwitchState.OFF)
    assert (reset.state, reset["RESET"].value) == (State.OK, SwitchState.OFF)
