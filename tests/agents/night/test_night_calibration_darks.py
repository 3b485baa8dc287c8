"""Issue 92 item 4's gaps with real peers: a plan's ``[calibration]`` with panel flats,
``flat_darks = true`` and ``darks = "library"``. Our server hosts the imager agent in-process
beside our camera simulator's and focuser/wheel simulator's executables and indilib's
``indi_simulator_lightpanel``. The first night takes its light frames, the library's darks
and bias (the library lacks them), the panel flats, then as many flat-darks as flats, each
exposed as long as its flat was (the exposure found at night), saved in
``darkflats/<filter>/`` as darks (IMAGETYP) through the flats' filter; ``calibration.json``
names them against those flats, and the library's bias. SEQUENCE_STATE's PROGRESS_TOTAL
(and EXPOSURE_TOTAL) counts every one of these from the plan's load, and never changes. The
second night takes no darks and no bias (the library has them, fresh): its
``calibration.json`` names the library's. Every light frame, dark and bias our camera
simulator wrote carries CCD-TEMP, the chip's temperature the library matches darks by. (Our
camera simulator has no CCD_GAIN or CCD_OFFSET, so GAIN and OFFSET are not on its frames;
a batch that sets them is refused against it, and the sequencer's tests prove the cards
with a camera double that has them.)"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from agentkit import AGENT
from agentkit import night
from agentkit import target
from agentkit import write_plan
from astropy.io import fits
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import FOCUS_PROGRAM
from nightkit import fits_files
from nightkit import hosted
from nightkit import load_and_start
from nightkit import sequence_ends
from waiting import until

import indipyclient
from indipyagents.calframes.tonight import LIBRARY_COUNT
from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Safety
from indipysimulators.ccd import AMBIENT
from indipysimulators.focus import WHEEL

PANEL = "Light Panel Simulator"
#: Two light frames, two flats, two flat-darks, the library's darks and bias.
TOTAL = 2 + 2 + 2 + 2 * LIBRARY_COUNT


def plan_of(folder: str) -> Plan:
    plan = night("flat-darks", target("M42", Batch(2, 0.2, "Red", 2)), folder=folder,
                 camera=CCD, calibration=CalibrationFrames(flats="panel", count=2,
                                                           flat_darks=True, darks="library"))
    return replace(plan, devices=Devices(camera=CCD, wheel=WHEEL, panel=PANEL))


def totals(client: indipyclient.Client) -> tuple[object, object]:
    return (client.get(AGENT, "SEQUENCE_STATE", "PROGRESS"),
            client.get(AGENT, "SEQUENCE_STATE", "PROGRESS_TOTAL"))


def exposure_total(client: indipyclient.Client) -> object:
    return client.get(AGENT, "SEQUENCE_STATE", "EXPOSURE_TOTAL")


async def run_night(client: indipyclient.Client, tmp_path: Path, folder: str) -> None:
    """The plan loaded (PROGRESS_TOTAL counting every calibration frame at once), run to its
    end (Ok), its total the same."""
    path = write_plan(tmp_path / f"{folder}.toml", plan_of(folder))
    loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(path)}, timeout=20)
    assert loaded.state.value == "Ok", loaded
    assert totals(client) == (0, TOTAL)
    seconds = exposure_total(client)
    await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
    state, message = await sequence_ends(client, 300)
    assert state == "Ok", message
    assert totals(client) == (TOTAL, TOTAL)
    assert exposure_total(client) == seconds  # the flats' first guesses counted from the load


async def test_flat_darks_at_the_flats_exposures_and_bias_from_the_library(
        tmp_path: Path) -> None:
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, "indi_simulator_lightpanel") as rig:
        await run_night(rig.client, tmp_path, "first")
        folder = rig.frames / "first"
        names = fits_files(folder)
        flats = [name for name in names if name.startswith("flats/")]
        flat_darks = [name for name in names if name.startswith("darkflats/")]
        assert flat_darks == ["darkflats/Red/Flat_darks_Red_Dark_001.fits",
                              "darkflats/Red/Flat_darks_Red_Dark_002.fits"]
        assert len(flats) == 2
        for flat, dark in zip(flats, flat_darks, strict=True):
            flat_header, dark_header = fits.getheader(folder / flat), fits.getheader(folder / dark)
            assert dark_header["EXPTIME"] == flat_header["EXPTIME"], (flat, dark)
            assert dark_header["IMAGETYP"].strip().lower().startswith("dark")
            assert dark_header["FILTER"].strip() == "Red"
            assert dark_header["XBINNING"] == flat_header["XBINNING"] == 2
            assert (folder / dark).stat().st_mtime > (folder / flat).stat().st_mtime
        assert sum(name.startswith("biases/") for name in names) == LIBRARY_COUNT
        assert sum(name.startswith("darks/") for name in names) == LIBRARY_COUNT
        # CCD-TEMP, which the library matches darks by, as our camera writes it: the chip's
        # temperature (its cooler off, at the ambient), on the lights and the darks alike
        chip = rig.client.get(CCD, "CCD_TEMPERATURE", "CCD_TEMPERATURE_VALUE")
        assert chip == AMBIENT, chip
        for name in names:
            if name.startswith(("lights/", "darks/", "darkflats/", "biases/")):
                assert fits.getheader(folder / name)["CCD-TEMP"] == AMBIENT, name
        group, = json.loads((folder / "calibration.json").read_text())["groups"]
        assert group["flats"] == flats and group["flat_darks"] == flat_darks
        assert len(group["biases"]) == LIBRARY_COUNT and len(group["darks"]) == LIBRARY_COUNT
        library = tmp_path / "state" / "darks"
        kept = sorted(library.rglob("*.fits"))
        assert sum(path.parent.parent.name == "bias" for path in kept) == LIBRARY_COUNT

        await run_night(rig.client, tmp_path, "second")
        folder = rig.frames / "second"
        names = fits_files(folder)
        assert not any(name.startswith(("biases/", "darks/")) for name in names), names
        assert sum(name.startswith("darkflats/Red/") for name in names) == 2
        group, = json.loads((folder / "calibration.json").read_text())["groups"]
        assert len(group["biases"]) == LIBRARY_COUNT and all(
            Path(path).is_relative_to(library.resolve()) for path in group["biases"])
        assert len(group["darks"]) == LIBRARY_COUNT
        assert sorted(library.rglob("*.fits")) == kept


async def test_while_held_unsafe_the_librarys_darks_and_bias_are_taken_and_no_light(
        tmp_path: Path) -> None:
    """Item 4's "while a hold keeps the sky closed", with real peers: held unsafe before its
    start (as the watchdog says it), a plan with ``darks = "library"`` and
    ``sky_free_while_unsafe`` takes the darks and bias its lights need (the library lacks
    them) while held, and no light frame; once safe, its lights; the night ends Ok."""
    plan = night("held darks", target("M42", Batch(2, 0.2, "Red", 2)), folder="held",
                 camera=CCD, calibration=CalibrationFrames(darks="library"),
                 safety=Safety(sky_free_while_unsafe=True))
    plan = replace(plan, devices=Devices(camera=CCD, wheel=WHEEL))
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM) as rig:
        client = rig.client
        said = await client.set(AGENT, "AGENT_SAFETY_CAUSE", {"CAUSE": "rain"}, timeout=10)
        assert said.ok, said
        said = await client.set(AGENT, "AGENT_SAFETY", {"UNSAFE": "On"}, timeout=10)
        assert said.ok, said
        await load_and_start(client, tmp_path, plan)
        folder = rig.frames / "held"

        def calibration() -> list[str]:
            return [name for name in fits_files(folder) if not name.startswith("lights/")]

        await until(lambda: len(calibration()) == 2 * LIBRARY_COUNT, 240,
                    lambda: f"the library's darks and bias while held: {calibration()}")
        names = fits_files(folder)
        assert not [name for name in names if name.startswith("lights/")], names
        assert {name.split("/")[0] for name in calibration()} == {"darks", "biases"}, names
        vector = client.devices.vector(AGENT, "SEQUENCE_STATE")
        assert vector is not None and "unsafe (rain)" in (vector.message or ""), vector.message
        said = await client.set(AGENT, "AGENT_SAFETY", {"SAFE": "On"}, timeout=10)
        assert said.ok, said
        state, message = await sequence_ends(client, 120)
        assert state == "Ok", message
    lights = [name for name in fits_files(folder) if name.startswith("lights/")]
    assert len(lights) == 2, lights
