"""Issue 93 item 6: a simulator that makes each fault.

Passing cloud: our camera simulator's SIM_CLOUDS.TRANSPARENCY (1 clear .. 0 overcast) dims the
stars it draws, so a light frame through cloud has fewer stars found by the agents' own star
finder (`indipyagents.stars.measure`, the one autofocus and the guider use), and our guide
camera's frame under thick cloud has no guide star left; set through our server by a client,
even during an exposure (the transparency at readout is the frame's).

Soft focus as the night cools: our focuser simulator's FOCUS_TEMPERATURE, set by its
SIM_TEMPERATURE, moves the best position by FOCUS_SIMULATION.STEPS_PER_DEGREE a degree; the
HFR measured on our camera's frames at the old best grows, at the new best it is as it was.
And beside the real peer, indilib's ``indi_simulator_focus``, our focuser's FWHM has the shape
of its.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.rig.camera import IndiCamera
from indipyagents.rig.focuser import IndiFocuser
from indipyagents.stars import measure
from indipyclient.model import events as ev
from indipydriver.standard.camera import Exposure
from indipysimulators import ccd
from indipysimulators import focus
from indipysimulators import guidecamera
from indipysimulators.ccd import SimulatedCamera
from indipysimulators.ccd import clouded

#: The Double Cluster, JNow near enough: rich in stars in both cameras' fields.
FIELD = (2.37, 57.2)


def stars_found(camera: SimulatedCamera, seconds: float = 2.0) -> int:
    """The stars the agents' star finder takes on one light frame of `camera`."""
    image = camera.render(Exposure(seconds, 0, 0, camera.sensor.width, camera.sensor.height))
    pixels = np.array(image.pixels, dtype=np.float32).reshape(image.height, image.width)
    _, found, _ = measure.detect(pixels, measure.FOCUS_THRESHOLD)
    return len(found)


def field_camera(sensor: object = ccd.SENSOR) -> SimulatedCamera:
    camera = SimulatedCamera(sensor)  # type: ignore[arg-type]
    camera.fwhm = lambda: 3.5
    camera.pointing = lambda: FIELD
    return camera


def test_clouded_dims_each_star_and_brightens_the_sky_a_little() -> None:
    stars = [(10.0, 20.0, 1000.0), (30.0, 40.0, 50.0)]
    assert clouded(stars, 100.0, 1.0) == (100.0, stars)
    sky, dimmed = clouded(stars, 100.0, 0.3)
    assert dimmed == [(10.0, 20.0, 300.0), (30.0, 40.0, 15.0)]
    assert sky == pytest.approx(100.0 * (1 + ccd.CLOUD_GLOW * 0.7))
    assert clouded(stars, 100.0, 0.0)[1] == [(10.0, 20.0, 0.0), (30.0, 40.0, 0.0)]


def test_a_frame_through_cloud_has_measurably_fewer_stars() -> None:
    """The same field, the same seed: at TRANSPARENCY 0.3 the star finder takes clearly
    fewer stars than in clear sky (under 70 % of them), and none under full cloud."""
    counts = {}
    for transparency in (1.0, 0.3, 0.0):
        camera = field_camera()
        camera.transparency = lambda t=transparency: t  # type: ignore[misc]
        counts[transparency] = stars_found(camera)
    print(f"stars found by transparency: {counts}")
    assert counts[1.0] >= 30, counts
    assert counts[0.3] < 0.7 * counts[1.0], counts
    assert counts[0.0] == 0, counts


def test_the_guide_camera_loses_its_star_under_cloud() -> None:
    """The guide camera (`guidecamera`, same code) at 2 s: the guider's star finder
    (`measure.stars_in`) has stars in clear sky, none under full cloud."""
    clear, cloud = field_camera(guidecamera.SENSOR), field_camera(guidecamera.SENSOR)
    cloud.transparency = lambda: 0.0
    for camera, some in ((clear, True), (cloud, False)):
        image = camera.render(Exposure(2.0, 0, 0, 640, 512))
        pixels = np.array(image.pixels, dtype=np.float32).reshape(512, 640)
        assert bool(measure.stars_in(pixels, 65535.0)) == some


