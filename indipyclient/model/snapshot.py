"""Snapshots: a copy of everything the client knows, as indipyclient 0.9.4's JSON shape.

``take_snapshot(model, ...)`` copies the model once into plain dicts and lists; ``Snap`` wraps
them as 0.9.4's snapshot did (a mapping device -> ``SnapDevice`` -> ``SnapVector`` -> member
value, with the vector attributes) and ``dictdump()``/``dumps()``/``dump()`` give::

    {"indihost", "indiport", "connected", "messages": [[isotime, text], ...],
     "devices": {name: {"devicename", "enable", "messages", "vectors": {name: {
        "vectortype", "name", "devicename", "label", "enable", "message", "message_timestamp",
        "group", "state", "timeout", "timestamp", "rule" (switches), "perm",
        "members": {name: {"label", "value"}}}}}}}

number members add "format", "min", "max", "step", "floatvalue", "formattedvalue"; BLOB members
have "filename", "blobsize", "blobformat" and "value" (always None: BLOB bodies are not kept).
Lights have ``"perm": "ro"`` and ``"timeout": None``, as in 0.9.4. ``inc_user_string`` adds
the ``user_string`` fields; ``inc_itemid`` adds ``itemid`` fields, which are None here (this
client does not number its items).

A vector's dict is built once per change of the vector and shared by the snapshots taken
until it changes again, so a snapshot costs little more than the vectors that changed since
the last one. They are never mutated: ``dictdump()`` returns a fresh copy each call.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from collections.abc import Mapping
from typing import IO
from typing import Any
from typing import Generic
from typing import Self
from typing import TypeVar
from typing import overload

from indipycore.byname import ByName

from .properties import BLOBMember
from .properties import NumberMember
from .properties import PropertyVector
from .tree import Model

__all__ = ["Snap", "SnapDevice", "SnapVector", "take_snapshot", "vector_dict"]

UserStrings = Mapping[tuple[str, str | None, str | None], str]


def _number_dict(member: NumberMember) -> dict[str, Any]:
    try:
        floatvalue: float | None = member.getfloatvalue()
        formatted = member.getformattedstring(floatvalue)  # type: ignore[arg-type]
    except ValueError:
        floatvalue, formatted = None, member.value
    return {"label": member.label, "format": member.format, "min": member.min,
            "max": member.max, "step": member.step, "value": member.value,
            "floatvalue": floatvalue, "formattedvalue": formatted}


def vector_dict(vector: PropertyVector) -> dict[str, Any]:
    """One vector in the snapshot shape (without user strings), the caller's own copy."""
    shared = _shared_vector_dict(vector)
    return {**shared, "members": {name: dict(m) for name, m in shared["members"].items()}}


def _shared_vector_dict(vector: PropertyVector) -> dict[str, Any]:
    """The vector's dict built once per change of the vector and kept on it
    (``PropertyVector.snap``), shared by snapshots: never mutated."""
    if vector.snap is None:
        vector.snap = _build_vector_dict(vector)
    return vector.snap


def _build_vector_dict(vector: PropertyVector) -> dict[str, Any]:
    vectortype = vector.vectortype
    if vectortype == "NumberVector":
        members = {n: _number_dict(m) for n, m in vector.members_.items()}
    elif vectortype == "BLOBVector":
        members = {}
        for n, m in vector.members_.items():
            blob: BLOBMember = m
            members[n] = {"label": blob.label, "filename": blob.filename,
                          "blobsize": blob.blobsize, "blobformat": blob.blobformat,
                          "value": None}
    else:
        members = {n: {"label": m.label, "value": str(m.value)}
                   for n, m in vector.members_.items()}
    light = vectortype == "LightVector"
    out = {
        "vectortype": vectortype,
        "name": vector.name,
        "devicename": vector.devicename,
        "label": vector.label,
        "enable": vector.enable,
        "message": vector.message,
        "message_timestamp": vector.message_timestamp.isoformat(sep="T"),
        "group": vector.group,
        "state": str(vector.state),
        "timeout": None if light else vector.timeout,
        "timestamp": vector.timestamp.isoformat(sep="T"),
    }
    if vector.rule:
        out["rule"] = str(vector.rule)
    out["perm"] = str(vector.perm)
    out["members"] = members
    return out


