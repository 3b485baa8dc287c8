"""A camera's frame type and gain are set, and a parked mount is unparked before its slew,
even when the device defines them late.

indilib's CCD defines CCD_FRAME_TYPE, UPLOAD_MODE and CCD_GAIN well after CCD_EXPOSURE and
CCD_BINNING, which is all `IndiCamera.prepare` waits for. A full run once took a bias on
indilib's CCD simulator, connected a moment before, as a "Light Frame": the frame type was not
defined yet, so it was not set, and the camera took its default. Here a driver defines them a
second after the rest, in the frame type an earlier run left it in (Dark), and says in each
frame which frame type it was taken as. The same for indilib's telescope, which defines
TELESCOPE_PARK well after EQUATORIAL_EOD_COORD: a parked mount taken for an unparked one is
asked to slew, and refuses. And for indilib's dome, which defines DOME_PARK well after
DOME_SHUTTER: a parked dome taken for one that cannot park had its shutter opened and stayed
parked.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

from serverkit import blob_set
from serverkit import number_set
from serverkit import running
from serverkit import script_constants
from serverkit import server
from serverkit import stdio_driver

import indipyclient
from indipyagents.plan.model import Batch
from indipyagents.rig.camera import IndiCamera
from indipyagents.rig.dome import IndiDome
from indipyagents.rig.indiset import OPTIONAL_WAIT
from indipyagents.rig.mount import IndiMount
from indipycore.protocol import BLOB
from indipycore.protocol import DefBLOBVector
from indipycore.protocol import DefNumberVector
from indipycore.protocol import DefSwitchVector
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import Rule
from indipycore.protocol import SetSwitchVector
from indipycore.protocol import State
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import serialise

sys.path.insert(0, str(Path(__file__).parents[1] / "night"))

from agentkit import AGENT
from agentkit import night
from agentkit import target
from nightkit import hosted
from nightkit import load_and_start

DEVICE = "Late CCD"
MOUNT = "Late Mount"
DOME = "Late Dome"
TYPES = ("FRAME_LIGHT", "FRAME_BIAS", "FRAME_DARK", "FRAME_FLAT")
LATE = 1.0  # seconds between the camera's first definitions and its frame type and gain


def _switches(on: str, members: tuple[str, ...] = TYPES) -> tuple[Switch, ...]:
    return tuple(Switch(name, SwitchState.ON if name == on else SwitchState.OFF)
                 for name in members)


def late_camera(folder: Path, *, upload_early: bool = False) -> str:
    """An executable driver of `DEVICE`, connected: at each getProperties CONNECTION,
    CCD_EXPOSURE, CCD_BINNING and CCD1 at once, CCD_FRAME_TYPE (in the type it holds, Dark at
    first), CCD_GAIN and UPLOAD_MODE (Client) `LATE` seconds after, and no UPLOAD_SETTINGS;
    each set answered Ok; an exposure answered with a CCD1 BLOB whose bytes are the frame type
    it holds. `upload_early`: UPLOAD_MODE at once, with the first (as indilib's CCD, which
    defines it before a connection and CCD_GAIN after)."""
    early = b"".join(serialise(vector) for vector in (
        DefSwitchVector(DEVICE, "CONNECTION", State.OK, Perm.RW, Rule.ONE_OF_MANY, (
            Switch("CONNECT", SwitchState.ON), Switch("DISCONNECT", SwitchState.OFF))),
        DefNumberVector(DEVICE, "CCD_EXPOSURE", State.IDLE, Perm.RW, (
            Number("CCD_EXPOSURE_VALUE", "0", format="%.3f", min="0.001", max="3600",
                   step="0"),)),
        DefNumberVector(DEVICE, "CCD_BINNING", State.IDLE, Perm.RW, (
            Number("HOR_BIN", "1", format="%.0f", min="1", max="4", step="1"),
            Number("VER_BIN", "1", format="%.0f", min="1", max="4", step="1"))),
        DefBLOBVector(DEVICE, "CCD1", State.IDLE, Perm.RO, (BLOB("CCD1"),))))
    frame_types = {name.encode(): serialise(DefSwitchVector(
        DEVICE, "CCD_FRAME_TYPE", State.IDLE, Perm.RW, Rule.ONE_OF_MANY, _switches(name)))
        for name in TYPES}
    answers = {name.encode(): serialise(SetSwitchVector(
        DEVICE, "CCD_FRAME_TYPE", _switches(name), state=State.OK)) for name in TYPES}
    frames = {name.encode(): blob_set(DEVICE, "CCD1", "CCD1", name.encode(), fmt=".fits")
              for name in TYPES}
    gain = serialise(DefNumberVector(DEVICE, "CCD_GAIN", State.IDLE, Perm.RW, (
        Number("GAIN", "0", format="%.0f", min="0", max="100", step="1"),)))
    upload = serialise(DefSwitchVector(DEVICE, "UPLOAD_MODE", State.IDLE, Perm.RW,
                                       Rule.ONE_OF_MANY, (
        Switch("UPLOAD_CLIENT", SwitchState.ON), Switch("UPLOAD_LOCAL", SwitchState.OFF),
        Switch("UPLOAD_BOTH", SwitchState.OFF))))
    early, rest = (early + upload, gain) if upload_early else (early, gain + upload)
    path = folder / "late_camera.py"
    path.write_text(f"#!{sys.executable}\n" + stdio_driver(
        """
        os.write(1, EARLY)
        time.sleep(LATE)
        os.write(1, FRAME_TYPES[held[0]] + REST)
        """,
        """
        asked = re.search(rb'name="(FRAME_[A-Z]+)"[^>]*>\\s*On', chunk)
        if b"CCD_FRAME_TYPE" in chunk and asked:
            held[0] = asked[1]
            os.write(1, ANSWERS[held[0]])
        elif b"CCD_GAIN" in chunk:
            value = re.search(rb'name="GAIN"[^>]*>\\s*([0-9.]+)', chunk)[1].decode()
            os.write(1, GAIN_SET.replace(b"VALUE", value.encode()))
        elif b"CCD_EXPOSURE" in chunk:
            os.write(1, FRAMES[held[0]])
        """,
        "import re, time\nheld = [b'FRAME_DARK']\n" + script_constants(
            EARLY=early, FRAME_TYPES=frame_types, ANSWERS=answers, FRAMES=frames, REST=rest,
            GAIN_SET=number_set(DEVICE, "CCD_GAIN", {"GAIN": "VALUE"}, state=State.OK),
            LATE=LATE)))
    path.chmod(0o755)
    return str(path)


def _parked_late(folder: Path, device: str, park: str,
                 early: tuple[DefSwitchVector | DefNumberVector, ...],
                 otherwise: str, **constants: object) -> str:
    """An executable driver of `device`, connected and parked: CONNECTION and `early` at each
    getProperties, its park vector `park` `LATE` seconds after; an UNPARK answered Ok, any
    other new vector handled by `otherwise` (script statements, `held[0]` the park's member
    on, `constants` at hand)."""
    members = ("PARK", "UNPARK")
    connection = DefSwitchVector(device, "CONNECTION", State.OK, Perm.RW, Rule.ONE_OF_MANY, (
        Switch("CONNECT", SwitchState.ON), Switch("DISCONNECT", SwitchState.OFF)))
    parked = {on: serialise(DefSwitchVector(device, park, State.OK, Perm.RW, Rule.ONE_OF_MANY,
                                            _switches(on, members))) for on in members}
    path = folder / f"parked_late_{park.lower()}.py"
    path.write_text(f"#!{sys.executable}\n" + stdio_driver(
        """
        os.write(1, EARLY)
        time.sleep(LATE)
        os.write(1, PARKED[held[0]])
        """,
        "if PARK in chunk and re.search(rb'name=\"UNPARK\"[^>]*>\\s*On', chunk):\n"
        "    held[0] = 'UNPARK'\n"
        "    os.write(1, UNPARKED)\n"
        "else:\n" + textwrap.indent(textwrap.dedent(otherwise).strip(), "    "),
        "import re, time\nheld = ['PARK']\n" + script_constants(
            EARLY=b"".join(serialise(vector) for vector in (connection, *early)),
            PARKED=parked, LATE=LATE, PARK=park.encode(),
            UNPARKED=serialise(SetSwitchVector(device, park, _switches("UNPARK", members),
                                               state=State.OK)), **constants)))
    path.chmod(0o755)
    return str(path)


def late_mount(folder: Path) -> str:
    """`MOUNT`, parked, its TELESCOPE_PARK late (`_parked_late`), ON_COORD_SET and
    EQUATORIAL_EOD_COORD at once: a goto while parked answered Alert (as indilib's simulator
    refuses it), else Busy, then Ok at the coordinates asked."""
    return _parked_late(
        folder, MOUNT, "TELESCOPE_PARK", (
            DefSwitchVector(MOUNT, "ON_COORD_SET", State.OK, Perm.RW, Rule.ONE_OF_MANY, (
                Switch("TRACK", SwitchState.ON), Switch("SLEW", SwitchState.OFF))),
            DefNumberVector(MOUNT, "EQUATORIAL_EOD_COORD", State.OK, Perm.RW, (
                Number("RA", "0", format="%010.6m", min="0", max="24", step="0"),
                Number("DEC", "90", format="%010.6m", min="-90", max="90", step="0")))),
        """
        if b"EQUATORIAL_EOD_COORD" in chunk:
            ra, dec = (re.search(rb'name="' + key + rb'"[^>]*>\\s*([-0-9.:]+)', chunk)[1]
                       for key in (b"RA", b"DEC"))
            if held[0] == "PARK":
                os.write(1, REFUSED)
            else:
                os.write(1, BUSY)
                os.write(1, ARRIVED.replace(b"RA_", ra).replace(b"DEC_", dec))
        """,
        REFUSED=number_set(MOUNT, "EQUATORIAL_EOD_COORD", {}, state=State.ALERT,
                           message="the mount is parked"),
        BUSY=number_set(MOUNT, "EQUATORIAL_EOD_COORD", {}, state=State.BUSY),
        ARRIVED=number_set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": "RA_", "DEC": "DEC_"},
                           state=State.OK))


def late_dome(folder: Path) -> str:
    """`DOME`, parked, its DOME_PARK late (`_parked_late`), DOME_SHUTTER (closed) at once: a
    SHUTTER_OPEN answered Ok."""
    shutter = ("SHUTTER_OPEN", "SHUTTER_CLOSE")
    return _parked_late(
        folder, DOME, "DOME_PARK", (
            DefSwitchVector(DOME, "DOME_SHUTTER", State.OK, Perm.RW, Rule.ONE_OF_MANY,
                            _switches("SHUTTER_CLOSE", shutter)),),
        """
        if b"DOME_SHUTTER" in chunk and re.search(rb'name="SHUTTER_OPEN"[^>]*>\\s*On', chunk):
            os.write(1, OPENED)
        """,
        OPENED=serialise(SetSwitchVector(DOME, "DOME_SHUTTER", _switches("SHUTTER_OPEN", shutter),
                                         state=State.OK)))


@contextlib.asynccontextmanager
async def serving(program: str, device: str = DEVICE,
                  first: str = "CCD_BINNING") -> AsyncIterator[indipyclient.Client]:
    """A client of our server running `program`, once `device` defined `first`."""
    served = server()
    served.add_exdriver(program, max_restarts=0)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.wait_for(device, first, timeout=10)
        yield client


async def test_a_bias_is_a_bias_on_a_camera_that_defines_its_frame_type_late(
        tmp_path: Path) -> None:
    """Asked the moment CCD_EXPOSURE and CCD_BINNING are known, a bias is taken as a bias, a
    light then as a light: CCD_FRAME_TYPE was waited for, not skipped as absent (before, the
    frame came in the Dark the camera held, the frame type never set)."""
    async with serving(late_camera(tmp_path)) as client:
        assert client.devices.vector(DEVICE, "CCD_FRAME_TYPE") is None  # still on its way
        camera = IndiCamera(client, DEVICE)
        assert (await camera.expose(0.01, frame_type="Bias")).data == b"FRAME_BIAS"
        assert (await camera.expose(0.01)).data == b"FRAME_LIGHT"


async def test_a_gain_is_set_on_a_camera_that_defines_it_late(tmp_path: Path) -> None:
    """A gain asked for the moment CCD_EXPOSURE and CCD_BINNING are known is set on the late
    CCD_GAIN, not refused as "has no gain" (before, the frame was refused)."""
    async with serving(late_camera(tmp_path)) as client:
        camera = IndiCamera(client, DEVICE)
        assert (await camera.expose(0.01, gain=40)).data == b"FRAME_LIGHT"
        assert client.get(DEVICE, "CCD_GAIN", "GAIN") == 40


async def test_a_plan_asking_gain_is_checked_against_a_late_ccd_gain(tmp_path: Path) -> None:
    """The imager agent checks a plan against the rig the moment the camera is connected, and
    waits for a CCD_GAIN on its way: the batch's gain 40 is set (before, the start was refused
    with "the camera has no gain (CCD_GAIN)", as it once was in CI on indilib's CCD simulator,
    which defines CCD_GAIN a moment after its connection)."""
    plan = night("gain", target("Darks", Batch(1, 0.01, None, 1, "Dark", gain=40)),
                 folder="gain", camera=DEVICE)
    async with (hosted(tmp_path, late_camera(tmp_path, upload_early=True)) as rig,
                rig.client.events(maxsize=256) as stream, asyncio.timeout(30)):
        await load_and_start(rig.client, tmp_path, plan)
        async for _ in stream:
            state = rig.client.devices.vector(AGENT, "SEQUENCE_STATE")
            assert state is None or state.state != State.ALERT, state.message
            if rig.client.devices.vector(DEVICE, "CCD_GAIN") is not None \
                    and rig.client.get(DEVICE, "CCD_GAIN", "GAIN") == 40:
                break


async def test_a_vector_the_camera_lacks_costs_one_wait_a_connection(tmp_path: Path) -> None:
    """UPLOAD_SETTINGS, which this camera never defines, is waited for once (`OPTIONAL_WAIT`)
    for a camera given a local folder, not before every frame; its frames then come as
    BLOBs."""
    async with serving(late_camera(tmp_path)) as client:
        camera = IndiCamera(client, DEVICE, local=tmp_path / "frames")
        began = time.monotonic()
        assert (await camera.expose(0.01, frame_type="Dark")).data == b"FRAME_DARK"
        assert time.monotonic() - began >= OPTIONAL_WAIT
        began = time.monotonic()
        assert (await camera.expose(0.01, frame_type="Dark")).data == b"FRAME_DARK"
        assert time.monotonic() - began < OPTIONAL_WAIT - 1


async def test_a_parked_mount_that_defines_its_park_late_is_unparked_then_slews(
        tmp_path: Path) -> None:
    """A slew asked the moment EQUATORIAL_EOD_COORD is known waits for TELESCOPE_PARK, finds
    the mount parked, unparks it and slews (before, the mount was taken for unparked and the
    slew was refused: "the slew ... Alert")."""
    async with serving(late_mount(tmp_path), MOUNT, "EQUATORIAL_EOD_COORD") as client:
        assert client.devices.vector(MOUNT, "TELESCOPE_PARK") is None  # still on its way
        mount = IndiMount(client, MOUNT)
        await mount.slew_to(5.5, 20.0)
        assert client.get(MOUNT, "TELESCOPE_PARK", "UNPARK") == "On"
        assert client.vector(MOUNT, "EQUATORIAL_EOD_COORD").state == State.OK


async def test_a_parked_dome_that_defines_its_park_late_is_unparked_when_opened(
        tmp_path: Path) -> None:
    """Opened the moment DOME_SHUTTER is known, the dome waits for DOME_PARK, unparks and
    opens its shutter: open to the sky once all is defined (before, only its shutter was
    opened, and the dome said "parked")."""
    async with serving(late_dome(tmp_path), DOME, "DOME_SHUTTER") as client:
        assert client.devices.vector(DOME, "DOME_PARK") is None  # still on its way
        dome = IndiDome(client, DOME)
        await dome.open()
        await client.wait_for(DOME, "DOME_PARK", timeout=10)
        assert dome.closed() is None
