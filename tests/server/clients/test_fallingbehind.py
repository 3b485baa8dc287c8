"""FallingBehind: which clients count as 'the others keeping up', and whose drivers a congested
client holds up (one server's, not the loop's)."""

from __future__ import annotations

import asyncio

from handclock import HandClock
from serverkit import Reader

from indipyserver.clients.fallingbehind import NEVER_RESUMED_SLOW_AFTER
from indipyserver.clients.fallingbehind import FallingBehind
from indipyserver.loop.flowcontrol import Congestion
from indipyserver.loop.flowcontrol import KeepingUp


class StuckClient:
    """Just what FallingBehind reads of a connection (`JudgedClient`): paused, taking nothing."""

    label = "stuck"
    writing_paused = True
    closing = False

    def __init__(self, keeping_up: KeepingUp) -> None:
        self._keeping_up = keeping_up
        self.congested = False
        self.slow = False

    @property
    def others_progress(self) -> int:
        return self._keeping_up.count

    def sent(self) -> int:
        return 0


async def test_only_clients_of_its_own_server_make_a_stuck_client_the_slow_one() -> None:
    """Two servers in one event loop (a chain in one process): the other server's clients
    taking their data says nothing about this one's, so a client stuck alone in its server
    holds the drivers (congested) instead of being let go; once a client of its own server
    takes data while it is stuck, it is the slow one."""
    congestion = Congestion()
    ours, other_server = KeepingUp(), KeepingUp()
    client = StuckClient(ours)
    behind = FallingBehind(client, congestion, asyncio.get_running_loop())
    behind.paused()
    other_server.count += 5
    behind.fell_behind()
    assert client.congested and not client.slow
    assert congestion.congested
    behind.not_behind()
    assert not congestion.congested

    behind.paused()
    ours.count += 1
    behind.fell_behind()
    assert client.slow and not client.congested


async def test_a_congested_client_holds_up_the_readers_of_its_own_server_only() -> None:
    """Two servers in one loop: a client congested on one pauses that server's driver reads
    and in-process writes; the other server's go on."""
    ours, other_server = Congestion(), Congestion()
    our_reader, their_reader = Reader(), Reader()
    ours.add_reader(our_reader)
    other_server.add_reader(their_reader)
    client = StuckClient(KeepingUp())
    behind = FallingBehind(client, ours, asyncio.get_running_loop())  # type: ignore[arg-type]
    behind.paused()
    behind.fell_behind()
    assert client.congested
    assert our_reader.paused and ours.congested
    assert not their_reader.paused and not other_server.congested
    await asyncio.wait_for(other_server.wait_uncongested(), 1)  # an in-process driver's write
    waiting = asyncio.create_task(ours.wait_uncongested())
    for _ in range(3):  # loop turns: the task has run as far as it can
        await asyncio.sleep(0)
    assert not waiting.done()
    behind.not_behind()
    assert not our_reader.paused
    await asyncio.wait_for(waiting, 1)


async def test_a_client_turning_slow_and_catching_up_over_and_over_logs_within_a_budget(
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    """A client reading at about the drivers' pace turns slow and catches up again and again;
    a chaos review saw 16 pairs of lines a second with -v. The lines are budgeted, and the one
    after the budget says how many were left out."""
    import logging

    congestion = Congestion()
    keeping_up = KeepingUp()
    client = StuckClient(keeping_up)
    behind = FallingBehind(client, congestion, asyncio.get_running_loop())
    with caplog.at_level(logging.INFO, logger="indipyserver.clients"):
        for _ in range(100):
            behind.paused()
            keeping_up.count += 1
            behind.fell_behind()
            assert client.slow
            behind.caught_up()
            assert not client.slow
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 10
    assert sum("caught up" in line for line in lines) == 5


async def test_a_client_reading_in_its_first_long_pause_is_held_for_not_let_go() -> None:
    """Reading steadily, a client may wait more than NEVER_RESUMED_SLOW_AFTER for the socket
    to report room (a third of a send buffer of up to 4 MiB must drain first). Taking bytes
    meanwhile shows it reads: it holds the drivers (congested), so nothing is dropped for it,
    where it used to be let go (the e2e slow reader alone lost BLOBs on a fresh machine).
    One that took nothing in that time is let go at once, as before."""
    congestion = Congestion()
    clock = HandClock()
    client = StuckClient(KeepingUp())
    sent = [0]
    client.sent = lambda: sent[0]  # type: ignore[method-assign]
    behind = FallingBehind(client, congestion, clock)
    behind.paused()
    clock.advance(NEVER_RESUMED_SLOW_AFTER * 1.5)
    sent[0] = 65536
    behind.fell_behind()
    assert client.congested and not client.slow
    behind.not_behind()

    never = StuckClient(KeepingUp())
    behind = FallingBehind(never, congestion, clock)  # type: ignore[arg-type]
    behind.paused()
    clock.advance(NEVER_RESUMED_SLOW_AFTER * 1.5)
    behind.fell_behind()
    assert never.slow and not never.congested
