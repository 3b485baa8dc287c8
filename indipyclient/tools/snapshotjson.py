"""``indipy-getprop --json``: what matched, as JSON in the shape of indipyclient's snapshot.

The shape is indipyclient 0.9.4's ``Snap.dictdump()`` (``../shared/clients-notes.md``):
``{"indihost", "indiport", "connected", "messages", "devices": {name: {"devicename", "enable",
"messages", "vectors": {name: {"vectortype", "name", "devicename", "label", "enable",
"message", "message_timestamp", "group", "state", "timeout", "timestamp", ["rule"], "perm",
"members": {name: {"label", "value", ...}}}}}}}``; number members add ``format``, ``min``,
``max``, ``step``, ``floatvalue`` and ``formattedvalue``; BLOB members ``filename``,
``blobsize``, ``blobformat`` and a ``value`` of null. Only the vectors and members a query
matched are included.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from indipydriver.protocol import (
    BLOB,
    DefBLOBVector,
    DefLightVector,
    DefNumberVector,
    DefSwitchVector,
    DefTextVector,
    DelProperty,
    Event,
    Message,
    Number,
    SetBLOBVector,
    SetLightVector,
    SetNumberVector,
    SetSwitchVector,
    SetTextVector,
    Vector,
)
from indipydriver.protocol.numbers import format_number, parse_number

from .blobfiles import blob_filename
from .specs import GetSpec

__all__ = ["SnapshotBuilder"]

_TYPES = {
    DefTextVector: "TextVector",
    DefNumberVector: "NumberVector",
    DefSwitchVector: "SwitchVector",
    DefLightVector: "LightVector",
    DefBLOBVector: "BLOBVector",
}
_SETS = (SetTextVector, SetNumberVector, SetSwitchVector, SetLightVector, SetBLOBVector)


def _text(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _timeout(text: str | None) -> float:
    try:
        return float(text) if text is not None else 0.0
    except ValueError:
        return 0.0


def _number_fields(member: Number, fmt: str | None) -> dict[str, Any]:
    try:
        value: float | None = parse_number(member.value)
    except ValueError:
        value = None
    formatted = member.value
    if value is not None and fmt:
        try:
            formatted = format_number(value, fmt)
        except ValueError:
            pass
    return {"floatvalue": value, "formattedvalue": formatted}


class SnapshotBuilder:
    """Learns vectors from def/set/del events; dumps the selected ones."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._vectors: dict[tuple[str, str], dict[str, Any]] = {}
        self._messages: list[list[str | None]] = []
        self._device_messages: dict[str, list[list[str | None]]] = {}
        self._selected: dict[tuple[str, str], set[str] | None] = {}

    def learn(self, event: Event) -> None:
        if isinstance(event, Message):
            entry = [event.timestamp, event.message]
            if event.device is None:
                self._messages.append(entry)
            else:
                self._device_messages.setdefault(event.device, []).append(entry)
            return
        if isinstance(event, DelProperty):
            for key in list(self._vectors):
                if key[0] == event.device and event.name in (None, key[1]):
                    del self._vectors[key]
                    self._selected.pop(key, None)
            return
        kind = _TYPES.get(type(event))
        if kind is not None:
            self._define(event, kind)  # type: ignore[arg-type]
        elif isinstance(event, _SETS):
            self._update(event)

    def _define(self, vector: Vector[Any], kind: str) -> None:
        v: Any = vector
        entry: dict[str, Any] = {
            "vectortype": kind,
            "name": v.name,
            "devicename": v.device,
            "label": v.label if v.label is not None else v.name,
            "enable": True,
            "message": v.message or "",
            "message_timestamp": v.timestamp if v.message else None,
            "group": v.group or "",
            "state": _text(v.state),
            "timeout": _timeout(getattr(v, "timeout", None)),
            "timestamp": v.timestamp,
        }
        if isinstance(vector, DefSwitchVector):
            entry["rule"] = _text(vector.rule)
        entry["perm"] = _text(getattr(v, "perm", None)) or "ro"
        members: dict[str, dict[str, Any]] = {}
        for member in vector.members:
            fields: dict[str, Any] = {
                "label": member.label if member.label is not None else member.name,
                "value": None if isinstance(member, BLOB) else _text(member.value),
            }
            if isinstance(member, Number):
                fields.update(format=member.format, min=member.min, max=member.max,
                              step=member.step)
                fields.update(_number_fields(member, member.format))
            elif isinstance(member, BLOB):
                fields.update(filename=None, blobsize=0, blobformat="")
            members[member.name] = fields
        entry["members"] = members
        self._vectors[(v.device, v.name)] = entry

    def _update(self, vector: Vector[Any]) -> None:
        v: Any = vector
        entry = self._vectors.get((v.device, v.name))
        if entry is None:
            return
        if v.state is not None:
            entry["state"] = _text(v.state)
        if getattr(v, "timeout", None) is not None:
            entry["timeout"] = _timeout(v.timeout)
        if v.timestamp is not None:
            entry["timestamp"] = v.timestamp
        if v.message is not None:
            entry["message"] = v.message
            entry["message_timestamp"] = v.timestamp
        for member in vector.members:
            fields = entry["members"].get(member.name)
            if fields is None or isinstance(member, BLOB):
                continue
            fields["value"] = _text(member.value)
            if isinstance(member, Number):
                fields.update(_number_fields(member, fields.get("format")))

    def select(self, spec: GetSpec, vector: Vector[Any], names: tuple[str, ...]) -> None:
        """Include a vector (all its members for a keyword query, else ``names``)."""
        v: Any = vector
        key = (v.device, v.name)
        chosen = self._selected.setdefault(key, set())
        if not names or chosen is None:
            self._selected[key] = None
        else:
            chosen.update(names)

    def select_blob(self, device: str, prop: str, member: BLOB) -> None:
        """Include a BLOB member that arrived (and was saved) with its file name and size."""
        entry = self._vectors.get((device, prop))
        if entry is None or member.name not in entry["members"]:
            return
        entry["members"][member.name].update(
            filename=blob_filename(device, prop, member.name, member.format),
            blobsize=member.size, blobformat=member.format)
        chosen = self._selected.setdefault((device, prop), set())
        if chosen is not None:
            chosen.add(member.name)

    def dictdump(self) -> dict[str, Any]:
        devices: dict[str, Any] = {}
        for (device, name), chosen in self._selected.items():
            entry = self._vectors.get((device, name))
            if entry is None:
                continue
            dev = devices.setdefault(device, {
                "devicename": device, "enable": True,
                "messages": self._device_messages.get(device, []), "vectors": {}})
            vector = dict(entry)
            if chosen is not None:
                vector["members"] = {k: m for k, m in entry["members"].items() if k in chosen}
            dev["vectors"][name] = vector
        return {"indihost": self.host, "indiport": self.port, "connected": True,
                "messages": self._messages, "devices": devices}
