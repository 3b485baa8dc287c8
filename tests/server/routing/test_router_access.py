"""The access rules in the router (``routing.access``): one filter, in the clients' state, that
every way an element reaches a client asks -- driver sets and runs, definitions, cache replays,
deletions, messages, echoes of other clients' commands, BLOBs from their start tag -- and the
gate that keeps a client's command it may not write from its driver.

What a client may not read must never reach it by any path; what it may read must still reach
it (a filter that drops everything would pass the first half)."""

from __future__ import annotations

import logging

import pytest
from serverdoubles import RecordingClient
from serverdoubles import frames
from serverdoubles import ready
from test_router import DEF_X_B
from test_router import DEF_X_P
from test_router import DEF_X_Q
from test_router import DEF_Y_P
from test_router import NEW_X_P
from test_router import SET_X_B
from test_router import SET_X_P
from test_router import SET_X_Q
from test_router import SET_Y_P
from test_router import FakeDriver
from test_router import enable

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import FrameHead
from indipycore.protocol.framing import Framer
from indipyserver.routing.access import AccessRules
from indipyserver.routing.access import ClientGuard
from indipyserver.routing.access import GuardedClientState
from indipyserver.routing.aclrules import parse_acl
from indipyserver.routing.interests import ClientState
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.router import Router

RULES = """
operator write *
observer read *
public   read Y
narrow   read X.Q
"""
MSG_X = '<message device="X" timestamp="2026-01-01T00:00:00" message="X says hi"/>'
MSG_Y = MSG_X.replace('"X"', '"Y"').replace("X says", "Y says")


class Who(RecordingClient):
    """A client with an identity, recording the tags and (device, name) it is sent."""

    def __init__(self, identity: str) -> None:
        super().__init__(identity, identity=identity)

    def seen(self) -> list[tuple[str, str | None, str | None]]:
        out = []
        for data in self.got:
            (frame,) = Framer().feed(data)
            assert isinstance(frame, Frame)
            out.append((frame.tag, frame.attrs.get("device"), frame.attrs.get("name")))
        return out

    def devices(self) -> set[str | None]:
        return {device for tag, device, _ in self.seen() if tag != "pingReply"}


def guarded(rules: str = RULES) -> Router:
    return Router(guard=ClientGuard(AccessRules(parse_acl(rules))))


def join(router: Router, identity: str, hello: str = "<getProperties/>") -> Who:
    c = Who(identity)
    router.add_client(c)
    router.client_frames(c, frames(hello))
    return c


@pytest.fixture
def site() -> tuple[Router, FakeDriver, dict[str, Who]]:
    """X (P rw number, Q ro text, B BLOB) and Y (P) from one driver, and one client per role."""
    router = guarded()
    driver = FakeDriver("d")
    ready(router, driver)
    router.driver_frames(driver, frames(DEF_X_P + DEF_X_Q + DEF_X_B + DEF_Y_P))
    who = {name: join(router, name) for name in ("operator", "observer", "public", "narrow",
                                                 "stranger")}
    for c in who.values():
        c.got.clear()
    return router, driver, who


def test_sets_reach_only_those_who_may_read_them(site: tuple[Router, FakeDriver, dict[str, Who]]) -> None:
    """A driver's sets, alone and as a run, go to each client the rules let read them."""
    router, driver, who = site
    router.driver_frames(driver, frames(SET_X_P + SET_X_P + SET_X_Q + SET_Y_P))
    assert who["operator"].seen() == who["observer"].seen() == [
        ("setNumberVector", "X", "P"), ("setNumberVector", "X", "P"),
        ("setTextVector", "X", "Q"), ("setNumberVector", "Y", "P")]
    assert who["public"].seen() == [("setNumberVector", "Y", "P")]
    assert who["narrow"].seen() == [("setTextVector", "X", "Q")]
    assert who["stranger"].got == []


