"""A getProperties after a command is answered behind the command, not from a stale cache.

Protects: ``indi_setprop X.P.a=5`` then ``indi_eval -w 'X.P._STATE==1'`` must see what the
command did (indiserver passes getProperties to the driver behind the new*Vector in the same
pipe; the cache still holds the state from before the command). Once the driver has answered,
the cache answers again; memory stays bounded.
"""

from __future__ import annotations

import pytest
from serverdoubles import frames
from serverdoubles import ready
from test_router import DEF_X_P
from test_router import DEF_X_Q
from test_router import DEF_Y_P
from test_router import NEW_X_P
from test_router import SET_X_P
from test_router import FakeClient
from test_router import FakeDriver
from test_router import client

from indipyserver.routing.pendingcommands import MAX_FENCES
from indipyserver.routing.pendingcommands import PendingCommands
from indipyserver.routing.router import Router

DEF_X_P_BUSY = DEF_X_P.replace('state="Ok"', 'state="Busy"').replace(">1<", ">5<")
ASK_X = b'<getProperties device="X" version="1.7"/>\n'


@pytest.fixture
def served() -> tuple[Router, FakeDriver, FakeClient]:
    """Driver d owns X (P and Q cached) and Y; client `setter` has sent a command to X.P."""
    router = Router()
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P + DEF_X_Q + DEF_Y_P))  # type: ignore[arg-type]
    setter = client(router, "setter")
    router.client_frames(setter, frames(NEW_X_P))  # type: ignore[arg-type]
    assert d.got == [NEW_X_P.encode()]
    d.got.clear()
    return router, d, setter


def test_getproperties_for_a_commanded_device_goes_to_its_driver_behind_the_command(
    served: tuple[Router, FakeDriver, FakeClient],
) -> None:
    """The asker gets nothing from the cache (it would show the state before the command),
    the driver is asked, and its answer reaches the asker."""
    router, d, _setter = served
    asker = client(router, "asker", '<getProperties device="X"/>')
    assert asker.got == []
    assert d.got == [ASK_X]
    router.driver_frames(d, frames(DEF_X_P_BUSY))  # type: ignore[arg-type]
    assert asker.text() == DEF_X_P_BUSY


def test_the_cache_answers_again_once_the_driver_has_answered(
    served: tuple[Router, FakeDriver, FakeClient],
) -> None:
    router, d, _setter = served
    client(router, "first", '<getProperties device="X"/>')
    router.driver_frames(d, frames(DEF_X_P_BUSY + DEF_X_Q))  # type: ignore[arg-type]
    d.got.clear()
    later = client(router, "later", '<getProperties device="X" name="P"/>')
    assert later.text() == DEF_X_P_BUSY
    assert d.got == []
    assert len(router.tables.unread) == 0  # nothing kept for a device answered


def test_a_devicefree_getproperties_replays_other_devices_and_asks_for_the_commanded_one(
    served: tuple[Router, FakeDriver, FakeClient],
) -> None:
    """KStars connecting while a command is in flight: Y from the cache at once, X from the
    driver (no stale X first, then a second X)."""
    router, d, _setter = served
    gui = client(router, "gui")
    assert gui.text() == DEF_Y_P
    assert d.got == [ASK_X]
    router.driver_frames(d, frames(DEF_X_P_BUSY + DEF_X_Q))  # type: ignore[arg-type]
    assert gui.text() == DEF_Y_P + DEF_X_P_BUSY + DEF_X_Q


def test_a_device_not_commanded_is_still_answered_from_the_cache(
    served: tuple[Router, FakeDriver, FakeClient],
) -> None:
    router, d, _setter = served
    asker = client(router, "asker", '<getProperties device="Y"/>')
    assert asker.text() == DEF_Y_P
    assert d.got == []


