"""The pure part of ``indipy-getprop``: which events match which queries and what to print.

Kept apart from the command line (``getprop``) so the tool can connect and send its request
before this module loads the protocol core: the server answers while Python imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from indipycore.protocol import BLOB
from indipycore.protocol import DefBLOBVector
from indipycore.protocol import DefLightVector
from indipycore.protocol import EnableBLOB
from indipycore.protocol import Event
from indipycore.protocol import GetProperties
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import Vector
from indipycore.protocol.enums import BLOBEnable
from indipycore.protocol.vectorevents import DefNumberVector
from indipycore.protocol.vectorevents import DefSwitchVector
from indipycore.protocol.vectorevents import DefTextVector
from indipycore.protocol.vectorevents import SetLightVector
from indipycore.protocol.vectorevents import SetNumberVector
from indipycore.protocol.vectorevents import SetSwitchVector
from indipycore.protocol.vectorevents import SetTextVector

from .specs import GetSpec
from .wiretext import attribute_text
from .wiretext import member_text

__all__ = ["GetpropQuery", "Outcome"]

_DEFS = (DefTextVector, DefNumberVector, DefSwitchVector, DefLightVector, DefBLOBVector)
_SETS = (SetTextVector, SetNumberVector, SetSwitchVector, SetLightVector)


@dataclass
class Outcome:
    """What one event from the server asks the tool to do."""

    lines: list[str] = field(default_factory=list)
    blobs: list[tuple[str, str, BLOB]] = field(default_factory=list)  # (device, prop, member)
    send: list[Event] = field(default_factory=list)
    matched: list[tuple[GetSpec, Vector[Any], tuple[str, ...]]] = field(default_factory=list)
    restart_timer: bool = False
    notes: list[str] = field(default_factory=list)


class GetpropQuery:
    """The pure part of getprop: which events match which queries and what to print.

    Feed it every event from the server with :meth:`handle`; :attr:`finished` says when every
    query has been answered.
    """

    def __init__(
        self,
        specs: Sequence[GetSpec],
        *,
        just_value: bool = False,
        monitor: bool = False,
        write_only: bool = False,
    ) -> None:
        self.specs = list(specs)
        self.ok = [False] * len(self.specs)
        self.one_match = len(self.specs) == 1 and not self.specs[0].wildcard
        self.just_value = just_value and self.one_match
        self.monitor = monitor
        self.write_only = write_only
        self._blobs_enabled: set[tuple[str, str]] = set()
        # Queries naming their device and property exactly are found by dict lookup, the
        # others by trying each: a thousand exact queries cost no more per event than one.
        self._exact: dict[tuple[str, str], list[int]] = {}
        self._scanned: list[int] = []
        for index, spec in enumerate(self.specs):
            if "*" in spec.device or "*" in spec.prop:
                self._scanned.append(index)
            else:
                self._exact.setdefault((spec.device, spec.prop), []).append(index)
        self._unanswered = sum(1 for spec in self.specs if not spec.wildcard)
        self._any_wildcard = any(spec.wildcard for spec in self.specs)

    def get_properties(self) -> GetProperties:
        """The request to send: for one device when every query names the same device."""
        devices = {spec.device for spec in self.specs}
        if len(devices) == 1 and "*" not in self.specs[0].device:
            return GetProperties(version="1.7", device=devices.pop())
        return GetProperties(version="1.7")

    @property
    def finished(self) -> bool:
        """True once every query is answered: none has a wildcard and each matched (not -m)."""
        return not self.monitor and not self._any_wildcard and self._unanswered == 0

    def missing(self) -> list[GetSpec]:
        """The queries that matched nothing."""
        return [spec for spec, ok in zip(self.specs, self.ok, strict=True) if not ok]

    def handle(self, event: Event) -> Outcome:
        outcome = Outcome()
        is_def = isinstance(event, _DEFS)
        if not (is_def or isinstance(event, SetBLOBVector)
                or (self.monitor and isinstance(event, _SETS))):
            return outcome
        vector: Any = event  # a def or set vector: every one has device and name
        device, name = vector.device, vector.name
        candidates = self._exact.get((device, name), [])
        if self._scanned:
            candidates = sorted(
                [*candidates,
                 *(i for i in self._scanned if self.specs[i].matches_vector(device, name))])
        for index in candidates:
            spec = self.specs[index]
            perm = getattr(vector, "perm", None)
            if perm is not None and not self.write_only and "r" not in perm.value:
                outcome.notes.append(f"{device}.{name} is write-only")
                continue
            if isinstance(vector, DefBLOBVector):
                # As indi_getprop: ask for the BLOBs; their values (and keyword queries) are
                # answered from each setBLOBVector that arrives.
                if (device, name) not in self._blobs_enabled:
                    self._blobs_enabled.add((device, name))
                    outcome.send.append(
                        EnableBLOB(device=device, name=name, value=BLOBEnable.ALSO)
                    )
            else:
                self._elements(index, spec, vector, outcome)
            if self.one_match:
                return outcome
            if is_def:
                outcome.restart_timer = True
        return outcome

    def _answer(self, index: int) -> None:
        if not self.ok[index]:
            self.ok[index] = True
            if not self.specs[index].wildcard:
                self._unanswered -= 1

    def _elements(self, index: int, spec: GetSpec, vector: Any, outcome: Outcome) -> None:
        device, name = vector.device, vector.name
        keyword = spec.keyword
        if keyword is not None:
            self._answer(index)
            text = attribute_text(vector, keyword)
            outcome.lines.append(text if self.just_value else f"{device}.{name}.{spec.element}={text}")
            outcome.matched.append((spec, vector, ()))
            return
        names: list[str] = []
        for member in vector.members:
            if not spec.matches_element(member.name):
                continue
            self._answer(index)
            names.append(member.name)
            if isinstance(member, BLOB):
                outcome.blobs.append((device, name, member))
            elif self.just_value:
                outcome.lines.append(member_text(member))
            else:
                outcome.lines.append(f"{device}.{name}.{member.name}={member_text(member)}")
            if self.one_match:
                break
        if names:
            outcome.matched.append((spec, vector, tuple(names)))