def test_get_properties_answers_only_what_may_be_read(site: tuple[Router, FakeDriver, dict[str, Who]]) -> None:
    """From the cache, for all devices and for one: nothing the client may not read."""
    router, _driver, _who = site
    late = join(router, "public")
    assert late.devices() == {"Y"}
    narrow = join(router, "narrow", '<getProperties device="X"/>')
    assert narrow.seen() == [("defTextVector", "X", "Q")]
    nobody = join(router, "stranger", '<getProperties device="X" name="P"/>')
    assert nobody.got == []


def test_blobs_only_to_readers_whatever_the_path(site: tuple[Router, FakeDriver, dict[str, Who]]) -> None:
    """A BLOB routed whole, and one routed from its start tag (cut-through), reach only the
    clients that may read the vector, though every client enabled BLOBs."""
    router, driver, who = site
    for c in who.values():
        router.client_frames(c, frames(enable("X", None, "Also")))
    router.driver_frames(driver, frames(SET_X_B))
    head = FrameHead("setBLOBVector", {"device": "X", "name": "B"}, b"")
    cut_through: list[ClientPort] | None = router.route_head(driver, head)
    assert cut_through is not None
    assert {c.label for c in cut_through} == {"operator", "observer"}
    for name in ("operator", "observer"):
        assert ("setBLOBVector", "X", "B") in who[name].seen()
    for name in ("public", "narrow", "stranger"):
        assert ("setBLOBVector", "X", "B") not in who[name].seen()


def test_device_messages_and_deletions_follow_the_device(
        site: tuple[Router, FakeDriver, dict[str, Who]]) -> None:
    """A message with a device reaches those who may read some vector of it; a device-less
    one everyone; a whole device deleted (its driver gone) those who could see it."""
    router, driver, who = site
    router.driver_frames(driver, frames(MSG_X + MSG_Y))
    router.send_message("to everyone")
    assert [d for t, d, _ in who["narrow"].seen()] == ["X", None]
    assert [d for t, d, _ in who["public"].seen()] == ["Y", None]
    assert [d for t, d, _ in who["stranger"].seen()] == [None]
    for c in who.values():
        c.got.clear()
    router.driver_lost(driver)
    assert who["observer"].seen() == [("delProperty", "X", None), ("delProperty", "Y", None)]
    assert who["narrow"].seen() == [("delProperty", "X", None)]
    assert who["stranger"].got == []


def test_a_command_it_may_not_write_never_reaches_the_driver(
        site: tuple[Router, FakeDriver, dict[str, Who]], caplog: pytest.LogCaptureFixture) -> None:
    """The observer's newNumberVector is refused: not sent to the driver, not echoed to the
    other clients, a "permission denied" message naming the device and vector to it, and a
    log line; the operator's goes on, echoed to those who may read it only."""
    router, driver, who = site
    driver.got.clear()
    with caplog.at_level(logging.WARNING, "indipyserver.access"):
        router.client_frames(who["observer"], frames(NEW_X_P))
    assert driver.got == []
    (told,) = who["observer"].got
    assert b"permission denied" in told and b"X.P" in told and b'device="X"' in told
    assert all(c.got == [] for name, c in who.items() if name != "observer")
    assert "permission denied: observer may not set X.P" in caplog.text
    router.client_frames(who["operator"], frames(NEW_X_P))
    assert driver.got == [NEW_X_P.encode()]
    assert who["observer"].seen()[-1] == ("newNumberVector", "X", "P")  # the echo
    assert who["public"].got == [] and who["narrow"].got == []
    # One that may not even see the device is told without tying the message to it.
    router.client_frames(who["stranger"], frames(NEW_X_P))
    assert b"permission denied" in who["stranger"].got[-1]
    assert b"device=" not in who["stranger"].got[-1]


def test_snooping_drivers_are_not_filtered(site: tuple[Router, FakeDriver, dict[str, Who]]) -> None:
    """The rules are for clients: a driver snooping X gets its sets whatever they say."""
    router, driver, _who = site
    snooper = FakeDriver("snooper")
    ready(router, snooper)
    router.driver_frames(snooper, frames('<getProperties device="X"/>'))
    snooper.got.clear()
    router.driver_frames(driver, frames(SET_X_P))
    assert snooper.got == [SET_X_P.encode()]