def test_sets_do_not_count_as_the_answer(
    served: tuple[Router, FakeDriver, FakeClient],
) -> None:
    """A driver's answer to getProperties is definitions; a set it sent meanwhile (a periodic
    update, perhaps written before it read the command) leaves the device asked of it."""
    router, d, _setter = served
    client(router, "first", '<getProperties device="X"/>')
    router.driver_frames(d, frames(SET_X_P))  # type: ignore[arg-type]
    d.got.clear()
    client(router, "second", '<getProperties device="X"/>')
    assert d.got == [ASK_X]


def test_a_command_after_the_request_keeps_the_device_asked_of_its_driver(
    served: tuple[Router, FakeDriver, FakeClient],
) -> None:
    """new, getProperties, new: the answer to the request was written before the driver read
    the second command, so the cache is not trusted until a request after it is answered."""
    router, d, setter = served
    client(router, "first", '<getProperties device="X"/>')
    router.client_frames(setter, frames(NEW_X_P))  # type: ignore[arg-type]
    router.driver_frames(d, frames(DEF_X_P_BUSY))  # type: ignore[arg-type]
    d.got.clear()
    second = client(router, "second", '<getProperties device="X"/>')
    assert second.got == [] and d.got == [ASK_X]
    router.driver_frames(d, frames(DEF_X_P))  # type: ignore[arg-type]
    d.got.clear()
    third = client(router, "third", '<getProperties device="X"/>')
    assert third.text() == DEF_X_P + DEF_X_Q
    assert d.got == []


def test_a_snooping_drivers_command_counts_too() -> None:
    """A CCD driver commanding the mount it snoops (a slew before an exposure) is a command
    like a client's."""
    router = Router()
    mount, ccd = FakeDriver("mount"), FakeDriver("ccd")
    ready(router, mount, ccd)
    router.driver_frames(mount, frames(DEF_X_P))  # type: ignore[arg-type]
    router.driver_frames(ccd, frames(NEW_X_P))  # type: ignore[arg-type]
    assert mount.got == [NEW_X_P.encode()]
    mount.got.clear()
    client(router, "asker", '<getProperties device="X"/>')
    assert mount.got == [ASK_X]


def commanded() -> tuple[Router, FakeDriver]:
    """Driver d owns X (P defined) and a client has sent it a command."""
    router = Router()
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P))  # type: ignore[arg-type]
    setter = client(router, "setter")
    router.client_frames(setter, frames(NEW_X_P))  # type: ignore[arg-type]
    return router, d


def test_a_lost_driver_forgets_its_devices_commands() -> None:
    router, d = commanded()
    router.driver_lost(d)  # type: ignore[arg-type]
    assert len(router.tables.unread) == 0
    again = FakeDriver("again")
    ready(router, again)
    router.driver_frames(again, frames(DEF_X_P))  # type: ignore[arg-type]
    asker = client(router, "asker", '<getProperties device="X"/>')
    assert asker.text() == DEF_X_P  # the new session's cache, no request left over
    assert again.got == []


def test_a_deleted_device_forgets_its_commands() -> None:
    router, d = commanded()
    router.driver_frames(d, frames('<delProperty device="X"/>'))  # type: ignore[arg-type]
    assert len(router.tables.unread) == 0


def test_unanswered_requests_are_remembered_within_a_bound() -> None:
    """A driver that never answers (hung, or the property does not exist) is asked every
    time, as indiserver would, and its requests take at most MAX_FENCES slots; the newest
    slot stands for the rest, so the device is trusted only after a later answer."""
    pending = PendingCommands()
    pending.sent("X")
    for _ in range(MAX_FENCES * 4):
        pending.asked("X")
    pending.sent("X")
    pending.asked("X")
    entry = pending._devices["X"]
    assert len(entry.fences) == MAX_FENCES
    for _ in range(MAX_FENCES - 1):
        pending.defined("X")
        assert pending.unread("X")  # answers to requests made before the second command
    pending.defined("X")
    assert not pending.unread("X") and len(pending) == 0


def test_definitions_with_no_request_pending_change_nothing() -> None:
    pending = PendingCommands()
    pending.defined("X")
    pending.sent("X")
    pending.defined("X")  # not an answer: nothing was asked since the command
    assert pending.unread("X") and pending.behind() == {"X"}
