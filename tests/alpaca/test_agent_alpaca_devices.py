"""The imager agent drives Alpaca devices through ``alpaca://`` (issue 71 item 1): the
alpaca-simulators' camera and filter wheel, served as INDI devices by our server, run a plan
of the agent hosted beside them."""

from __future__ import annotations

from pathlib import Path

from agentkit import darks_plan
from agentkit import run_plan
from alpacapeers import AlpacaSimulators
from serverkit import running
from serverkit import server

from indipyagents.imager import make_driver
from indipycore.fits import read_header

CAMERA = "Simulator Camera"
WHEEL = "Simulator Filter Wheel"


async def test_an_alpaca_camera_and_wheel_run_a_plan(alpaca_sim: AlpacaSimulators,
                                                     tmp_path: Path) -> None:
    """alpaca://'s camera and wheel, named in the plan as the server lists them: the plan
    runs to Ok, two whole FITS frames saved, the Alpaca wheel's filter Red in their header.
    Dark frames: alpaca-simulators 1.3.2's camera ends a light frame in CameraState Error."""
    host = server(make_driver(state=tmp_path / "state"))
    host.add_alpaca(f"alpaca://127.0.0.1:{alpaca_sim.port}",
                    devices=["camera/0", "filterwheel/0"])
    async with running(host):
        plan = tmp_path / "alpaca.toml"
        plan.write_text(darks_plan(CAMERA, WHEEL, filter="Red", count=2, exposure=0.5,
                                   kind="Dark"))
        ended = await run_plan(host.port, plan, tmp_path / "frames", timeout=180)
    assert ended.startswith("Ok"), ended
    night = tmp_path / "frames" / "night"
    saved = sorted(night.rglob("*.fits"))
    assert len(saved) == 2
    for path in saved:
        header = read_header(path.read_bytes())
        assert header["EXPTIME"] == 0.5 and header["NAXIS"] == 2
        assert header["FILTER"] == "Red"