def test_new_rules_apply_at_once(site: tuple[Router, FakeDriver, dict[str, Who]]) -> None:
    """`set_access` (SIGHUP): clients already connected are told at once -- the observer,
    who may now read nothing, that each vector it saw is gone; the public its newly readable
    vectors' definitions from the cache -- and the next element follows the new rules."""
    router, driver, who = site
    router.set_access(AccessRules(parse_acl("public read *\noperator write *")))
    assert sorted(who["observer"].seen()) == [
        ("delProperty", "X", "B"), ("delProperty", "X", "P"), ("delProperty", "X", "Q"),
        ("delProperty", "Y", "P")]
    assert sorted(who["public"].seen()) == [
        ("defBLOBVector", "X", "B"), ("defNumberVector", "X", "P"), ("defTextVector", "X", "Q")]
    assert who["operator"].got == [] and who["stranger"].got == []
    for c in who.values():
        c.got.clear()
    router.driver_frames(driver, frames(SET_X_P))
    assert who["public"].seen() == [("setNumberVector", "X", "P")]
    assert who["observer"].got == []
    driver.got.clear()
    router.client_frames(who["public"], frames(NEW_X_P))
    assert driver.got == []


def test_everyone_may_read_everything_keeps_the_fast_flag() -> None:
    """A client whose rules grant every vector is `simple` (the delivery's quick test), one
    with fewer is not; without rules the router makes plain states (nothing asked)."""
    router = guarded("* read *\npublic read Y")
    assert join(router, "anyone").seen() == []
    states = list(router.tables.clients.values())
    assert all(isinstance(s, GuardedClientState) and s.simple for s in states)
    narrow = guarded("public read Y")
    join(narrow, "public")
    (state,) = narrow.tables.clients.values()
    assert not state.simple
    plain = Router()
    join(plain, "anyone")
    assert type(next(iter(plain.tables.clients.values()))) is ClientState


def test_the_audit_is_told_every_command_and_can_refuse(
        site: tuple[Router, FakeDriver, dict[str, Who]]) -> None:
    """The audit hears each command with whether it was allowed; when it cannot record one,
    the command is refused even where the rules allow it, and the client told why."""
    heard: list[tuple[str, str, bool]] = []
    room = [True]

    def audit(client: ClientPort, frame: Frame, allowed: bool) -> bool:
        heard.append((client.identity, frame.attrs["name"], allowed))
        return room[0]

    router, driver, who = site
    assert router.guard is not None
    router.guard.audit = audit
    driver.got.clear()
    router.client_frames(who["operator"], frames(NEW_X_P))
    router.client_frames(who["public"], frames(NEW_X_P))
    room[0] = False
    router.client_frames(who["operator"], frames(NEW_X_P))
    assert heard == [("operator", "P", True), ("public", "P", False), ("operator", "P", True)]
    assert driver.got == [NEW_X_P.encode()]
    assert b"audit trail" in who["operator"].got[-1]


def test_an_identity_the_rules_grant_nothing_is_said_once(
        caplog: pytest.LogCaptureFixture) -> None:
    """A client (often a chained server whose certificate's name the rules forgot) that the
    rules grant nothing is logged once, naming its identity, however often it reconnects;
    named identities are not; new rules may say it again (issue 70 item 6)."""
    guard = ClientGuard(AccessRules(parse_acl(RULES)))
    with caplog.at_level(logging.WARNING, logger="indipyserver.access"):
        for _ in range(3):
            guard.state_for(Who("site-main"))
        guard.state_for(Who("observer"))
    said = [r.getMessage() for r in caplog.records if "no rule grants" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("site-main: no rule grants it anything"), said
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="indipyserver.access"):
        guard.set_rules(AccessRules(parse_acl(RULES)), [])
        guard.state_for(Who("site-main"))
    assert ["no rule grants" in r.getMessage() for r in caplog.records] == [True]
