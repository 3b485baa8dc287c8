"""Issue 89 item 5, "where a device cannot follow it, the night says so at start": on a sky
clock, a night whose mount is not our simulator (indilib's ``indi_simulator_telescope``, real
hardware) says at its start that the mount's sky is the wall's, read from the mount's
DRIVER_INFO; our mount simulator, which follows the sky clock, draws no such word."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from agentkit import night
from agentkit import target
from peers import IndiServer
from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.imageragent.driver import make_driver
from indipyagents.imageragent.mountsky import mount_sky_note
from indipyagents.imageragent.night import mount_sky_said
from indipyagents.plan.model import Batch
from indipyagents.plan.toml import plan_to_toml
from indipysimulators import ccd
from indipysimulators import telescope

INDILIB_MOUNT = "Telescope Simulator"


async def test_indilibs_telescope_simulator_is_said_to_keep_the_walls_sky(
        indiserver_factory: Callable[..., IndiServer]) -> None:
    """indilib's mount, read through a real connection: the note names it and its driver."""
    theirs = indiserver_factory("indi_simulator_telescope")
    async with indipyclient.connect("127.0.0.1", theirs.port) as client:
        await client.wait_for(INDILIB_MOUNT, "DRIVER_INFO", timeout=30)
        note = mount_sky_said(client, INDILIB_MOUNT)
    assert note is not None
    assert "Telescope Simulator" in note and "indi_simulator_telescope" in note
    assert "wall's" in note


async def test_our_mount_simulator_follows_the_sky_clock_and_draws_no_note() -> None:
    """Our mount simulator (DRIVER_EXEC indipy_simulator_telescope) follows the sky clock."""
    async with running(server(telescope.make_driver())) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.wait_for(telescope.DEVICE, "DRIVER_INFO", timeout=30)
        assert mount_sky_said(client, telescope.DEVICE) is None


def test_a_mount_without_driver_info_is_said_to_keep_the_walls_sky() -> None:
    """No DRIVER_INFO, or another program: the wall's sky, said."""
    assert mount_sky_note("Mount", None, None) is not None
    assert "indi_eqmod_telescope" in str(mount_sky_note("EQMod Mount", "indi_eqmod_telescope",
                                                        "EQMod Mount"))
    assert mount_sky_note("M", "indipy_simulator_telescope", "Python Mount") is None


class _Quiet:
    """An observer that is told nothing it needs to keep."""

    async def progress(self, progress: object) -> None:
        pass

    async def saved(self, *args: object) -> None:
        pass


async def test_a_night_on_a_sky_clock_says_at_its_start_that_indilibs_mount_keeps_the_wall(
        indiserver_factory: Callable[..., IndiServer], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """The imager agent on a sky clock, its night's mount indilib's telescope simulator
    (chained from indiserver into our server beside our camera): starting the night logs the
    note and keeps it in `Night.notes`."""
    theirs = indiserver_factory("indi_simulator_telescope")
    ours = server(ccd.make_driver())
    ours.add_remote("127.0.0.1", theirs.port)
    async with running(ours):
        agent = make_driver(host="127.0.0.1", port=ours.port, state=tmp_path,
                            sky_clock=f"2026-12-03T19:00Z@{datetime.now(UTC).isoformat()}")
        assert agent.night is not None
        plan = night("rehearsal", target("Here", Batch(1, 0.1)), camera=ccd.DEVICE,
                     mount=INDILIB_MOUNT)
        caplog.set_level(logging.WARNING, "indipyagents.imageragent.night")
        try:
            await agent.night(plan, plan_to_toml(plan), _Quiet())  # type: ignore[arg-type]
        finally:
            await agent.link.close()
    assert len(agent.night.notes) == 1 and "wall's" in agent.night.notes[0]
    assert agent.night.notes[0] in caplog.text
