"""FallingBehind: which clients count as 'the others keeping up' (one server's, not the loop's)."""

from __future__ import annotations

import asyncio

from indipyserver.fallingbehind import FallingBehind
from indipyserver.flowcontrol import KeepingUp, LoopFlow


class StuckClient:
    """Just what FallingBehind reads of a connection: paused, taking nothing."""

    label = "stuck"

    def __init__(self, keeping_up: KeepingUp) -> None:
        self._keeping_up = keeping_up
        self._paused = True
        self._congested = False
        self._slow = False
        self._closing = False

    def _sent(self) -> int:
        return 0


async def test_only_clients_of_its_own_server_make_a_stuck_client_the_slow_one() -> None:
    """Two servers in one event loop (a chain in one process): the other server's clients
    taking their data says nothing about this one's, so a client stuck alone in its server
    holds the drivers (congested) instead of being let go; once a client of its own server
    takes data while it is stuck, it is the slow one."""
    flow = LoopFlow(asyncio.get_running_loop())
    ours, other_server = KeepingUp(), KeepingUp()
    client = StuckClient(ours)
    behind = FallingBehind(client, flow)  # type: ignore[arg-type]
    behind.paused()
    other_server.count += 5
    behind.fell_behind()
    assert client._congested and not client._slow
    assert flow.congested
    behind.not_behind()
    assert not flow.congested

    behind.paused()
    ours.count += 1
    behind.fell_behind()
    assert client._slow and not client._congested
