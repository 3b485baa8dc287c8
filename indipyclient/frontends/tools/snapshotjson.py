"""``indipy-getprop --json``: what matched, as indipyclient's snapshot JSON.

Every event from the server goes into the client library's model (``indipyclient.model.tree``), and
the output is the library's snapshot of it (``indipyclient.model.snapshot``, indipyclient 0.9.4's
``Snap.dictdump()`` shape) cut down to the vectors, and the members, that a query matched: a
keyword query (``_STATE``...) keeps the whole vector. A BLOB saved by getprop gets its file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indipyclient.model.snapshot import take_snapshot
from indipyclient.model.tree import Model
from indipycore.protocol import Event
from indipycore.protocol import Vector

from .specs import GetSpec

__all__ = ["MatchedSnapshot"]


class MatchedSnapshot:
    """The library's model of everything received, and which parts of it were asked for."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.model = Model()
        self._selected: dict[tuple[str, str], set[str] | None] = {}
        self._files: dict[tuple[str, str, str], str] = {}

    def learn(self, event: Event) -> None:
        self.model.apply(event)

    def select(self, spec: GetSpec, vector: Vector[Any], names: tuple[str, ...]) -> None:
        """Include a vector: all its members for a keyword query, else the ``names`` matched."""
        v: Any = vector
        key = (v.device, v.name)
        chosen = self._selected.setdefault(key, set())
        if not names:
            self._selected[key] = None
        elif chosen is not None:
            chosen.update(names)

    def select_blob(self, device: str, prop: str, member: str, path: Path | None) -> None:
        """Include a BLOB member that arrived, with the file getprop saved it in."""
        chosen = self._selected.setdefault((device, prop), set())
        if chosen is not None:
            chosen.add(member)
        if path is not None:
            self._files[(device, prop, member)] = str(path)

    def dictdump(self) -> dict[str, Any]:
        data = take_snapshot(self.model, self.host, self.port, True).dictdump()
        devices: dict[str, Any] = {}
        for devicename, device in data["devices"].items():
            vectors = {}
            for name, vector in device["vectors"].items():
                if (devicename, name) not in self._selected:
                    continue
                chosen = self._selected[(devicename, name)]
                if chosen is not None:
                    vector["members"] = {m: v for m, v in vector["members"].items() if m in chosen}
                for member, fields in vector["members"].items():
                    saved = self._files.get((devicename, name, member))
                    if saved is not None:
                        fields["filename"] = saved
                vectors[name] = vector
            if vectors:
                devices[devicename] = {**device, "vectors": vectors}
        data["devices"] = devices
        return data
