"""The round trip of what a colour camera and a guiding mount add: server A serves indilib's
indi_simulator_ccd (Bayer simulation on) or our mount simulator as Alpaca (``--alpaca``),
server B takes them back with ``alpaca://``; B's CCD_CFA, CCD_GAIN, CCD_OFFSET, timed
guiding and TIME_UTC are A's, and what B is asked reaches A."""

from __future__ import annotations

from pathlib import Path

from alpacapeers import AlpacaSimulators
from alpacapeers import simulators_config
from peers import OurServer
from peers import eval_until
from peers import free_port
from peers import getprop
from peers import setprop
from test_focuser_wheel import connect

import indipyclient

INDILIB_CCD = "CCD Simulator"
MOUNT = "Python Mount"


def serve_as_alpaca(our_server: object, tmp_path: Path, *driver: str) -> tuple[OurServer, int]:
    """Server A with `driver` and its Alpaca face on a free port."""
    alpaca_port = free_port()
    a: OurServer = our_server(  # type: ignore[operator]
        "--alpaca", str(alpaca_port), "--alpaca-discovery", "0",
        "--alpaca-devices", str(tmp_path / "devices.json"), *driver)
    return a, alpaca_port


def take_back(our_server: object, alpaca_port: int, devices: str, name: str,
              cwd: Path) -> OurServer:
    """Server B with A's Alpaca `devices`, `name` connected on it."""
    b: OurServer = our_server(f"alpaca://127.0.0.1:{alpaca_port}/{devices}")  # type: ignore[operator]
    eval_until(b.port, f'"{name}.CONNECTION.DISCONNECT"==1', cwd, timeout=30)
    connect(b.port, name, cwd)
    return b


async def limits(port: int, device: str, vector: str, member: str) -> tuple[float, float, float]:
    """A number member's value, min and max, as our client reads them from the definition."""
    async with indipyclient.connect("127.0.0.1", port) as client:
        await client.wait_for(device, vector, timeout=10)
        number = client[device][vector].member(member)
        return float(number.value), float(number.min), float(number.max)


async def test_colour_camera_gain_offset_and_guiding_round_trip(our_server: object,
                                                                tmp_path: Path) -> None:
    """indilib's CCD simulator with Bayer on and its CFA pattern moved to x = 1: A's face
    serves SensorType RGGB with BayerOffsetX 1, so B's CCD_CFA is A's (RGGB, 1, 0); B's
    CCD_GAIN and CCD_OFFSET have A's values and ranges (Gain and Offset in value mode through
    the face), and a gain set on B is A's gain; B's camera guides (GUIDER bit, as A's) and a
    pulse asked of B is A's ST4 pulse."""
    a, alpaca_port = serve_as_alpaca(our_server, tmp_path, "indi_simulator_ccd")
    eval_until(a.port, f'"{INDILIB_CCD}.CONNECTION.DISCONNECT"==1', tmp_path, timeout=20)
    assert setprop(a.port, f"{INDILIB_CCD}.SIMULATE_BAYER.INDI_ENABLED=On",
                   cwd=tmp_path).returncode == 0
    connect(a.port, INDILIB_CCD, tmp_path)
    assert setprop(a.port, f"{INDILIB_CCD}.CCD_CFA.CFA_OFFSET_X=1",
                   cwd=tmp_path).returncode == 0
    eval_until(a.port, f'"{INDILIB_CCD}.CCD_CFA._STATE"==1', tmp_path)
    assert setprop(a.port, f"{INDILIB_CCD}.CCD_GAIN.GAIN=40", cwd=tmp_path).returncode == 0
    eval_until(a.port, f'"{INDILIB_CCD}.CCD_GAIN.GAIN"==40', tmp_path)

    b = take_back(our_server, alpaca_port, "camera/0", INDILIB_CCD, tmp_path)
    members = ("CFA_OFFSET_X", "CFA_OFFSET_Y", "CFA_TYPE")
    ours = getprop(a.port, *(f"{INDILIB_CCD}.CCD_CFA.{m}" for m in members), timeout=5,
                   cwd=tmp_path)
    theirs = getprop(b.port, *(f"{INDILIB_CCD}.CCD_CFA.{m}" for m in members),
                     f"{INDILIB_CCD}.DRIVER_INFO.DRIVER_INTERFACE", timeout=10, cwd=tmp_path)
    assert [ours[f"{INDILIB_CCD}.CCD_CFA.{m}"] for m in members] == ["1", "0", "RGGB"], ours
    assert [theirs[f"{INDILIB_CCD}.CCD_CFA.{m}"] for m in members] == ["1", "0", "RGGB"], theirs
    assert theirs[f"{INDILIB_CCD}.DRIVER_INFO.DRIVER_INTERFACE"] == "6"  # CCD | GUIDER

    for vector, member in (("CCD_GAIN", "GAIN"), ("CCD_OFFSET", "OFFSET")):
        mine = await limits(a.port, INDILIB_CCD, vector, member)
        bridged = await limits(b.port, INDILIB_CCD, vector, member)
        assert bridged == mine, (vector, mine, bridged)
    assert setprop(b.port, f"{INDILIB_CCD}.CCD_GAIN.GAIN=70", cwd=tmp_path).returncode == 0
    eval_until(b.port, f'"{INDILIB_CCD}.CCD_GAIN.GAIN"==70 && "{INDILIB_CCD}.CCD_GAIN._STATE"==1',
               tmp_path)
    eval_until(a.port, f'"{INDILIB_CCD}.CCD_GAIN.GAIN"==70', tmp_path)

    assert setprop(b.port, f"{INDILIB_CCD}.TELESCOPE_TIMED_GUIDE_NS.TIMED_GUIDE_S=700",
                   cwd=tmp_path).returncode == 0
    eval_until(b.port, f'"{INDILIB_CCD}.TELESCOPE_TIMED_GUIDE_NS._STATE"==1 && '
               f'"{INDILIB_CCD}.TELESCOPE_TIMED_GUIDE_NS.TIMED_GUIDE_S"==0', tmp_path)
    # indilib's simulator keeps the last pulse's length in the member it was given.
    eval_until(a.port, f'"{INDILIB_CCD}.TELESCOPE_TIMED_GUIDE_NS.TIMED_GUIDE_S"==700', tmp_path)


