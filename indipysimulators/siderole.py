"""`SideRole`: what the simulators' own roles beside a standard one do alike, written once.

The camera's SCOPE_INFO (`ccd.ScopeInfoRole`), the focuser's star size (`focus.StarSizeRole`),
the mount's pointing error (`telescope.PointingErrorRole`) and tracking drift
(`mountdrift.DriftRole`) are each a `Role` of a few number vectors: a general interface, the
device kept when attached (they send only while it is connected), nothing to start or stop
unless they say so, and a request of any kind but numbers refused before `new_numbers` sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from indipycore.interface import Interface
from indipydriver.propertyvector import PropertyVector
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.rxevents import newNumberVector
from indipydriver.standard.role import RoleDevice
from indipydriver.standard.vectortables import BuiltVectors

__all__ = ["SideRole"]


class SideRole:
    """The `Role`'s common part of a simulator's side role: its vectors are all those it
    built (`made`, in the table's order); a role adds its `new_numbers`."""

    interface = Interface.GENERAL

    def __init__(self, made: BuiltVectors) -> None:
        self.device: RoleDevice | None = None
        self._vectors = tuple(made.values())

    def vectors(self) -> Sequence[PropertyVector]:
        return self._vectors

    def attach(self, device: RoleDevice) -> None:
        self.device = device

    async def connected(self) -> None:
        return None

    async def disconnected(self) -> None:
        return None

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        if not isinstance(event, newNumberVector):
            raise TypeError(f"{event.vectorname} takes numbers")
        await self.new_numbers(event)

    async def new_numbers(self, event: newNumberVector) -> None:
        """A client's checked request on one of the role's number vectors."""
        raise NotImplementedError
