"""Issue 71 item 8, with indilib's peers: a night's plan run by our agent beside indilib's CCD,
wheel, focuser and telescope simulators, driven by `indi_setprop` and read by `indi_getprop`
alone. (a) Our agent as an executable (``indipy_agent_imager``) under indilib's
``indiserver``, told its server's port by ``INDIPY_AGENT_SERVER``; (b) the same plan with
indilib's four simulators as executables under our server, the agent in-process.

The plan: one target high in the sky now (its RA from the local sidereal time at the
telescope simulator's site, read from its GEOGRAPHIC_COORD), 2 filters x 2 frames of 1 s,
dither every 2 frames by guide pulses, park at the end. No autofocus: indilib's CCD simulator
draws its stars from the GSC catalogue, which is not installed here, so its frames hold no star
to measure (our own simulated camera is the one autofocus is tested with).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from agentkit import write_plan
from peers import IndiServer
from peers import OurServer
from peers import driver_path
from peers import free_port
from peers import getprop
from peers import setprop
from waiting import wait_for

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Dither
from indipyagents.plan.model import Plan
from indipycore import astro
from indipycore.fits import read_header

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]

CCD, WHEEL, FOCUSER, MOUNT = ("CCD Simulator", "Filter Simulator", "Focuser Simulator",
                              "Telescope Simulator")
SIMULATORS = ("indi_simulator_ccd", "indi_simulator_wheel", "indi_simulator_focus",
              "indi_simulator_telescope")
TARGET = "HighStar"
FILTERS = ("Red", "Green")
FRAMES = sorted(f"lights/{f}/{TARGET}_{f}_Light_{n:03d}.fits" for f in FILTERS for n in (1, 2))


def set_ok(port: int, *specs: str) -> None:
    """indi_setprop, which must say it sent them."""
    result = setprop(port, *specs, timeout=10)
    assert result.returncode == 0, result.describe()


def site_of_the_mount(port: int) -> tuple[float, float]:
    """The telescope simulator's latitude and longitude (GEOGRAPHIC_COORD, defined once it is
    connected; INDI's longitude 0..360 east)."""
    set_ok(port, f"{MOUNT}.CONNECTION.CONNECT=On")

    def read() -> tuple[float, float] | None:
        found = getprop(port, f"{MOUNT}.GEOGRAPHIC_COORD.LAT", f"{MOUNT}.GEOGRAPHIC_COORD.LONG")
        if found.returncode != 0:
            return None
        return float(found[f"{MOUNT}.GEOGRAPHIC_COORD.LAT"]), \
            float(found[f"{MOUNT}.GEOGRAPHIC_COORD.LONG"])

    return wait_for(read, 30, f"{MOUNT}.GEOGRAPHIC_COORD")


def high_target(latitude: float, longitude: float) -> tuple[float, float, float]:
    """J2000 RA, Dec of a star half an hour east of the meridian now at the site, at a Dec
    that passes the zenith there, and its altitude now (about 82 degrees)."""
    now = datetime.now(UTC)
    lst = astro.local_sidereal_time(now, longitude)
    dec_now = max(-80.0, min(80.0, latitude))
    ra, dec = astro.precess_to_j2000(astro.wrap_hours(lst + 0.5), dec_now, now)
    height = astro.altitude(-0.5, dec_now, latitude)
    return ra, dec, height


def night_plan(ra: float, dec: float) -> Plan:
    """Two 1 s frames through each of `FILTERS` of the target at (`ra`, `dec`), dithered by
    3 pixels of guide pulses every 2 frames; the end parks and warms."""
    return night("indilib peers",
                 target(TARGET, *(Batch(2, 1, name) for name in FILTERS), ra=ra, dec=dec),
                 camera=CCD, wheel=WHEEL, focuser=FOCUSER, mount=MOUNT, park=True, warm=True,
                 dither=Dither(every=2, pixels=3, method="pulse", settle=1))


