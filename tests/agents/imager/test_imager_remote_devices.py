"""The agent drives devices the server holds from elsewhere (issue 71 item 1): here a camera
and wheel of another INDI server, chained with ``add_remote``."""

from __future__ import annotations

from pathlib import Path

from agentkit import darks_plan
from agentkit import run_plan
from serverkit import running
from serverkit import server

from indipyagents.imager import make_driver
from indipycore.fits import read_header
from indipysimulators import ccd
from indipysimulators import focus


async def test_a_remote_servers_camera_and_wheel_run_a_plan(tmp_path: Path) -> None:
    """Our simulated camera and wheel served by server B; server A chains B and hosts the
    agent: a plan naming B's devices runs to Ok and its frames say the filter of B's wheel."""
    async with running(server(ccd.make_driver(), focus.make_driver())) as far:
        near = server(make_driver(state=tmp_path / "state"))
        near.add_remote("127.0.0.1", far.port)
        async with running(near):
            plan = tmp_path / "remote.toml"
            plan.write_text(darks_plan("Python CCD Simulator", "Python Filter Wheel",
                                       filter="Green", count=2))
            ended = await run_plan(near.port, plan, tmp_path / "frames")
    assert ended.startswith("Ok"), ended
    night = tmp_path / "frames" / "night"
    saved = sorted(night.rglob("*.fits"))
    assert [p.relative_to(night).as_posix() for p in saved] == [
        "lights/Green/Here_Green_Light_001.fits", "lights/Green/Here_Green_Light_002.fits"]
    assert all(read_header(p.read_bytes())["FILTER"] == "Green" for p in saved)
