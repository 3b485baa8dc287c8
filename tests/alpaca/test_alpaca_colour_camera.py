"""An Alpaca colour camera (alpaca-simulators configured with SensorType 2 RGGB and
BayerOffsetX 1) as an INDI CCD of our server: CCD_CFA as indilib's CCD defines it for a Bayer
sensor (compared with indi_simulator_ccd's, Bayer simulation on), the Bayer cards in the
FITS header of a dark frame, the camera's PulseGuide as indilib's ST4 vectors, and its Gains
and Offsets lists as switch vectors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alpacapeers import AlpacaSimulators
from alpacapeers import SlowPuts
from alpacapeers import simulators_config
from peers import IndiServer
from peers import getprop
from peers import indi_eval
from peers import setprop
from test_alpaca_camera import CAMERA
from test_alpaca_camera import expose
from test_alpaca_camera import fits_pixels
from test_focuser_wheel import connect
from test_focuser_wheel import serve

import indipyclient

INDILIB_CCD = "CCD Simulator"
VECTOR_ATTRIBUTES = ("_LABEL", "_GROUP", "_PERM", "_TO")
CFA_MEMBERS = ("CFA_OFFSET_X", "CFA_OFFSET_Y", "CFA_TYPE")


def cfa(port: int, device: str, cwd: Path) -> dict[str, str]:
    """CCD_CFA's attributes and members, by name (waiting up to 10 s for its definition)."""
    values = getprop(port, *(f"{device}.CCD_CFA.{n}" for n in VECTOR_ATTRIBUTES + CFA_MEMBERS),
                     timeout=10, cwd=cwd)
    return {key.rsplit(".", 1)[1]: value for key, value in values.items()}


@pytest.fixture
def colour_sim(tmp_path: Path) -> Iterator[AlpacaSimulators]:
    """alpaca-simulators whose camera is an RGGB sensor whose pattern starts at x = 1 (so the
    first row reads G R: GRBG at the first pixel)."""
    config = simulators_config(tmp_path / "sim-config",
                               {"sensortype": 2, "bayeroffsetx": 1, "bayeroffsety": 0})
    simulators = AlpacaSimulators(tmp_path / "alpaca-sim", config=config).start()
    try:
        yield simulators
    finally:
        simulators.stop()


def indilib_bayer_cfa(indiserver_factory: object, cwd: Path) -> dict[str, str]:
    """indi_simulator_ccd's CCD_CFA (vector attributes and values) with Bayer simulation on."""
    server: IndiServer = indiserver_factory("indi_simulator_ccd")  # type: ignore[operator]
    assert setprop(server.port, f"{INDILIB_CCD}.SIMULATE_BAYER.INDI_ENABLED=On",
                   cwd=cwd).returncode == 0
    connect(server.port, INDILIB_CCD, cwd)
    return cfa(server.port, INDILIB_CCD, cwd)


async def test_colour_camera_has_indilib_cfa_and_bayer_fits_cards(
        our_server: object, indiserver_factory: object, colour_sim: AlpacaSimulators,
        tmp_path: Path) -> None:
    """SensorType 2 with BayerOffsetX 1: CCD_CFA is defined on connect with indilib's label,
    group, permission, timeout and members (as indi_simulator_ccd's Bayer mode), holding
    CFA_TYPE RGGB and the Alpaca offsets; a dark frame's FITS header says BAYERPAT RGGB,
    XBAYROFF 1, YBAYROFF 0 (what FITS readers take as GRBG at the first pixel)."""
    indilib = indilib_bayer_cfa(indiserver_factory, tmp_path)
    server = serve(our_server, colour_sim, "camera/0", CAMERA)
    connect(server.port, CAMERA, tmp_path)
    ours = cfa(server.port, CAMERA, tmp_path)
    assert set(indilib) == set(ours) == {*VECTOR_ATTRIBUTES, *CFA_MEMBERS}, (indilib, ours)
    for attribute in VECTOR_ATTRIBUTES:
        assert ours[attribute] == indilib[attribute], (attribute, ours, indilib)
    assert indilib["CFA_TYPE"] == "RGGB"
    assert [ours[m] for m in CFA_MEMBERS] == ["1", "0", "RGGB"]

    data = await expose(server, tmp_path, 0.2, {"CCD_FRAME_TYPE": {"FRAME_DARK": "On"}})
    header, _pixels = fits_pixels(data)
    assert (header["NAXIS1"], header["NAXIS2"]) == (1024, 1024), header
    assert (header["BAYERPAT"], header["XBAYROFF"], header["YBAYROFF"]) == ("RGGB", 1, 0), header


@pytest.fixture(params=["direct", "slow-pulseguide"])
def camera_link(request: pytest.FixtureRequest,
                alpaca_sim: AlpacaSimulators) -> Iterator[AlpacaSimulators | SlowPuts]:
    """The simulator as our server reaches it: directly, or through a relay that holds each
    PulseGuide 0.5 s (a camera slow to take it, as a loaded machine makes it)."""
    if request.param == "direct":
        yield alpaca_sim
        return
    relay = SlowPuts(alpaca_sim.port, ("pulseguide",), 0.5)
    try:
        yield relay
    finally:
        relay.close()


