"""The round trip's shortcut under access rules (``--acl`` without ``--audit``).

A client's new vector takes the shortcut only when the rules let its identity write that
vector (`routing.access.Access.writes`, a dict lookup once cached); any other is left to the
general path, which refuses it and tells the client (``routing.access.ClientGuard``). With an
audit trail every command goes the general way (its values are recorded before it is passed
on), so a server with ``--audit`` gives its clients no shortcut at all. A server without rules
uses `Shortcut` itself: nothing here runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indipyserver.fastpath.shortcut import _NEW
from indipyserver.fastpath.shortcut import Shortcut
from indipyserver.routing.access import GuardedClientState
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.tables import RoutingTables

if TYPE_CHECKING:
    from indipyserver.loop.flowcontrol import LoopFlow

__all__ = ["GuardedShortcut"]

#: What `ReadClassifier.alone` finds: tag, device, name, other attributes, element, plain.
_Found = tuple[str, str, str, bytes, bytes, bool]


class GuardedShortcut(Shortcut):
    """`Shortcut` whose clients' new vectors are those their identity may write."""

    def __init__(self, tables: RoutingTables) -> None:
        super().__init__(tables)
        self._classify = self._alone
        self._alone = self._allowed
        self._client: ClientPort | None = None

    def route_new(self, client: ClientPort, data: bytes, flow: LoopFlow) -> bool:
        self._client = client  # for `_allowed`, called back from within
        try:
            return super().route_new(client, data, flow)
        finally:
            self._client = None

    def _allowed(self, data: bytes, kind: str) -> _Found | None:
        """What the read holds (`ReadClassifier.alone`), or None (the general path) for a
        client's vector its identity may not write. (A driver's answer read meanwhile,
        ``read_now``, is a set: not checked.)"""
        found = self._classify(data, kind)
        if found is None or kind != _NEW or self._client is None:
            return found
        state = self._tables.clients.get(self._client)
        if isinstance(state, GuardedClientState) and not state.access.writes(found[1], found[2]):
            return None
        return found
