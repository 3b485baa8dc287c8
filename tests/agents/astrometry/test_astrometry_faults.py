"""Issue 80 item 5: bad input and faults. Each ends with AGENT_START_PROCESS (or, for an
upload, the image's and WCS' state) Alert and the reason, and the agent keeps answering: an
upload that is not an image, a blank frame (clouds), a wrong scale hint, no solver, no index,
a solver past its time limit (killed, its process group and folder gone), a mount that
refuses the slew or the SYNC (named)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from astrokit import AGENT
from astrokit import MOUNT
from astrokit import frame
from astrokit import hopeless_frame
from astrokit import sky
from waiting import until

from indipyagents.astrometry import make_driver
from indipycore.astro import local_sidereal_time


def _running_under(folder: Path) -> list[str]:
    """Command lines of processes that name `folder` (a solve-field left behind)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in line:
            found.append(line)
    return found


@pytest.mark.timeout(600)
async def test_bad_uploads_end_alert_and_the_agent_solves_after(tmp_path: Path) -> None:
    async with sky(workdir=str(tmp_path)) as rig:
        state, message = await rig.upload(b"[plan]\nname = 'not a frame'\n", ".toml")
        assert (state, message) == ("Alert", "not an image (neither FITS, JPEG nor PNG)")
        good = frame()
        state, message = await rig.upload(good[:50000])
        assert state == "Alert" and message.startswith("a truncated FITS image")
        # Clouds: a frame with no star.
        state, message = await rig.upload(frame(None))
        assert state == "Alert" and "no solution" in message and "clouds" in message
        # A hopeless blind solve with a limit of 1 s: killed, nothing left behind (the real
        # sky's blind solve takes under a second on a quiet machine: not the case).
        await rig.client.set(AGENT, "AGENT_PLATESOLVER_HINTS",
                             {"RADIUS": 0, "CPULIMIT": 1}, timeout=10)
        state, message = await rig.upload(hopeless_frame())
        assert (state, message) == ("Alert", "solve-field ran past its limit of 1 s: killed")
        assert list(tmp_path.iterdir()) == []
        assert _running_under(tmp_path) == []
        # Still answering: hinted again, the same frame solves.
        await rig.client.set(AGENT, "AGENT_PLATESOLVER_HINTS",
                             {"RADIUS": 2, "RA": 2.35, "DEC": 57.14, "CPULIMIT": 60},
                             timeout=10)
        state, message = await rig.upload(good)
        assert state == "Ok" and message.startswith("solved: RA 2.3"), message
        assert list(tmp_path.iterdir()) == []


@pytest.mark.timeout(300)
async def test_a_wrong_scale_hint_ends_alert_saying_so() -> None:
    async with sky() as rig:
        await rig.client.set(AGENT, "AGENT_PLATESOLVER_HINTS", {"SCALE": 10.0}, timeout=10)
        state, message = await rig.start("SOLVE")
        assert state == "Alert" and "no solution" in message and 'scale 10"/px' in message
        assert (await rig.client.set(AGENT, "AGENT_PLATESOLVER_HINTS", {"SCALE": 0},
                                     timeout=10)).state.value == "Ok"


async def test_no_solver_and_no_index_end_alert_naming_what_to_install(
        tmp_path: Path) -> None:
    """Two agents beside the first: one whose solve-field is missing, one whose index
    folder is empty; neither runs anything."""
    lost = make_driver(name="No Solver", solver="no-such-solve-field")
    bare = make_driver(name="No Index", index_dir=str(tmp_path))
    async with sky(extra=(lost, bare)) as rig:
        good = frame()
        for name, said in (("No Solver", "no-such-solve-field is not installed (Debian: "
                                         "apt-get install astrometry.net)"),
                           ("No Index", f"no index file for this field in {tmp_path}: ")):
            await rig.client.wait_for(name, "AGENT_PLATESOLVER_IMAGE", timeout=10)
            await rig.client.set(name, "AGENT_PLATESOLVER_IMAGE",
                                 {"IMAGE": (good, len(good), ".fits")}, wait=False)
            await until(lambda name=name: rig.state(name, "AGENT_PLATESOLVER_WCS") == "Alert",
                        timeout=30)
            wcs = rig.client.devices.vector(name, "AGENT_PLATESOLVER_WCS")
            assert wcs.message.startswith(said), wcs.message
        assert "missing 4107, 4108, 4109 (astrometry-data-tycho2-07, astrometry-data-tycho2-08, " \
               "astrometry-data-tycho2-09)" in wcs.message
        assert [m.message for m in rig.client.messages if m.devicename == "No Solver"]


