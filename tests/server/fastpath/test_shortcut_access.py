"""The round trip's shortcut under access rules (``fastpath.shortcut``, ``routing.access``).

Under ``--acl`` a client's command may take the shortcut only where its state `may_write` it
(the question the router asks too): taken there, it must reach the driver exactly as it would
the general way; one it may not write must be left to the general path, which refuses it
(nothing to the driver, "permission denied" to the client). A driver's answer read meanwhile is
not a client's command and takes the shortcut as before. New rules (SIGHUP) hold for the
shortcut at once.
"""

from __future__ import annotations

from functools import partial

from serverkit import Recorder

from indipyserver.blobs.cutthrough import BlobForwarder
from indipyserver.clients.clientconnection import ClientConnection
from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.inbound import InboundProtocol
from indipyserver.fastpath.shortcut import Shortcut
from indipyserver.routing.access import AccessRules
from indipyserver.routing.access import ClientGuard
from indipyserver.routing.aclrules import parse_acl
from indipyserver.routing.router import Router

DEFS = (
    b'<defNumberVector device="D" name="N" state="Idle" perm="rw"><defNumber name="v" '
    b'format="%g" min="0" max="0" step="0">0</defNumber></defNumberVector>\n'
    b'<defNumberVector device="D" name="M" state="Idle" perm="rw"><defNumber name="v" '
    b'format="%g" min="0" max="0" step="0">0</defNumber></defNumberVector>\n'
)
NEW_N = b'<newNumberVector device="D" name="N"><oneNumber name="v">1</oneNumber></newNumberVector>\n'
NEW_M = NEW_N.replace(b'name="N"', b'name="M"')
SET_N = (b'<setNumberVector device="D" name="N" state="Ok"><oneNumber name="v">1</oneNumber>'
         b"</setNumberVector>\n")


class Driver(DriverConnection):
    """An executable driver's connection, fed directly (it takes writes through)."""

    async def run(self, router: Router) -> None:
        raise NotImplementedError


Rig = tuple[ClientConnection, Recorder, Recorder, InboundProtocol, list[bool], Router]


async def _rig(rules: str) -> Rig:
    """A client and an executable driver's connection on a router with `rules`, the shortcut
    given to both as the server gives it; `taken`: what the shortcut said of each read."""
    router = Router(guard=ClientGuard(AccessRules(parse_acl(rules))))
    shortcut = Shortcut(router.tables)
    shortcut.driver_added()
    driver = Driver("d")
    to_driver = Recorder()
    driver.attach_writer(to_driver)
    inbound = InboundProtocol(partial(router.driver_frames, driver), "d",
                              BlobForwarder(router, driver))
    inbound.shortcut_route = partial(shortcut.route_set, driver)
    inbound.connection_made(Recorder())
    router.driver_ready(driver)
    inbound.start()
    inbound.data_received(DEFS)
    taken: list[bool] = []

    def counted(*args):  # type: ignore[no-untyped-def]
        taken.append(shortcut.route_new(*args))
        return taken[-1]

    client = ClientConnection(router, set())
    client._shortcut_route = counted
    to_client = Recorder()
    client.connection_made(to_client)
    client.data_received(b'<getProperties version="1.7"/>\n')
    to_driver.writes.clear()
    to_client.writes.clear()
    taken.clear()  # the getProperties read: not a new vector
    return client, to_client, to_driver, inbound, taken, router


async def test_a_writable_command_takes_the_shortcut_and_an_unwritable_one_is_refused() -> None:
    """anonymous may set D.N and only read D.M: D.N goes through the shortcut to the driver;
    D.M is left to the general path, never reaches the driver, and the client is told."""
    client, to_client, to_driver, inbound, taken, _router = await _rig(
        "anonymous write D.N\nanonymous read D")
    client.data_received(NEW_N)
    assert taken == [True]
    assert b"".join(to_driver.writes) == NEW_N.rstrip(b"\n")
    client.data_received(NEW_M)
    assert taken == [True, False]
    assert b"".join(to_driver.writes) == NEW_N.rstrip(b"\n")  # nothing more
    told = b"".join(to_client.writes) + bytes(client._queue.take(1 << 20))
    assert b"permission denied: anonymous may not set D.M" in told
    inbound.data_received(SET_N)  # the driver's answer: the shortcut's, as before
    told = b"".join(to_client.writes) + bytes(client._queue.take(1 << 20))
    assert SET_N.rstrip(b"\n") in told


async def test_an_identity_that_may_only_read_never_reaches_the_driver() -> None:
    """Everything readable, nothing writable: no command is taken, none reaches the driver."""
    client, _to_client, to_driver, _inbound, taken, _router = await _rig("* read *")
    client.data_received(NEW_N)
    client.data_received(NEW_M)
    assert taken == [False, False]
    assert to_driver.writes == []


async def test_new_rules_hold_for_the_shortcut_at_once() -> None:
    """New rules (SIGHUP, `Router.set_access`) that move the write from D.N to D.M: the next
    D.N is left to the general path and refused, the next D.M takes the shortcut. (The
    shortcut asks the client's state, which follows the rules, not a copy of its own.)"""
    client, to_client, to_driver, _inbound, taken, router = await _rig(
        "anonymous write D.N\nanonymous read D")
    client.data_received(NEW_N)
    assert taken == [True]
    router.set_access(AccessRules(parse_acl("anonymous write D.M\nanonymous read D")))
    to_driver.writes.clear()
    client.data_received(NEW_N)
    assert taken == [True, False]
    assert to_driver.writes == []
    told = b"".join(to_client.writes) + bytes(client._queue.take(1 << 20))
    assert b"permission denied: anonymous may not set D.N" in told
    client.data_received(NEW_M)
    assert taken == [True, False, True]
    assert b"".join(to_driver.writes) == NEW_M.rstrip(b"\n")
