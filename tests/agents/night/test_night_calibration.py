"""Issue 92 items 2 and 7 with real peers: a plan's ``[calibration]`` section takes the
night's flats from the panel. Our server hosts the imager agent in-process beside our camera
simulator's and focuser/wheel simulator's executables and indilib's
``indi_simulator_lightpanel``. A night of light frames through Red (binned 2) and Luminance
(binned 1) with ``flats = "panel"``, ``count = 2`` and no ``adu``: after the last light frame
it takes two flats for each filter and binning the lights used, each within 10 % of half the
camera's full scale (numpy on the saved FITS), and turns the panel off; where 6 ms would be
wanted, under the camera's shortest exposure, it dims the panel instead, and the next night
sets the brightness learnt again and takes no test exposure; beyond the camera's longest
(``--longest 2``) it brightens the panel. indilib's CCD
simulator, which sees no panel: the flats of each filter are given up (journalled
``skipped``, naming the panel and the levels measured), the night goes on to its end and
says Alert "done; flats given up: ..." with them; a level our camera's medians never give
is given up alike after five tries. A 12-bit camera refuses ``adu = 30000`` at load, at its
line, once it is connected and says its bits; not connected at load, it refuses
``adu = 5000`` at START, at its line (the fallback). indilib's Flip-Flat driver in its simulation mode (a panel with a dust cap): the cap is
parked before the light is turned on. ``flats = "dusk"`` (our mount simulator, on a sky
clock): the sky flats, each within the tolerance, come before the light frame."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import line_of
from agentkit import night
from agentkit import target
from astropy.io import fits
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import FOCUS_PROGRAM
from nightkit import PANEL
from nightkit import TELESCOPE_PROGRAM
from nightkit import centre_median
from nightkit import fits_files
from nightkit import hosted
from nightkit import journal_notes
from nightkit import load_and_start
from nightkit import panel_night
from nightkit import sequence_ends
from test_night_sky_flats import ADU
from test_night_sky_flats import RATE
from test_night_sky_flats import sun_at
from waiting import until

from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.toml import plan_to_toml
from indipycore.skyclock import ENV_SKY_CLOCK
from indipysimulators import telescope
from indipysimulators.focus import WHEEL


async def test_the_nights_flats_follow_its_last_light_frame(tmp_path: Path) -> None:
    lights = (Batch(1, 0.2, "Red", 2), Batch(1, 0.2, "Luminance", 1), Batch(1, 0.2, "Red", 2))
    plan = night("calibrated", target("M42", *lights), folder="calibrated", camera=CCD,
                 calibration=CalibrationFrames(flats="panel", count=2))
    async with panel_night(tmp_path, plan, 300) as rig:
        folder = rig.frames / "calibrated"
        names = fits_files(folder)
        flats = sorted(name for name in names if name.startswith("flats/"))
        assert flats == ["flats/Luminance/Calibration_Luminance_Flat_001.fits",
                         "flats/Luminance/Calibration_Luminance_Flat_002.fits",
                         "flats/Red/Calibration_Red_Flat_001.fits",
                         "flats/Red/Calibration_Red_Flat_002.fits"]
        light_times = [(folder / name).stat().st_mtime for name in names if "_Light_" in name]
        assert len(light_times) == 3
        for name in flats:
            assert (folder / name).stat().st_mtime > max(light_times), name
            header = fits.getheader(folder / name)
            assert header["IMAGETYP"].strip().lower().startswith("flat"), header["IMAGETYP"]
            assert header["XBINNING"] == (2 if "_Red_" in name else 1), name
            assert abs(centre_median(folder / name) - 32768) <= 0.1 * 32768, name
        light = rig.client.devices.vector(PANEL, "FLAT_LIGHT_CONTROL")
        assert light is not None and light["FLAT_LIGHT_OFF"] == "On"


async def test_a_panel_that_does_not_light_gives_up_its_flats_and_the_night_goes_on(
        tmp_path: Path) -> None:
    """indilib's CCD simulator sees no panel: each filter's flats given up within 3 frames,
    said naming the panel with the levels measured; the night goes on to its end, which
    says Alert "done; flats given up: <panel>: ... (levels)"; the light off."""
    camera = "CCD Simulator"
    plan = night("dark panel", target("M42", Batch(1, 0.2, None, 1)), folder="dark",
                 camera=camera, calibration=CalibrationFrames(flats="panel", count=2, adu=30000))
    plan = replace(plan, devices=Devices(camera=camera, panel=PANEL))
    async with hosted(tmp_path, "indi_simulator_ccd", "indi_simulator_lightpanel") as rig:
        await load_and_start(rig.client, tmp_path, plan)
        state, message = await sequence_ends(rig.client, 180)
        # the night went on to its end, and says what it gave up: Alert naming the panel
        assert state == "Alert" and message.startswith("done; flats given up: "), message
        assert PANEL in message and "does not light" in message and "1 s:" in message, message
        folder = rig.frames / "dark"
        assert fits_files(folder) == ["lights/NoFilter/M42_NoFilter_Light_001.fits"]
        assert [name for name in fits_files(folder) if "Calibration" in name] == []
        skipped = journal_notes(folder, "skipped")
        assert [one["step"] for one in skipped] == ["Calibration/0/NoFilter/Flat/001",
                                                   "Calibration/0/NoFilter/Flat/002"]
        first = str(skipped[0]["why"])
        assert PANEL in first and "does not light" in first, first
        assert "1 s:" in first and "20 s:" in first, first
        assert len(journal_notes(folder, "flat_test")) <= 3
        light = rig.client.devices.vector(PANEL, "FLAT_LIGHT_CONTROL")
        assert light is not None and light["FLAT_LIGHT_OFF"] == "On"


async def test_a_level_never_reached_within_its_tries_gives_up_and_the_night_goes_on(
        tmp_path: Path) -> None:
    """Issue 92 item 7 with our camera and indilib's panel, which lights: flats asked at
    30000.25 ADU within a millionth, a level our camera's whole-ADU medians never give (they
    are whole or half ADU: always 0.25 away, the tolerance 0.03). Red's flats are given up
    after the finder's five tries, the panel named with the five levels measured; the night
    goes on to its end, its light frame kept, and says what it gave up; the light off."""
    plan = night("never", target("M42", Batch(1, 0.2, "Red", 2)), folder="never",
                 camera=CCD, calibration=CalibrationFrames(flats="panel", count=2,
                                                           adu=30000.25, tolerance=1e-6))
    plan = replace(plan, devices=Devices(camera=CCD, wheel=WHEEL, panel=PANEL))
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, "indi_simulator_lightpanel") as rig:
        await load_and_start(rig.client, tmp_path, plan)
        state, message = await sequence_ends(rig.client, 180)
        assert state == "Alert" and message.startswith("done; flats given up: "), message
        assert f"{PANEL}: " in message and "within 0.0001% of" in message, message
        assert "in 5 tries" in message, message
        folder = rig.frames / "never"
        assert fits_files(folder) == ["lights/Red/M42_Red_Light_001.fits"]
        tests = journal_notes(folder, "flat_test")
        assert len(tests) == 5, tests
        for one in tests:  # each level measured is named
            assert f"{float(one['seconds']):g} s: {float(one['median']):g} ADU" in message, \
                (one, message)
        skipped = journal_notes(folder, "skipped")
        assert [one["step"] for one in skipped] == ["Calibration/0/Red/Flat/001",
                                                   "Calibration/0/Red/Flat/002"]
        light = rig.client.devices.vector(PANEL, "FLAT_LIGHT_CONTROL")
        assert light is not None and light["FLAT_LIGHT_OFF"] == "On"


async def test_an_adu_above_a_12_bit_cameras_range_is_refused_at_start_at_its_line(
        tmp_path: Path) -> None:
    """Issue 92 item 7 through the agent's face: our camera as a 12-bit one (``--bits 12``:
    CCD_INFO says 12 bits, its pixels stop at 4095) and ``[calibration] adu = 5000``. The
    camera is defined but not connected at load, so it does not say its bits yet (CCD_INFO
    comes with the connection): the plan loads, and START, once the rig is opened, is Alert
    naming the plan's file and the adu's line, the camera and its range; nothing is taken.
    The check at load (next test) leaves this one as the fallback."""
    plan = night("deep", target("M42", Batch(1, 0.2, "Red", 2)), folder="deep", camera=CCD,
                 calibration=CalibrationFrames(flats="panel", adu=5000, count=2))
    plan = replace(plan, devices=Devices(camera=CCD, wheel=WHEEL, panel=PANEL))
    async with hosted(tmp_path, (CCD_PROGRAM, "--bits", "12"), FOCUS_PROGRAM,
                      "indi_simulator_lightpanel") as rig:
        await load_and_start(rig.client, tmp_path, plan)
        path = tmp_path / "plan.toml"
        line = next(number for number, text in enumerate(path.read_text().splitlines(), 1)
                    if text.startswith("adu = 5000"))

        def refused() -> bool:
            start = rig.client.devices.vector(AGENT, "AGENT_START_PROCESS")
            return start is not None and start.state.value == "Alert"

        await until(refused, 60, "AGENT_START_PROCESS Alert")
        start = rig.client.devices.vector(AGENT, "AGENT_START_PROCESS")
        assert start is not None
        assert (f"plan.toml, line {line}: calibration.adu" in (start.message or "")
                and f"adu = 5000 is above the camera {CCD!r}'s range (0 to 4095 ADU)"
                in (start.message or "")), start.message
        info = rig.client.devices.vector(CCD, "CCD_INFO")
        assert info is not None and float(info["CCD_BITSPERPIXEL"]) == 12
        assert not rig.frames.exists() or fits_files(rig.frames) == []


def flats_plan(folder: Path, adu: float) -> Path:
    """`folder`/plan.toml: two flats by level `adu` from the panel, on our camera."""
    flat = Batch(2, 0.5, frame_type="Flat", adu=adu)
    plan = replace(night("flats", target("Flats", flat), folder="flats", camera=CCD),
                   devices=Devices(camera=CCD, panel=PANEL))
    path = folder / "plan.toml"
    path.write_text(plan_to_toml(plan))
    return path


async def test_an_adu_above_a_12_bit_cameras_range_is_refused_at_load_at_its_line(
        tmp_path: Path) -> None:
    """Issue 92 item 7 at load: our 12-bit camera connected by a client (as a user connects
    the devices before loading a plan), CCD_INFO saying 12 bits. A plan whose flat batch
    asks ``adu = 30000`` is refused by AGENT_PLAN, Alert naming ``plan.toml``, the adu's line
    and the range 0 to 4095, and PLAN_STATUS says it; uploaded, it is refused alike, naming
    the uploaded plan; the same plan asking ``adu = 2000`` loads (Ok)."""
    async with hosted(tmp_path, (CCD_PROGRAM, "--bits", "12")) as rig:
        await rig.client.set(CCD, "CONNECTION", {"CONNECT": "On"}, timeout=30)
        info = await rig.client.wait_for(CCD, "CCD_INFO", timeout=30)
        assert float(info["CCD_BITSPERPIXEL"]) == 12
        path = flats_plan(tmp_path, 30000)
        text = path.read_text()
        said = f"adu = 30000 is above the camera {CCD!r}'s range (0 to 4095 ADU)"
        line = f"line {line_of(text, 'adu = 30000')}: targets[0].batches[0].adu"
        loaded = await rig.client.set(AGENT, "AGENT_PLAN", {"FILE": str(path)}, timeout=30)
        assert loaded.state.value == "Alert", loaded
        assert f"plan.toml, {line}" in loaded.message and said in loaded.message, loaded
        status = rig.client.devices.vector(AGENT, "PLAN_STATUS")
        assert status is not None and said in (status.message or ""), status
        uploaded = await rig.client.set(
            AGENT, "AGENT_PLAN_UPLOAD", {"PLAN": (text.encode(), len(text), ".toml")},
            timeout=30)
        assert uploaded.state.value == "Alert", uploaded
        assert f"the uploaded plan, {line}" in uploaded.message and said in uploaded.message
        loaded = await rig.client.set(AGENT, "AGENT_PLAN", {"FILE": str(flats_plan(tmp_path, 2000))},
                                      timeout=30)
        assert loaded.state.value == "Ok", loaded


async def test_a_flats_plan_loads_while_its_camera_is_not_defined(tmp_path: Path) -> None:
    """Issue 92 item 7's fallback: no camera on the agent's server at load (its driver not
    started yet), so nothing says its range: the plan asking ``adu = 30000`` loads (Ok), its
    adu left to the check at START (the test before the last)."""
    path = flats_plan(tmp_path, 30000)
    async with hosted(tmp_path) as rig:
        loaded = await rig.client.set(AGENT, "AGENT_PLAN", {"FILE": str(path)}, timeout=30)
        assert loaded.state.value == "Ok", loaded
        assert CCD not in rig.client


def panel_flats_kept(folder: Path, count: int, seconds: float, level: float) -> None:
    """The night's `count` panel flats in `folder`: each exposed `seconds`, its centre within
    10 % of `level`."""
    flats = [name for name in fits_files(folder) if "/Calibration_" in name]
    assert len(flats) == count, flats
    for name in flats:
        assert fits.getheader(folder / name)["EXPTIME"] == pytest.approx(seconds), name
        assert abs(centre_median(folder / name) - level) <= 0.1 * level, name


async def test_an_exposure_below_the_cameras_shortest_dims_the_real_panel_the_next_too(
        tmp_path: Path) -> None:
    """Luminance binned 4 at the panel's brightest gives about 800,000 ADU a second: 5000
    ADU would want about 6 ms, under our camera's shortest exposure (10 ms). The flats are
    taken at the shortest exposure with indilib's panel dimmed (FLAT_LIGHT_INTENSITY below
    its most, NINA's dynamic brightness), each within the tolerance, the brightness learnt.
    The next night, the panel left at its brightest, sets the brightness ``flats.json``
    learnt and takes its flats with no test exposure."""
    plan = night("dimmed", target("M42", Batch(1, 0.2, "Luminance", 4)), folder="dimmed",
                 camera=CCD, calibration=CalibrationFrames(flats="panel", count=2, adu=5000))
    async with panel_night(tmp_path, plan, 300) as rig:
        intensity = rig.client.devices.vector(PANEL, "FLAT_LIGHT_INTENSITY")
        assert intensity is not None
        member = intensity.member("FLAT_LIGHT_INTENSITY_VALUE")
        most, now = float(member.max), float(intensity["FLAT_LIGHT_INTENSITY_VALUE"])
        assert 0 < now < 0.8 * most, (now, most)
        folder = rig.frames / "dimmed"
        panel_flats_kept(folder, 2, 0.01, 5000)
        book = json.loads((tmp_path / "state" / "flats.json").read_text())
        [learnt] = book.values()
        assert learnt["seconds"] == pytest.approx(0.01)
        assert learnt["brightness"] == pytest.approx(now)
        await rig.client.set(PANEL, "FLAT_LIGHT_INTENSITY",
                             {"FLAT_LIGHT_INTENSITY_VALUE": most}, timeout=10)
        following = night("dimmed next", *plan.targets, folder="dimmed_next", camera=CCD,
                          calibration=plan.calibration)
        await load_and_start(rig.client, tmp_path, replace(
            following, devices=Devices(camera=CCD, wheel=WHEEL, panel=PANEL)))
        state, message = await sequence_ends(rig.client, 120)
        assert state == "Ok", message
        folder = rig.frames / "dimmed_next"
        assert journal_notes(folder, "flat_test") == []
        assert float(rig.client.get(PANEL, "FLAT_LIGHT_INTENSITY",
                                    "FLAT_LIGHT_INTENSITY_VALUE")) == pytest.approx(now)
        panel_flats_kept(folder, 2, 0.01, 5000)
    print(f"the panel dimmed to {now:g} of {most:g}; the next night too, no test exposure")


async def test_a_level_beyond_the_cameras_longest_brightens_the_real_panel(
        tmp_path: Path) -> None:
    """Our camera with exposures of at most 2 s (``--longest 2``) and indilib's panel left by
    a client at intensity 1: Luminance binned 2 at 20000 ADU would want about 24 s there,
    beyond the camera's longest. The flats are taken at the longest exposure with the panel
    brightened (NINA's dynamic brightness, the other way), each within the tolerance, the
    brightness learnt."""
    plan = night("brightened", target("M42", Batch(1, 0.2, "Luminance", 2)),
                 folder="brightened", camera=CCD,
                 calibration=CalibrationFrames(flats="panel", count=2, adu=20000))
    plan = replace(plan, devices=Devices(camera=CCD, wheel=WHEEL, panel=PANEL))
    async with hosted(tmp_path, (CCD_PROGRAM, "--longest", "2"), FOCUS_PROGRAM,
                      "indi_simulator_lightpanel") as rig:
        client = rig.client
        await client.set(PANEL, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.set(PANEL, "FLAT_LIGHT_INTENSITY", {"FLAT_LIGHT_INTENSITY_VALUE": 1},
                         timeout=10)
        await load_and_start(client, tmp_path, plan)
        state, message = await sequence_ends(client, 180)
        assert state == "Ok", message
        exposure = client.devices.vector(CCD, "CCD_EXPOSURE")
        assert exposure is not None
        assert float(exposure.member("CCD_EXPOSURE_VALUE").max) == 2
        now = float(client.get(PANEL, "FLAT_LIGHT_INTENSITY", "FLAT_LIGHT_INTENSITY_VALUE"))
        assert 5 < now < 50, now  # brightened from 1: about 12
        folder = rig.frames / "brightened"
        panel_flats_kept(folder, 2, 2.0, 20000)
        [learnt] = json.loads((tmp_path / "state" / "flats.json").read_text()).values()
        assert learnt["seconds"] == pytest.approx(2.0)
        assert learnt["brightness"] == pytest.approx(now)
    print(f"the panel brightened from 1 to {now:g}")


async def test_a_panel_with_a_dust_cap_has_it_closed_before_its_light(tmp_path: Path) -> None:
    """indilib's Flip-Flat driver (``indi_flipflat``) in its simulation mode, a real peer with
    a dust cap (CAP_PARK) and a light: the cap, open at the start, is parked before the light
    is ever on (the client's view of both, sampled every 10 ms), the flats are taken, and
    the light is off after with the cap still closed."""
    flip = "Flip Flat"
    plan = night("capped", target("M42", Batch(1, 0.2, "Red", 2)), folder="capped", camera=CCD,
                 calibration=CalibrationFrames(flats="panel", count=1, adu=20000))
    plan = replace(plan, devices=Devices(camera=CCD, wheel=WHEEL, panel=flip))
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, "indi_flipflat") as rig:
        client = rig.client
        await client.set(flip, "SIMULATION", {"ENABLE": "On", "DISABLE": "Off"}, timeout=10)
        seen: list[tuple[str, str]] = []

        def sample() -> None:
            cap = client.devices.vector(flip, "CAP_PARK")
            light = client.devices.vector(flip, "FLAT_LIGHT_CONTROL")
            now = ("" if cap is None else str(cap["PARK"]),
                   "" if light is None else str(light["FLAT_LIGHT_ON"]))
            if not seen or seen[-1] != now:
                seen.append(now)

        async def watch() -> None:
            while True:
                sample()
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        try:
            await load_and_start(client, tmp_path, plan)
            state, message = await sequence_ends(client, 300)
        finally:
            watcher.cancel()
        # The light's Off came before the sequence's end (the agent waits for it), but may
        # have landed within the last 10 ms of sampling (a loaded run's last sample had it On).
        sample()
        assert state == "Ok", message
        assert ("Off", "Off") in seen, seen  # the cap was open, the light off
        lit = [cap for cap, light in seen if light == "On"]
        assert lit and set(lit) == {"On"}, seen  # the light on only with the cap parked
        assert seen[-1] == ("On", "Off"), seen
        folder = rig.frames / "capped"
        flats = [name for name in fits_files(folder) if "/Calibration_" in name]
        assert flats == ["flats/Red/Calibration_Red_Flat_001.fits"], flats
        assert abs(centre_median(folder / flats[0]) - 20000) <= 0.1 * 20000


async def test_dusk_flats_asked_are_taken_before_the_first_light_frame(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``flats = "dusk"`` (issue 92 items 2, 3): on the sky clock from the Sun at -3.5
    degrees, the night takes its sky flats through the light frames' one filter, pointed
    opposite the Sun (`sequencer.skyflatwork`), each within the tolerance, and then its light
    frame: the journal saves them in that order."""
    monkeypatch.setenv(ENV_SKY_CLOCK, f"{sun_at(-3.5).isoformat()}@"
                                      f"{datetime.now(UTC).isoformat()}x{RATE}")
    plan = night("dusk", target("M42", Batch(1, 1.0, "Red")), folder="dusk", camera=CCD,
                 calibration=CalibrationFrames(flats="dusk", count=2, adu=ADU))
    plan = replace(plan, devices=Devices(camera=CCD, wheel=WHEEL, mount=telescope.DEVICE))
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, TELESCOPE_PROGRAM) as rig:
        await load_and_start(rig.client, tmp_path, plan)
        state, message = await sequence_ends(rig.client, 300)
        assert state == "Ok", message
        folder = rig.frames / "dusk"
        saved = [record for journal in folder.glob(".journal/*.journal")
                 for record in map(json.loads, journal.read_text().splitlines())
                 if record.get("kind") == "frame"]
        steps = [record["step"] for record in saved]
        assert steps == ["Calibration/0/Red/Flat/001", "Calibration/0/Red/Flat/002",
                         "M42/0/Red/Light/001"], steps
        for record in saved[:2]:
            level = centre_median(folder / record["file"])
            assert abs(level - ADU) <= 0.1 * ADU, (record, level)
