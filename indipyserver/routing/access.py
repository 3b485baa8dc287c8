"""Who may see and set what (``--acl``), as the router asks it. No I/O.

Without an ACL none of this is built: the router makes plain `ClientState`s and its paths are
those of a server without one. With one, each client's state is a `GuardedClientState`, whose
`interested` -- what every delivery asks (`ClientState.wants`, the shortcut's `shortcut_set`,
the cache's replays, cut-through's `route_head`) -- first asks the client's `Access`: what it may
not read never reaches it, whichever way it would have gone. Its ``simple`` flag (the
delivery's fast test) stays False unless a rule lets it read everything. Its `may_write` is
the one question about a client's new*Vector, asked by the router (through `ClientGuard`, which
refuses it and tells the audit trail) and by the round trip's shortcut (which leaves what it
may not write to the router); a plain `ClientState` answers True.

`Access` is one identity's view of the rules, shared by its clients and cached per (device,
vector): the hot path pays a dict lookup.

Messages: a ``message`` with a device (and a ``delProperty`` of a whole device) reaches a client
that may read some vector of that device; a device-less one reaches everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Sequence

from indipycore.logbudget import WarningBudget
from indipycore.logbudget import short
from indipycore.protocol.framing import Frame
from indipycore.protocol.refusals import cannot_record
from indipycore.protocol.refusals import permission_denied
from indipyserver.routing.aclrules import Rule
from indipyserver.routing.interests import ClientState
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.serverelements import message_frame

__all__ = ["Access", "AccessRules", "ClientGuard", "GuardedClientState"]

logger = logging.getLogger("indipyserver.access")

#: Answers kept per identity (device, vector pairs); past this the cache starts again, so a
#: client naming ever new vectors in its commands cannot grow it.
MAX_CACHED = 10_000
#: Identities whose views are kept.
MAX_IDENTITIES = 1_000


class Access:
    """What one identity may read and set, from the rules naming it."""

    __slots__ = ("_read", "_rules", "_write", "identity", "reads_all")

    def __init__(self, identity: str, rules: Sequence[Rule]) -> None:
        self.identity = identity
        self._rules = [r for r in rules if r.for_identity(identity)]
        self._read: dict[tuple[str, str | None], bool] = {}
        self._write: dict[tuple[str, str | None], bool] = {}
        #: A rule lets it read every vector of every device.
        self.reads_all = any(r.everything for r in self._rules)

    @property
    def grants_nothing(self) -> bool:
        """No rule names this identity: it may read and set nothing."""
        return not self._rules

    def reads(self, device: str, vector: str | None) -> bool:
        """May it read `device`.`vector` (`vector` None: some vector of `device`)?"""
        got = self._read.get((device, vector))
        return self._answer(self._read, device, vector, False) if got is None else got

    def writes(self, device: str, vector: str | None) -> bool:
        """May it set `device`.`vector`?"""
        got = self._write.get((device, vector))
        return self._answer(self._write, device, vector, True) if got is None else got

    def _answer(self, cache: dict[tuple[str, str | None], bool], device: str,
                vector: str | None, write: bool) -> bool:
        """Work out and keep in `cache` what a rule grants (with `write`, only write rules)."""
        if len(cache) >= MAX_CACHED:
            cache.clear()
        got = cache[(device, vector)] = any((r.write or not write) and r.covers(device, vector)
                                            for r in self._rules)
        return got


class AccessRules:
    """A parsed ACL file, and the `Access` of each identity it has been asked about."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._views: dict[str, Access] = {}

    def for_identity(self, identity: str) -> Access:
        view = self._views.get(identity)
        if view is None:
            if len(self._views) >= MAX_IDENTITIES:
                self._views.clear()
            view = self._views[identity] = Access(identity, self.rules)
        return view


class GuardedClientState(ClientState):
    """A client's state under an ACL: nothing it may not read is `interested` in, nothing it
    may not write passes `may_write`."""

    __slots__ = ("access",)

    writes_all = False  # its rules say, request by request

    def __init__(self, sink: ClientPort, access: Access) -> None:
        self.access = access
        super().__init__(sink)

    def _update(self) -> None:
        self.simple = self.all_devices and self.blobs.is_default and self.access.reads_all

    def interested(self, device: str, name: str | None) -> bool:
        if not self.access.reads(device, name):
            return False
        return ClientState.interested(self, device, name)

    def may_write(self, device: str | None, name: str | None) -> bool:
        return bool(device) and self.access.writes(device or "", name)

    def follow(self, access: Access) -> None:
        """Served by `access` from now on (new rules, SIGHUP)."""
        self.access = access
        self._update()


class ClientGuard:
    """The router's gate for what clients send under ``--acl`` and ``--audit``.

    `rules`: None without an ACL (every command is allowed). `audit`, when given, is told
    every new*Vector with the client and whether it was allowed, and returns False when it
    cannot record it (its queue is full): the command is then refused too, so that nothing
    is done that the trail does not show (``indipyserver.audit``)."""

    def __init__(
        self,
        rules: AccessRules | None,
        audit: Callable[[ClientPort, Frame, bool], bool] | None = None,
    ) -> None:
        self.rules = rules
        self.audit = audit
        self._warnings = WarningBudget()
        # Identities already said to be granted nothing (once each, until new rules).
        self._told_nothing: set[str] = set()

    def state_for(self, client: ClientPort) -> ClientState:
        """The router's state for a new client: guarded when there are rules."""
        if self.rules is None:
            return ClientState(client)
        access = self.rules.for_identity(client.identity)
        if access.grants_nothing:
            self._said_nothing(client)
        return GuardedClientState(client, access)

    def _said_nothing(self, client: ClientPort) -> None:
        """A client (often a chained server whose certificate's name the rules forgot) that
        will see nothing at all: said once for its identity, not on every reconnect."""
        identity = client.identity
        if identity in self._told_nothing:
            return
        if len(self._told_nothing) >= MAX_IDENTITIES:
            self._told_nothing.clear()
        self._told_nothing.add(identity)
        logger.warning("%s: no rule grants it anything (client %s, %s): it sees no device and "
                       "may set nothing", identity, client.label, client.peer)

    def set_rules(self, rules: AccessRules, states: Sequence[ClientState]) -> None:
        """New rules (SIGHUP): from now on each client is served by them (its view is
        brought up to date by `Router.set_access`)."""
        self.rules = rules
        self._told_nothing.clear()
        for state in states:
            if isinstance(state, GuardedClientState):
                state.follow(rules.for_identity(state.sink.identity))

    def allows_new(self, state: ClientState, frame: Frame, device: str | None,
                   name: str | None) -> bool:
        """Whether a client's new*Vector may go on to its driver. A refusal is told to the
        client (an INDI message in the one form clients recognise, `indipycore.protocol.refusals`:
        "permission denied" with the identity, the device and the vector) and logged."""
        client = state.sink
        allowed = state.may_write(device, name)
        if self.audit is not None and not self.audit(client, frame, allowed):
            self._refuse(state, device, cannot_record(device or "", name or ""), logging.ERROR)
            return False
        if not allowed:
            self._refuse(state, device, permission_denied(client.identity, device or "",
                                                          name or ""), logging.WARNING)
        return allowed

    def _refuse(self, state: ClientState, device: str | None, text: str, level: int) -> None:
        client = state.sink
        # Tied to the device when the client may see it, so that its own view shows it there.
        shown = device if device and state.interested(device, None) else None
        client.send_frame(message_frame(text, device=shown))
        if (note := self._warnings.take()) is not None:
            logger.log(level, "client %s (%s, %s): %s%s", client.label, client.identity,
                       client.peer, short(text), note)