@pytest.mark.timeout(300)
async def test_a_mount_refusing_the_slew_or_the_sync_is_named() -> None:
    async with sky() as rig:
        # Below Greenwich's horizon at any hour: the mount refuses the slew.
        await rig.client.set(AGENT, "AGENT_PLATESOLVER_GOTO_SETTINGS",
                             {"RA": 12.0, "DEC": -80.0}, timeout=10)
        state, message = await rig.start("PRECISE_GOTO")
        assert state == "Alert" and message.startswith(f"{MOUNT}: "), message
        # Parked where it points, it refuses the SYNC (after a solve of that field).
        ra_now = rig.number(MOUNT, "EQUATORIAL_EOD_COORD", "RA")
        hour_angle = (local_sidereal_time(datetime.now(UTC), 0.0) - ra_now + 12) % 24 - 12
        await rig.client.set(MOUNT, "TELESCOPE_PARK_POSITION", {
            "PARK_HA": hour_angle, "PARK_DEC": rig.number(MOUNT, "EQUATORIAL_EOD_COORD", "DEC")},
            timeout=10)
        await rig.client.set(MOUNT, "TELESCOPE_PARK", {"PARK": "On"}, timeout=120)
        state, message = await rig.start("SYNC")
        assert state == "Alert" and message.startswith(f"{MOUNT}: refused the SYNC: "), message
        assert "parked" in message
        assert (await rig.client.set(AGENT, "AGENT_PLATESOLVER_EXPOSURE_SETTINGS",
                                     {"EXPOSURE": 1}, timeout=10)).state.value == "Ok"


@pytest.mark.timeout(300)
async def test_abort_ends_the_process_at_once_and_the_agent_answers() -> None:
    """AGENT_ABORT_PROCESS during a 60 s exposure: AGENT_START_PROCESS Alert "aborted" within
    seconds, a start while one runs refused as busy, and the next request answered."""
    async with sky() as rig:
        await rig.client.set(AGENT, "AGENT_PLATESOLVER_EXPOSURE_SETTINGS", {"EXPOSURE": 60},
                             timeout=10)
        said: list[tuple[str, str]] = []

        def watch(event: object) -> bool:
            if getattr(event, "devicename", None) == AGENT \
                    and getattr(event, "vectorname", None) == "AGENT_START_PROCESS":
                state = getattr(event, "state", None)
                said.append((state.value if state is not None else "",
                             str(getattr(event, "message", "") or "")))
                return said[-1] == ("Alert", "aborted")
            return False

        with rig.client.waiters.watching(watch) as done:
            await rig.client.set(AGENT, "AGENT_START_PROCESS", {"SOLVE": "On"}, wait=False)
            await until(lambda: ("Busy", "SOLVE started") in said, timeout=10)
            await rig.client.set(AGENT, "AGENT_START_PROCESS", {"SYNC": "On"}, wait=False)
            await until(lambda: ("Busy", "busy: abort the running process first") in said,
                        timeout=10)
            await rig.client.set(AGENT, "AGENT_ABORT_PROCESS", {"ABORT": "On"}, timeout=10)
            await asyncio.wait_for(done, 10)
        assert ("Alert", "aborted") == said[-1]
        assert rig.client.get(AGENT, "AGENT_START_PROCESS", "SOLVE") == "Off"
        assert (await rig.client.set(AGENT, "AGENT_PLATESOLVER_EXPOSURE_SETTINGS",
                                     {"EXPOSURE": 1}, timeout=10)).state.value == "Ok"