def take_snapshot(model: Model, indihost: str, indiport: int, connected: bool,
                  user_strings: UserStrings | None = None) -> Snap:
    """Copy ``model`` into a ``Snap``."""
    devices = {}
    for devicename, device in model.devices.items():
        devices[devicename] = {
            "devicename": devicename,
            "enable": device.enable,
            "messages": [[t.isoformat(sep="T"), text] for t, text in device.messages],
            "vectors": {name: _shared_vector_dict(v) for name, v in device.vectors.items()},
        }
    messages = [[t.isoformat(sep="T"), text] for t, text in model.messages]
    return Snap({"indihost": indihost, "indiport": indiport, "connected": connected,
                 "messages": messages, "devices": devices}, user_strings or {})


def _dumps(data: dict[str, Any], indent: int | str | None,
           separators: tuple[str, str] | None) -> str:
    return json.dumps(data, indent=indent, separators=separators)


class _SnapView:
    """A part of a snapshot (the whole, a device, a vector) over its part of the copied data,
    with the user strings the dumps may add; a mapping (`ByName`) of the parts below it, the
    entries of ``data[_below]``."""

    __slots__ = ("_by_name", "_data", "_strings")
    _below = ""  # "devices", "vectors" or "members"

    def __init__(self, data: dict[str, Any], strings: UserStrings) -> None:
        self._data = data
        self._strings = strings
        self._by_name: dict[str, Any] = data[self._below]

    def dictdump(self, inc_blob: bool = False, inc_user_string: bool = False,
                 inc_itemid: bool = False) -> dict[str, Any]:
        raise NotImplementedError

    def dumps(self, indent: int | str | None = None, separators: tuple[str, str] | None = None,
              inc_blob: bool = False, inc_user_string: bool = False,
              inc_itemid: bool = False) -> str:
        """The snapshot as a JSON string."""
        return _dumps(self.dictdump(inc_blob, inc_user_string, inc_itemid), indent, separators)

    def dump(self, fp: IO[str], indent: int | str | None = None,
             separators: tuple[str, str] | None = None, inc_blob: bool = False,
             inc_user_string: bool = False, inc_itemid: bool = False) -> None:
        """Write the snapshot as JSON to the text file ``fp``."""
        json.dump(self.dictdump(inc_blob, inc_user_string, inc_itemid), fp, indent=indent,
                  separators=separators)


T = TypeVar("T")


class _Field(Generic[T]):
    """A field of a snapshot's device or of the whole (``devicename``, ``indiport``...): read
    from its data under the attribute's own name, converted by `convert`."""

    def __init__(self, convert: Callable[[Any], T]) -> None:
        self.convert = convert
        self.key = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    @overload
    def __get__(self, view: None, owner: type) -> Self: ...
    @overload
    def __get__(self, view: _SnapView, owner: type) -> T: ...
    def __get__(self, view: _SnapView | None, owner: type) -> Self | T:
        if view is None:
            return self
        return self.convert(view._data[self.key])


def _extras(data: dict[str, Any], key: tuple[str, str | None, str | None],
            strings: UserStrings, inc_user_string: bool, inc_itemid: bool) -> None:
    if inc_user_string:
        data["user_string"] = strings.get(key, "")
    if inc_itemid:
        data["itemid"] = None