async def test_camera_pulse_guide_is_indilib_st4_vectors(
        our_server: object, alpaca_sim: AlpacaSimulators,
        camera_link: AlpacaSimulators | SlowPuts, tmp_path: Path) -> None:
    """The simulator's camera can PulseGuide: DRIVER_INTERFACE says CCD|GUIDER (6), and
    TELESCOPE_TIMED_GUIDE_WE (Guider Control, ms) set by indi_setprop is the Alpaca pulse:
    Busy only once the camera says IsPulseGuiding, also when the camera is slow to take the
    PulseGuide (a client connected beforehand asks the camera the moment it sees Busy, so no
    tool's start-up eats into the pulse), Ok with 0 once it is over (not before its 1.5 s)."""
    server = serve(our_server, camera_link, "camera/0", CAMERA)
    values = getprop(server.port, f"{CAMERA}.DRIVER_INFO.DRIVER_INTERFACE", cwd=tmp_path)
    assert values[f"{CAMERA}.DRIVER_INFO.DRIVER_INTERFACE"] == "6"
    connect(server.port, CAMERA, tmp_path)
    group = getprop(server.port, f"{CAMERA}.TELESCOPE_TIMED_GUIDE_WE._GROUP",
                    f"{CAMERA}.TELESCOPE_TIMED_GUIDE_NS.*", timeout=3, cwd=tmp_path)
    assert group[f"{CAMERA}.TELESCOPE_TIMED_GUIDE_WE._GROUP"] == "Guider Control"
    assert f"{CAMERA}.TELESCOPE_TIMED_GUIDE_NS.TIMED_GUIDE_S" in group
    async with indipyclient.connect("127.0.0.1", server.port) as client:
        await client.wait_for(CAMERA, "TELESCOPE_TIMED_GUIDE_WE", timeout=10)
        start = time.monotonic()
        sent = await asyncio.to_thread(
            setprop, server.port, f"{CAMERA}.TELESCOPE_TIMED_GUIDE_WE.TIMED_GUIDE_E=1500",
            cwd=tmp_path)
        assert sent.returncode == 0
        await client.wait_for(CAMERA, "TELESCOPE_TIMED_GUIDE_WE", state="Busy", timeout=5)
        assert alpaca_sim.get("camera/0/ispulseguiding") is True
    done = indi_eval(server.port, f'"{CAMERA}.TELESCOPE_TIMED_GUIDE_WE._STATE"==1 && '
                     f'"{CAMERA}.TELESCOPE_TIMED_GUIDE_WE.TIMED_GUIDE_E"==0', timeout=15,
                     cwd=tmp_path)
    assert done.returncode == 0, done.describe() + server.log_tail()
    assert time.monotonic() - start >= 1.4
    assert alpaca_sim.get("camera/0/ispulseguiding") is False


async def test_gain_and_offset_lists_are_switch_vectors(our_server: object,
                                                        alpaca_sim: AlpacaSimulators,
                                                        tmp_path: Path) -> None:
    """The simulator's camera has Gains and Offsets lists (GainMin/OffsetMin not
    implemented): no CCD_GAIN or CCD_OFFSET number (an index is no gain), but CCD_GAINS and
    CCD_OFFSETS, OneOfMany switches labelled with the names, the current index On; choosing
    one is the Alpaca PUT of its index, and the vector then shows what the camera reads back
    (alpaca-simulators 1.3.2 stores a Gain index one higher than it was sent: shown as it is)."""
    server = serve(our_server, alpaca_sim, "camera/0", CAMERA)
    connect(server.port, CAMERA, tmp_path)
    gains, offsets = alpaca_sim.get("camera/0/gains"), alpaca_sim.get("camera/0/offsets")
    assert isinstance(gains, list) and isinstance(offsets, list)
    async with indipyclient.connect("127.0.0.1", server.port) as client:
        await client.wait_for(CAMERA, "CCD_OFFSETS", timeout=10)
        device = client[CAMERA]
        assert "CCD_GAIN" not in device and "CCD_OFFSET" not in device
        for vector, names, member, index in (
                ("CCD_GAINS", gains, "GAIN", alpaca_sim.get("camera/0/gain")),
                ("CCD_OFFSETS", offsets, "OFFSET", alpaca_sim.get("camera/0/offset"))):
            switches = device[vector]
            assert switches.rule == "OneOfMany"
            assert [switches.memberlabel(f"{member}_{n}") for n in range(len(names))] == names
            assert [name for name in switches if switches[name] == "On"] == [f"{member}_{index}"]
        result = await client.set(CAMERA, "CCD_OFFSETS", {"OFFSET_2": "On"}, timeout=10)
        assert result.ok and alpaca_sim.get("camera/0/offset") == 2, result
        assert device["CCD_OFFSETS"]["OFFSET_2"] == "On"
        result = await client.set(CAMERA, "CCD_GAINS", {"GAIN_4": "On"}, timeout=10)
        assert result.ok, result
        assert alpaca_sim.get("camera/0/gain") == 5  # the simulator's own off-by-one
        assert [n for n in device["CCD_GAINS"] if device["CCD_GAINS"][n] == "On"] == ["GAIN_5"]
