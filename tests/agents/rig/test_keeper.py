"""Issue 89 item 1: `keep`, the one decision of every agent on a needed device's CONNECTION:
connected when it is found disconnected at the agent's start, after its deletion (a driver
restarted) or after the link's loss (a server started again), never against a client who
disconnected it while it stayed defined and linked (said once)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indipyagents.rig.keeper import Act
from indipyagents.rig.keeper import Heard
from indipyagents.rig.keeper import Standing
from indipyagents.rig.keeper import keep


def run(heard: list[Heard]) -> list[Act]:
    standing, acts = Standing.FRESH, []
    for one in heard:
        standing, act = keep(standing, one)
        acts.append(act)
    return acts


@given(st.lists(st.sampled_from(list(Heard)), max_size=30))
def test_connected_only_when_fresh_and_respected_only_after_connected(
        heard: list[Heard]) -> None:
    """Against a model of the rule: CONNECT for a definition Off that is the first CONNECTION
    heard since the start, a deletion or a relink; RESPECT for an Off whose last CONNECTION
    heard since then said On, and for a set to Off heard first (a device defined before it was
    watched, turned off by a client); nothing else ever acts, so a user's DISCONNECT is never
    undone and a restarted driver is never left disconnected."""
    last: Heard | None = None  # the last On/Off since the last reset
    for one, act in zip(heard, run(heard), strict=True):
        if one in (Heard.DELETED, Heard.RELINKED):
            expected, last = Act.NOTHING, None
        elif one == Heard.ON:
            expected, last = Act.NOTHING, Heard.ON
        else:
            if last is None:
                expected = Act.CONNECT if one == Heard.OFF else Act.RESPECT
            else:
                expected = Act.RESPECT if last == Heard.ON else Act.NOTHING
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