def run_night(port: int, tmp_path: Path) -> Path:
    """The plan loaded and started with indi_setprop, waited for with indi_getprop until
    SEQUENCE_STATE leaves Busy with every frame done (or goes Alert); checks what both
    setups must show and returns the frames' folder."""
    latitude, longitude = site_of_the_mount(port)
    ra, dec, height = high_target(latitude, longitude)
    assert height > 60, height
    plan = write_plan(tmp_path / "plan.toml", night_plan(ra, dec))
    frames = tmp_path / "frames"
    frames.mkdir()
    set_ok(port, f"{AGENT}.IMAGE_NAME.IMAGE_FOLDER={frames}")
    set_ok(port, f"{AGENT}.AGENT_PLAN.FILE={plan}")

    def plan_status() -> dict[str, str] | None:
        found = getprop(port, f"{AGENT}.PLAN_STATUS.*", timeout=1)
        return dict(found) if found.get(f"{AGENT}.PLAN_STATUS.FRAMES") == "4" else None

    loaded = wait_for(plan_status, 30, "the plan loaded (PLAN_STATUS.FRAMES 4)")
    assert loaded[f"{AGENT}.PLAN_STATUS.NAME"] == "indilib peers"
    set_ok(port, f"{AGENT}.AGENT_START_PROCESS.SEQUENCE=On")

    def ended() -> dict[str, str] | None:
        found = getprop(port, f"{AGENT}.SEQUENCE_STATE._STATE", f"{AGENT}.SEQUENCE_STATE.*",
                        timeout=1)
        state = found.get(f"{AGENT}.SEQUENCE_STATE._STATE")
        if state == "Alert" or (state == "Ok" and found.get(
                f"{AGENT}.SEQUENCE_STATE.PROGRESS") == "4"):
            return dict(found)
        return None

    state = wait_for(ended, 180, "SEQUENCE_STATE Ok with 4 frames, or Alert")
    assert state[f"{AGENT}.SEQUENCE_STATE._STATE"] == "Ok", state
    assert float(state[f"{AGENT}.SEQUENCE_STATE.EXPOSURE"]) == 4.0, state

    night = frames / "night"
    assert sorted(p.relative_to(night).as_posix() for p in night.rglob("*.fits")) == FRAMES
    for name in FRAMES:
        header = read_header((night / name).read_bytes())
        assert header["FILTER"] == name.rsplit("/", 1)[-1].split("_")[1], (name, header.values)
        assert header["EXPTIME"] == 1.0, (name, header.values)
        assert header["OBJECT"] == TARGET, (name, header.values)
    # The agent named the wheel it drives, so the CCD's header read that wheel's filter.
    assert getprop(port, f"{CCD}.ACTIVE_DEVICES.ACTIVE_FILTER")[
        f"{CCD}.ACTIVE_DEVICES.ACTIVE_FILTER"] == WHEEL
    parked = getprop(port, f"{MOUNT}.TELESCOPE_PARK.PARK")
    assert parked.get(f"{MOUNT}.TELESCOPE_PARK.PARK") == "On", parked
    journal = [json.loads(line) for line in
               (night / ".journal" / "indilib_peers.journal").read_text().splitlines()]
    dithers = [r["data"] for r in journal if r["kind"] == "note" and r["note"] == "dither"]
    assert len(dithers) == 1 and dithers[0]["method"] == "pulse", dithers
    # indilib's CCD_PIXEL_SIZE (5.2 um) behind its telescope's TELESCOPE_INFO (900 mm).
    assert dithers[0]["arcsec_per_pixel"] == pytest.approx(206.264806 * 5.2 / 900, rel=1e-4)
    return night


def test_our_agent_executable_under_indiserver(
        tmp_path: Path, indiserver_factory: Callable[..., IndiServer]) -> None:
    """``indipy_agent_imager`` under indilib's ``indiserver`` with indilib's four simulators,
    its server's port given by INDIPY_AGENT_SERVER: a plan loaded and started by indi_setprop
    runs to its end with no client: the four frames named from target, filter, type and
    number, each FITS header saying the wheel's filter, 1 s and the target; one dither by
    guide pulses at indilib's plate scale; the telescope parked; SEQUENCE_STATE Ok."""
    port = free_port()
    env = {"PATH": driver_path(), "INDIPY_AGENT_SERVER": f"127.0.0.1:{port}",
           "INDIPY_AGENT_STATE": str(tmp_path / "state"),
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    indiserver_factory("indipy_agent_imager", *SIMULATORS, port=port, env=env)
    run_night(port, tmp_path)


def test_indilib_simulators_under_our_server(
        tmp_path: Path, our_server: Callable[..., OurServer]) -> None:
    """The same plan with the agent in-process in our server (``indipyagents.imager``) and
    indilib's four simulators as its executable drivers: the same frames, headers, dither,
    park and SEQUENCE_STATE Ok."""
    server = our_server("indipyagents.imager", *SIMULATORS, port=free_port())
    run_night(server.port, tmp_path)
