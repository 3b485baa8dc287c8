"""Issue 82 item 4 in the engine, on the faithful doubles: a device lost past the retries
holds the run waiting for it (the report Alert naming it, "waiting for ... to come back"), and
once the rig's `Presence` says it is back the run goes on by itself, each frame once; a
client's pause or abort meanwhile stands; waiting past the night_end ends the night."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from seqdoubles import T0
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import Rigged
from seqdoubles import rigged
from test_engine import Recorder
from test_engine import two_targets
from waiting import HeldCalls
from waiting import until

from indipyagents.plan.model import Safety
from indipyagents.rig.protocols import DeviceLeft
from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import Rig
from indipyagents.sequencer.contracts import RunState
from indipyagents.sequencer.engine import Sequencer
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry

MOUNT = "Telescope Simulator"


class PresenceDouble(HeldCalls[str]):
    """The rig's `Presence`: a device is back when the test says so (`release`)."""

    async def back(self, device: str) -> None:
        await self.held(device)


def waiting_run(r: Rigged, presence: PresenceDouble, journal: MemoryJournal,
                store: MemoryStore, seen: Recorder, **plan: object) -> Sequencer:
    """Two targets on `r`, a mount lost for good, the retries 2 x 5 s (the sky's seconds)."""
    r.mount.failing.always = DeviceLost(MOUNT, "not connected")
    rig = Rig(r.camera, r.wheel, r.focuser, r.mount, presence=presence)
    return Sequencer(two_targets(**plan), rig, journal, store, plan_text="the plan's text",
                     observer=seen, clock=r.sky.clock, sleep=r.sky.sleep,
                     retry=Retry(ConstantBackoff(5.0), retries=2))


async def test_a_device_lost_past_the_retries_holds_the_run_and_once_back_it_goes_on() -> None:
    """The mount lost past the retries: the run does not return; it reports RUNNING waiting for
    the mount, its reason naming it ("tried 3 times; waiting for ... to come back", which the
    face shows Alert: the real-peer tests), journalled; the mount back (Presence): journalled "back", the run
    goes on by itself and ends DONE with each of its 5 frames once."""
    r, presence, journal, store, seen = rigged(), PresenceDouble(), MemoryJournal(), \
        MemoryStore(), Recorder()
    seq = waiting_run(r, presence, journal, store, seen)
    run = asyncio.ensure_future(seq.run())
    await until(lambda: presence.calls == [MOUNT], 5, "the run waiting for the mount")
    last = seen.reports[-1]
    assert not run.done() and last.state is RunState.RUNNING and last.waiting == MOUNT
    assert MOUNT in last.reason and "tried 3 times" in last.reason
    assert last.reason.endswith(f"waiting for {MOUNT} to come back"), last.reason
    assert [n["data"] for n in journal.kinds("note") if n["kind"] == "device"] == [
        {"lost": MOUNT, "reason": last.reason.split("; waiting")[0]}]
    assert journal.kinds("paused") == []
    r.mount.failing.always = None
    presence.release.set()
    assert await asyncio.wait_for(run, 10) is RunState.DONE
    backs = [n["data"] for n in journal.kinds("note") if n["kind"] == "device" and "back" in n["data"]]
    assert len(backs) == 1 and backs[0]["back"] == MOUNT
    assert len(store.order) == len(set(store.order)) == 5
    assert seen.reports[-1].state is RunState.DONE and seen.reports[-1].waiting == ""


async def test_a_clients_pause_while_waiting_stands_when_the_device_comes_back() -> None:
    """PAUSE while waiting for the lost mount: the run returns PAUSED at once, naming the
    mount; the mount coming back resumes nothing; a client's START then ends the night."""
    r, presence, journal, store, seen = rigged(), PresenceDouble(), MemoryJournal(), \
        MemoryStore(), Recorder()
    seq = waiting_run(r, presence, journal, store, seen)
    run = asyncio.ensure_future(seq.run())
    await until(lambda: presence.calls == [MOUNT], 5, "the run waiting for the mount")
    seq.pause()
    assert await asyncio.wait_for(run, 5) is RunState.PAUSED
    assert MOUNT in seq.reason and "waiting" not in seq.reason
    assert seen.reports[-1].state is RunState.PAUSED
    r.mount.failing.always = None
    presence.release.set()
    await asyncio.sleep(0.05)
    assert seq.state is RunState.PAUSED and store.order == []
    assert await asyncio.wait_for(seq.run(), 10) is RunState.DONE
    assert len(store.order) == 5


async def test_an_abort_while_waiting_ends_the_night() -> None:
    """ABORT while waiting for the lost mount: the abort's park and warm, ABORTED; the
    mount back afterwards resumes nothing."""
    r, presence, journal, store, seen = rigged(), PresenceDouble(), MemoryJournal(), \
        MemoryStore(), Recorder()
    seq = waiting_run(r, presence, journal, store, seen)
    run = asyncio.ensure_future(seq.run())
    await until(lambda: presence.calls == [MOUNT], 5, "the run waiting for the mount")
    await seq.abort()
    assert await asyncio.wait_for(run, 5) is RunState.ABORTED
    presence.release.set()
    await asyncio.sleep(0.05)
    assert seq.state is RunState.ABORTED and store.order == []


async def test_waiting_for_a_device_past_the_night_end_ends_the_night() -> None:
    """Still waiting for the mount once the plan's night_end passed (the sky's clock): the
    night ends ABORTED, the reason saying it waited for the mount past the end."""
    r, presence, journal, store, seen = rigged(), PresenceDouble(), MemoryJournal(), \
        MemoryStore(), Recorder()
    seq = waiting_run(r, presence, journal, store, seen,
                      safety=Safety(night_end=T0 + timedelta(minutes=5)))
    assert await asyncio.wait_for(seq.run(), 10) is RunState.ABORTED
    assert seq.reason == f"ended: waiting for {MOUNT} past the end of the night"
    assert journal.kinds("aborted")[-1]["reason"] == seq.reason


async def test_a_device_a_client_disconnected_holds_the_run_at_once_without_retries() -> None:
    """The mount disconnected by a client (`DeviceLeft`, as the rig's keeper says it): the run
    waits for it at once, no "retrying" report and no back-off slept (the sky's clock does
    not move), the reason said once, without "tried N times"; back, it goes on and ends
    DONE with each frame once."""
    r, presence, journal, store, seen = rigged(), PresenceDouble(), MemoryJournal(), \
        MemoryStore(), Recorder()
    seq = waiting_run(r, presence, journal, store, seen)
    left = DeviceLeft(MOUNT, "disconnected by a client")
    r.mount.failing.always = left
    before = r.sky.seconds
    run = asyncio.ensure_future(seq.run())
    await until(lambda: presence.calls == [MOUNT], 5, "the run waiting for the mount")
    assert r.sky.seconds == before, "a back-off was slept"
    assert not [p.reason for p in seen.reports if "retrying" in p.reason]
    assert seen.reports[-1].reason == f"{left}; waiting for {MOUNT} to come back"
    assert seen.reports[-1].waiting == MOUNT
    r.mount.failing.always = None
    presence.release.set()
    assert await asyncio.wait_for(run, 10) is RunState.DONE
    assert len(store.order) == len(set(store.order)) == 5