def test_mount_time_utc_round_trip(our_server: object, tmp_path: Path) -> None:
    """A's TIME_UTC (our mount simulator's, set by a client of A) is what B's mount shows on
    connect (Alpaca UTCDate GET through the face), and a TIME_UTC asked of B reaches A's
    mount (UTCDate PUT); B's OFFSET is B's own."""
    a, alpaca_port = serve_as_alpaca(our_server, tmp_path, "--module",
                                     "indipysimulators.telescope")
    eval_until(a.port, f'"{MOUNT}.CONNECTION.DISCONNECT"==1', tmp_path, timeout=20)
    connect(a.port, MOUNT, tmp_path)
    assert setprop(a.port, f"{MOUNT}.TIME_UTC.UTC=2030-01-02T03:04:05",
                   cwd=tmp_path).returncode == 0
    eval_until(a.port, f'"{MOUNT}.TIME_UTC._STATE"==1', tmp_path)
    b = take_back(our_server, alpaca_port, "telescope/0", MOUNT, tmp_path)
    utc = f"{MOUNT}.TIME_UTC.UTC"
    assert getprop(b.port, utc, timeout=5, cwd=tmp_path)[utc] == "2030-01-02T03:04:05"
    assert setprop(b.port, f"{MOUNT}.TIME_UTC.UTC;OFFSET=2031-05-06T07:08:09;-5.00",
                   cwd=tmp_path).returncode == 0
    eval_until(b.port, f'"{MOUNT}.TIME_UTC._STATE"==1', tmp_path)
    wanted = "2031-05-06T07:08:09"
    assert getprop(a.port, utc, timeout=5, cwd=tmp_path)[utc] == wanted
    values = getprop(b.port, utc, f"{MOUNT}.TIME_UTC.OFFSET", timeout=5, cwd=tmp_path)
    assert (values[utc], values[f"{MOUNT}.TIME_UTC.OFFSET"]) == (wanted, "-5.00"), values


SIM_CAMERA = "Simulator Camera"


def test_alpaca_colour_camera_through_two_bridges_keeps_its_mosaic(our_server: object,
                                                                   tmp_path: Path) -> None:
    """alpaca-simulators' camera as a CMYG mosaic (SensorType 3, BayerOffsetY 1) taken in by
    A (``alpaca://``), served again by A's face and taken in by B: B's CCD_CFA is A's (CMYG,
    0, 1), so the face's SensorType and BayerOffset carry the mosaic and its offsets."""
    config = simulators_config(tmp_path / "sim-config",
                               {"sensortype": 3, "bayeroffsetx": 0, "bayeroffsety": 1})
    sim = AlpacaSimulators(tmp_path / "alpaca-sim", config=config).start()
    try:
        a, alpaca_port = serve_as_alpaca(our_server, tmp_path,
                                         f"alpaca://127.0.0.1:{sim.port}/camera/0")
        eval_until(a.port, f'"{SIM_CAMERA}.CONNECTION.DISCONNECT"==1', tmp_path, timeout=30)
        connect(a.port, SIM_CAMERA, tmp_path)
        members = [f"{SIM_CAMERA}.CCD_CFA.{m}" for m in ("CFA_OFFSET_X", "CFA_OFFSET_Y",
                                                          "CFA_TYPE")]
        ours = getprop(a.port, *members, timeout=10, cwd=tmp_path)
        assert [ours[m] for m in members] == ["0", "1", "CMYG"], ours
        b = take_back(our_server, alpaca_port, "camera/0", SIM_CAMERA, tmp_path)
        theirs = getprop(b.port, *members, timeout=10, cwd=tmp_path)
        assert [theirs[m] for m in members] == ["0", "1", "CMYG"], theirs
    finally:
        sim.stop()
