"""Issue 89 item 1: `keep`, the one decision of every agent on a needed device's CONNECTION:
connected when it is found disconnected at the agent's start, after its deletion (a driver
restarted) or after the link's loss (a server started again), never against a client who
disconnected it while it stayed defined and linked (said once); a refused CONNECT (CONNECTION
Alert) tried again after a pause, said once and said when it connects at last."""

from __future__ import annotations

import asyncio
import logging
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.rig.keeper import Act
from indipyagents.rig.keeper import Heard
from indipyagents.rig.keeper import Keeper
from indipyagents.rig.keeper import Standing
from indipyagents.rig.keeper import keep
from indipydriver import Device
from indipydriver import IPyDriver


def run(heard: list[Heard]) -> list[Act]:
    standing, acts = Standing.FRESH, []
    for one in heard:
        standing, act = keep(standing, one)
        acts.append(act)
    return acts


@given(st.lists(st.sampled_from(list(Heard)), max_size=40))
def test_connected_only_when_fresh_and_respected_only_after_connected(
        heard: list[Heard]) -> None:
    """Against a model of the rule: CONNECT for a definition Off that is the first CONNECTION
    heard since the start, a deletion or a relink, and when the pause after a refusal is due;
    RESPECT for an Off whose last CONNECTION heard since then said On, for a set to Off heard
    first (a device defined before it was watched, turned off by a client) and for a set to
    Off of a refused device; a refusal (Alert) is said once until the device is On, and never
    undoes a client's DISCONNECT; nothing else ever acts."""
    last: Heard | None = None  # the last On/Off/refusal since the last reset
    left = refused = retrying = False
    for one, act in zip(heard, run(heard), strict=True):
        if one in (Heard.DELETED, Heard.RELINKED):
            expected, last, left, refused, retrying = Act.NOTHING, None, False, False, False
        elif one == Heard.ON:
            expected = Act.SAY_CONNECTED if refused else Act.NOTHING
            last, left, refused, retrying = Heard.ON, False, False, False
        elif one == Heard.REFUSED:
            expected = Act.NOTHING if left else Act.WAIT if refused else Act.SAY_REFUSED
            refused, retrying = not left, False
        elif one == Heard.DUE:
            expected = Act.CONNECT if refused and not retrying else Act.NOTHING
            retrying = retrying or refused
        elif refused:
            expected = Act.RESPECT if one == Heard.TURNED_OFF and not retrying else Act.NOTHING
            if expected == Act.RESPECT:
                left, refused, last = True, False, Heard.OFF
        else:
            if last is None:
                expected = Act.CONNECT if one == Heard.OFF else Act.RESPECT
            else:
                expected = Act.RESPECT if last == Heard.ON and not left else Act.NOTHING
            left = left or expected == Act.RESPECT
            last = Heard.OFF
        assert act == expected, (heard, act)


def test_the_stories() -> None:
    """The power cut (defined Off at start: connected), a driver restarted (deleted, defined
    Off: connected again), a client's DISCONNECT (said once, left), the server restarted
    while a user had the device disconnected (connected: the server's restart is no wish)."""
    assert run([Heard.OFF, Heard.ON]) == [Act.CONNECT, Act.NOTHING]
    assert run([Heard.ON, Heard.DELETED, Heard.OFF]) == [Act.NOTHING, Act.NOTHING, Act.CONNECT]
    assert run([Heard.ON, Heard.OFF, Heard.OFF]) == [Act.NOTHING, Act.RESPECT, Act.NOTHING]
    assert run([Heard.ON, Heard.OFF, Heard.RELINKED, Heard.OFF])[-1] == Act.CONNECT
    # Our own CONNECT refused (the driver answers Off again): not tried in a loop.
    assert run([Heard.OFF, Heard.TURNED_OFF, Heard.OFF]) == [Act.CONNECT, Act.NOTHING,
                                                             Act.NOTHING]
    # A device named since, already defined, turned off by a client: left so.
    assert run([Heard.TURNED_OFF]) == [Act.RESPECT]
    assert run([Heard.ON, Heard.TURNED_OFF]) == [Act.NOTHING, Act.RESPECT]
    # A refusal: said once, tried after the pause, said when connected at last.
    assert run([Heard.OFF, Heard.REFUSED, Heard.DUE, Heard.REFUSED, Heard.DUE, Heard.ON]) == [
        Act.CONNECT, Act.SAY_REFUSED, Act.CONNECT, Act.WAIT, Act.CONNECT, Act.SAY_CONNECTED]
    # A driver that lost its hardware (Alert while connected): no one's choice.
    assert run([Heard.ON, Heard.REFUSED, Heard.DUE]) == [Act.NOTHING, Act.SAY_REFUSED,
                                                        Act.CONNECT]
    # A client's DISCONNECT stands through an Alert; a client disconnecting a refused one too.
    assert run([Heard.ON, Heard.TURNED_OFF, Heard.REFUSED, Heard.DUE]) == [
        Act.NOTHING, Act.RESPECT, Act.NOTHING, Act.NOTHING]
    assert run([Heard.ON, Heard.REFUSED, Heard.TURNED_OFF, Heard.DUE]) == [
        Act.NOTHING, Act.SAY_REFUSED, Act.RESPECT, Act.NOTHING]


DEVICE = "Balky"
#: The keeper's pause between tries, short for the test.
PAUSE = 0.5


async def test_a_refused_connect_is_tried_again_and_said_once(
        caplog: pytest.LogCaptureFixture) -> None:
    """A device under our server that refuses its first two CONNECTs (its connect hook
    raises, CONNECTION goes Alert): the keeper tries again after each pause (not at every
    message), says the refusal once and says it connected at last; it ends connected."""
    tries: list[float] = []

    async def connect() -> None:
        tries.append(asyncio.get_running_loop().time())
        if len(tries) <= 2:
            raise RuntimeError("the hardware is not answering (a test)")

    log = logging.getLogger("test.keeper")
    async with running(server(IPyDriver(Device(DEVICE, connect=connect)))) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        keeper = Keeper(lambda: [DEVICE], lambda: log, pause=PAUSE)
        stream = client.events()

        async def feed() -> None:
            keeper.attach(client)
            async for event in stream:
                keeper.event(event)

        with caplog.at_level(logging.INFO, logger="test.keeper"):
            task = asyncio.create_task(feed())
            try:
                await until(lambda: keeper.standings.get(DEVICE) == Standing.CONNECTED
                            and client.get(DEVICE, "CONNECTION", "CONNECT") == "On", 20,
                            lambda: f"connected at last: {tries}, {caplog.messages}")
                await asyncio.sleep(2 * PAUSE)  # no try more once connected
            finally:
                task.cancel()
                stream.close()
                await asyncio.gather(task, return_exceptions=True)
                await keeper.close()
    assert len(tries) == 3, tries
    assert all(later - earlier >= PAUSE for earlier, later in pairwise(tries)), tries
    said = [text for text in caplog.messages if "refused to connect" in text]
    assert len(said) == 1, caplog.messages
    assert f"{DEVICE} connected at last" in caplog.messages, caplog.messages