class SnapVector(_SnapView, ByName[Any]):
    """A vector in a snapshot: member name -> value, and the vector's fields as attributes
    (``state``, ``label``, ``perm``...); numbers also ``getfloatvalue``/``getformattedvalue``."""

    __slots__ = ()
    _below = "members"

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, membername: str) -> Any:
        return self._by_name[membername]["value"]

    def member(self, membername: str) -> dict[str, Any]:
        """The member's fields (a dict: label, value, and for numbers format, min...)."""
        return dict(self._data["members"][membername])

    def getfloatvalue(self, membername: str) -> float | None:
        value: float | None = self._data["members"][membername]["floatvalue"]
        return value

    def getformattedvalue(self, membername: str) -> str:
        return str(self._data["members"][membername]["formattedvalue"])

    def dictdump(self, inc_blob: bool = False, inc_user_string: bool = False,
                 inc_itemid: bool = False) -> dict[str, Any]:
        data = copy.deepcopy(self._data)
        if inc_user_string or inc_itemid:
            dev, vec = data["devicename"], data["name"]
            _extras(data, (dev, vec, None), self._strings, inc_user_string, inc_itemid)
            for name, member in data["members"].items():
                _extras(member, (dev, vec, name), self._strings, inc_user_string, inc_itemid)
        return data


class SnapDevice(_SnapView, ByName[SnapVector]):
    """A device in a snapshot: vector name -> ``SnapVector``; ``devicename``, ``enable``,
    ``messages``."""

    __slots__ = ()
    _below = "vectors"

    devicename = _Field(str)
    enable = _Field(bool)
    messages: _Field[list[list[str]]] = _Field(list)

    def __getitem__(self, vectorname: str) -> SnapVector:
        return SnapVector(self._by_name[vectorname], self._strings)

    def dictdump(self, inc_blob: bool = False, inc_user_string: bool = False,
                 inc_itemid: bool = False) -> dict[str, Any]:
        data = copy.deepcopy(self._data)
        if inc_user_string or inc_itemid:
            _extras(data, (self.devicename, None, None), self._strings, inc_user_string,
                    inc_itemid)
            data["vectors"] = {n: self[n].dictdump(inc_blob, inc_user_string, inc_itemid)
                               for n in self}
        return data


class Snap(_SnapView, ByName[SnapDevice]):
    """A snapshot of the client: device name -> ``SnapDevice``; ``indihost``, ``indiport``,
    ``connected``, ``messages``."""

    __slots__ = ()
    _below = "devices"

    indihost = _Field(str)
    indiport = _Field(int)
    connected = _Field(bool)
    messages: _Field[list[list[str]]] = _Field(list)

    def enabledlen(self) -> int:
        """The number of devices (0.9.4 name)."""
        return len(self._data["devices"])

    def get_vector_state(self, devicename: str, vectorname: str) -> str | None:
        vector = self._data["devices"].get(devicename, {}).get("vectors", {}).get(vectorname)
        return None if vector is None else str(vector["state"])

    def __getitem__(self, devicename: str) -> SnapDevice:
        return SnapDevice(self._by_name[devicename], self._strings)

    def dictdump(self, inc_blob: bool = False, inc_user_string: bool = False,
                 inc_itemid: bool = False) -> dict[str, Any]:
        if not (inc_user_string or inc_itemid):
            return copy.deepcopy(self._data)
        data = {k: copy.deepcopy(v) for k, v in self._data.items() if k != "devices"}
        data["devices"] = {n: self[n].dictdump(inc_blob, inc_user_string, inc_itemid)
                           for n in self}
        if inc_user_string:
            data["user_string"] = self._strings.get(("", None, None), "")
        if inc_itemid:
            data["itemid"] = None
        return data

    def dumps(self, indent: int | str | None = None, separators: tuple[str, str] | None = None,
              inc_blob: bool = False, inc_user_string: bool = False,
              inc_itemid: bool = False) -> str:
        """The snapshot as a JSON string (no copy is made for this)."""
        if inc_user_string or inc_itemid:
            return super().dumps(indent, separators, inc_blob, inc_user_string, inc_itemid)
        return _dumps(self._data, indent, separators)