@pytest.mark.timeout(120)
async def test_sim_clouds_set_during_an_exposure_dims_that_frame() -> None:
    """Through our server: SIM_CLOUDS is defined on the camera (1.0), refuses a value out of
    0..1, and a TRANSPARENCY of 0 set while a 3 s exposure runs leaves that frame starless
    (the transparency at readout is the frame's); back at 1 the stars return."""
    driver = ccd.make_driver()
    camera = driver.driverdata["camera"]
    camera.pointing = lambda: FIELD
    async with running(server(driver)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.set(ccd.DEVICE, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.wait_for(ccd.DEVICE, "SIM_CLOUDS", timeout=10)
        assert client.get(ccd.DEVICE, "SIM_CLOUDS", "TRANSPARENCY") == 1.0
        rig = IndiCamera(client, ccd.DEVICE)
        await rig.prepare()
        clear = measure.hfr((await rig.expose(1.0)).data)
        assert clear is not None and clear.stars >= 10

        taking = asyncio.create_task(rig.expose(3.0))
        await until(lambda: client.vector(ccd.DEVICE, "CCD_EXPOSURE").state.value == "Busy",
                    timeout=10)
        await client.set(ccd.DEVICE, "SIM_CLOUDS", {"TRANSPARENCY": 0.0}, timeout=10)
        assert measure.hfr((await taking).data) is None
        await client.set(ccd.DEVICE, "SIM_CLOUDS", {"TRANSPARENCY": 1.0}, timeout=10)
        back = measure.hfr((await rig.expose(1.0)).data)
        assert back is not None and back.stars >= 10


@pytest.mark.timeout(180)
async def test_a_temperature_change_moves_the_best_focus_by_the_coefficient() -> None:
    """Our focuser and camera in our server: FOCUS_TEMPERATURE reads the default 10 C; the
    focuser at the best position; SIM_TEMPERATURE 5 C (a fall of 5 degrees) moves
    FOCUS_SIMULATION.BEST_POSITION by -5 x STEPS_PER_DEGREE, FOCUS_TEMPERATURE says 5 C; the
    HFR measured at the old best is over 1.5 times what it was, and at the new best it is
    within 15 % of the first."""
    camera_driver = ccd.make_driver()
    camera_driver.driverdata["camera"].pointing = lambda: FIELD
    async with running(server(camera_driver, focus.make_driver(5000))) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        for device in (ccd.DEVICE, focus.FOCUSER):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        focuser = IndiFocuser(client, focus.FOCUSER)
        assert await focuser.temperature() == focus.TEMPERATURE
        coefficient = float(client.get(focus.FOCUSER, "FOCUS_SIMULATION", "STEPS_PER_DEGREE"))
        assert coefficient == focus.STEPS_PER_DEGREE
        old_best = round(float(client.get(focus.FOCUSER, "FOCUS_SIMULATION", "BEST_POSITION")))
        camera = IndiCamera(client, ccd.DEVICE)
        await camera.prepare()

        async def hfr_at(position: int) -> float:
            await focuser.move_to(position)
            await until(lambda: camera_driver.driverdata["camera"].fwhm()
                        == float(client.get(focus.FOCUSER, "FWHM", "SIM_FWHM")), timeout=10)
            measured = measure.hfr((await camera.expose(1.0)).data)
            assert measured is not None
            return measured.hfr

        sharp = await hfr_at(old_best)
        await client.set(focus.FOCUSER, "SIM_TEMPERATURE", {"TEMPERATURE": 5.0}, timeout=10)
        await until(lambda: client.get(focus.FOCUSER, "FOCUS_TEMPERATURE", "TEMPERATURE")
                    == 5.0, timeout=10)
        new_best = float(client.get(focus.FOCUSER, "FOCUS_SIMULATION", "BEST_POSITION"))
        assert new_best == old_best - 5 * coefficient
        soft = await hfr_at(old_best)
        again = await hfr_at(round(new_best))
        print(f"HFR at the old best {sharp:.2f} px, after cooling 5 C {soft:.2f} px, "
              f"at the new best {again:.2f} px")
        assert soft > 1.5 * sharp
        assert again == pytest.approx(sharp, rel=0.15)


@pytest.mark.timeout(120)
async def test_our_focusers_fwhm_behaves_as_indilibs(tmp_home: Path) -> None:
    """The real peer: indilib's ``indi_simulator_focus`` beside ours under our server. Both say
    SEEING_SETTINGS.SIM_SEEING 3.5 and FWHM.SIM_FWHM as their focuser moves; on both the FWHM
    is never under the seeing, is convex in the position (a V or a parabola, whose bottom
    autofocus finds) and comes back to its value when the focuser does. (indilib's is a
    parabola 5000 steps a unit wide, 0.5625 t^2 + seeing; ours a hyperbola that doubles in
    STEPS_TO_DOUBLE: the scales differ, the shape is the same.)"""
    ours = server(focus.make_driver(5000))
    ours.add_exdriver("indi_simulator_focus")
    spans = {"Focuser Simulator": 2000, focus.FOCUSER: 30}
    async with running(ours), indipyclient.connect("127.0.0.1", ours.port) as client:
        for device, span in spans.items():
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=20)
            await client.wait_for(device, "FWHM", timeout=10)
            seeing = float(client.get(device, "SEEING_SETTINGS", "SIM_SEEING"))
            assert seeing == 3.5
            seen = []
            for position in (50000 - span, 50000, 50000 + span, 50000):
                # FWHM follows the move (each of these changes it, so both send it):
                # waited for by its own set, heard from before the request
                with client.waiters.watching(fwhm_set_by(device)) as told:
                    await client.set(device, "ABS_FOCUS_POSITION",
                                     {"FOCUS_ABSOLUTE_POSITION": position}, timeout=60)
                    await until(told.done, 20, f"{device}'s FWHM after the move to {position}")
                seen.append(float(client.get(device, "FWHM", "SIM_FWHM")))
            print(f"{device}: FWHM {seen} at 50000 -/+ {span}")
            assert min(seen) >= seeing
            assert seen[1] <= (seen[0] + seen[2]) / 2, seen  # convex
            assert seen[0] != seen[2] or seen[0] > seen[1]  # it moved with the focuser
            assert seen[3] == pytest.approx(seen[1], abs=0.01)  # back where it was


def fwhm_set_by(device: str) -> Callable[[ev.Event], bool]:
    """A check true at `device`'s next FWHM set."""
    def check(event: ev.Event) -> bool:
        return isinstance(event, ev.setNumberVector) and event.devicename == device \
            and event.vectorname == "FWHM"
    return check
