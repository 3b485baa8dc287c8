"""Issue 89 item 5, "where a device cannot follow it, the night says so at start": on a sky
clock, a night whose mount is not our simulator (indilib's ``indi_simulator_telescope``, real
hardware) says at its start that the mount's sky is the wall's, read from the mount's
DRIVER_INFO; our mount simulator, which follows the sky clock, draws no such word. Shown to
a user: SEQUENCE_STATE's message carries it until the night's first frame is saved."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from agentkit import night
from agentkit import target
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import TELESCOPE_PROGRAM
from nightkit import hosted
from nightkit import load_and_start
from nightkit import sequence_ends
from peers import IndiServer
from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.imageragent.driver import make_driver
from indipyagents.imageragent.mountsky import mount_sky_note
from indipyagents.imageragent.night import mount_sky_said
from indipyagents.plan.model import Batch
from indipyagents.plan.toml import plan_to_toml
from indipyclient import events
from indipycore.skyclock import ENV_SKY_CLOCK
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


async def _messages_of_a_night(tmp_path: Path, mount_program: str, mount: str,
                               monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """SEQUENCE_STATE's (state, message) at each of its sends, as a client saw them, over a
    night of two frames on a sky clock: the agent hosted by our server beside our camera and
    `mount_program`, started through AGENT_START_PROCESS as a user would."""
    monkeypatch.setenv(ENV_SKY_CLOCK, f"2026-12-03T19:00Z@{datetime.now(UTC).isoformat()}")
    seen: list[tuple[str, str]] = []
    async with hosted(tmp_path, CCD_PROGRAM, mount_program) as host:
        async def watch() -> None:
            async with host.client.events(maxsize=4096) as stream:
                async for event in stream:
                    if isinstance(event, events.setNumberVector) and \
                            event.vectorname == "SEQUENCE_STATE":
                        seen.append((event.state.value if event.state else "",
                                     event.message or ""))

        watching = asyncio.create_task(watch())
        try:
            plan = night("rehearsal", target("Here", Batch(2, 1.0)), camera=CCD, mount=mount)
            await load_and_start(host.client, tmp_path, plan)
            state, _ = await sequence_ends(host.client, 90)
            assert state == "Ok", seen
        finally:
            watching.cancel()
    return seen


async def test_the_start_note_is_in_sequence_state_until_the_first_frame(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 5, shown to a user: with indilib's telescope simulator on a sky clock, a client
    reads the note in SEQUENCE_STATE's message while the night runs, held (every send) until
    its first frame is saved; the end's message no longer carries it."""
    seen = await _messages_of_a_night(tmp_path, "indi_simulator_telescope", INDILIB_MOUNT,
                                      monkeypatch)
    busy = [message for state, message in seen if state == "Busy"]
    assert busy and "wall's" in busy[0] and "indi_simulator_telescope" in busy[0], seen
    assert "wall's" not in seen[-1][1], seen


async def test_our_mount_simulator_draws_no_note_in_sequence_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our mount simulator follows the sky clock: no send of SEQUENCE_STATE says otherwise."""
    seen = await _messages_of_a_night(tmp_path, TELESCOPE_PROGRAM, telescope.DEVICE,
                                      monkeypatch)
    assert seen and not any("sky clock" in message for _, message in seen), seen
