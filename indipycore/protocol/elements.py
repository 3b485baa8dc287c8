"""THE table of INDI 1.7 elements: one row per top-level tag drives both parser and serialiser.

Each row says which event class the tag becomes, which attributes it carries (wire name ==
dataclass field name, required or not, how the text converts), and, for vectors, the member tag
and member attributes. Sources: SPEC pp.5-9 (the DTD) and indi-notes 1.2 / 1.6 for the indilib
extras (`enclen` on oneBLOB, `min`/`max`/`step` on oneNumber).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from indipycore.protocol import events as ev

from .enums import BLOBEnable
from .enums import Perm
from .enums import Rule
from .enums import State
from .enums import SwitchState

__all__ = ["ELEMENTS", "SPEC_BY_CLASS", "Attr", "Body", "ElementSpec", "MemberSpec"]


class Body(Enum):
    """What the text content of an element (or member) means."""

    EMPTY = "empty"  # no content (defBLOB, message, getProperties, ...)
    TEXT = "text"  # a string, whitespace-stripped on input
    ENUM = "enum"  # an enumeration value (Switch, Light, enableBLOB)
    BASE64 = "base64"  # oneBLOB: base64 bytes, decoded into `data`


@dataclass(frozen=True, slots=True)
class Attr:
    """One XML attribute; its field in the event has the same name."""

    name: str
    required: bool = False
    convert: Callable[[str], Any] | None = None  # None: keep the (stripped) string
    # Free text shown to people (label, group, message): kept as sent, spaces and all, so
    # that what the server replays from its cache reads as what the driver sent.
    verbatim: bool = False


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """A member element (`defNumber`, `oneNumber`, ...) inside a vector."""

    tag: str
    cls: type
    attrs: tuple[Attr, ...]
    body: Body
    value_field: str  # "value" or "data"
    enum: type[Enum] | None = None


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """A top-level element and the event class it maps to."""

    tag: str
    cls: type
    attrs: tuple[Attr, ...]
    member: MemberSpec | None = None  # vectors only
    body: Body = Body.EMPTY  # non-vectors: enableBLOB's value
    enum: type[Enum] | None = None
    value_field: str | None = None


def _req(name: str, convert: Callable[[str], Any] | None = None) -> Attr:
    return Attr(name, True, convert)


def _opt(name: str, convert: Callable[[str], Any] | None = None) -> Attr:
    return Attr(name, False, convert)


def _free_text(name: str) -> Attr:
    return Attr(name, False, None, verbatim=True)


# --- attribute sets (SPEC DTD; R = required, O = optional)

_DEF_COMMON = (
    _req("device"),
    _req("name"),
    _free_text("label"),
    _free_text("group"),
    _req("state", State),
    _req("perm", Perm),
)
_DEF_TAIL = (_opt("timeout"), _opt("timestamp"), _free_text("message"))
_DEF_ATTRS = _DEF_COMMON + _DEF_TAIL
_DEF_SWITCH_ATTRS = _DEF_COMMON + (_req("rule", Rule),) + _DEF_TAIL
_DEF_LIGHT_ATTRS = (
    _req("device"),
    _req("name"),
    _free_text("label"),
    _free_text("group"),
    _req("state", State),
    _opt("timestamp"),
    _free_text("message"),
)
_SET_ATTRS = (
    _req("device"),
    _req("name"),
    _opt("state", State),
    _opt("timeout"),
    _opt("timestamp"),
    _free_text("message"),
)
_SET_LIGHT_ATTRS = (
    _req("device"),
    _req("name"),
    _opt("state", State),
    _opt("timestamp"),
    _free_text("message"),
)
_NEW_ATTRS = (_req("device"), _req("name"), _opt("timestamp"))

# --- members

_NAME_LABEL = (_req("name"), _free_text("label"))

DEF_TEXT = MemberSpec("defText", ev.Text, _NAME_LABEL, Body.TEXT, "value")
DEF_NUMBER = MemberSpec(
    "defNumber",
    ev.Number,
    _NAME_LABEL + (_req("format"), _req("min"), _req("max"), _req("step")),
    Body.TEXT,
    "value",
)
DEF_SWITCH = MemberSpec("defSwitch", ev.Switch, _NAME_LABEL, Body.ENUM, "value", SwitchState)
DEF_LIGHT = MemberSpec("defLight", ev.Light, _NAME_LABEL, Body.ENUM, "value", State)
DEF_BLOB = MemberSpec("defBLOB", ev.BLOB, _NAME_LABEL, Body.EMPTY, "data")

ONE_TEXT = MemberSpec("oneText", ev.Text, (_req("name"),), Body.TEXT, "value")
# min/max/step: indilib IUUpdateMinMax extension inside setNumberVector (indi-notes 1.6).
ONE_NUMBER = MemberSpec(
    "oneNumber",
    ev.Number,
    (_req("name"), _opt("min"), _opt("max"), _opt("step")),
    Body.TEXT,
    "value",
)
ONE_SWITCH = MemberSpec("oneSwitch", ev.Switch, (_req("name"),), Body.ENUM, "value", SwitchState)
ONE_LIGHT = MemberSpec("oneLight", ev.Light, (_req("name"),), Body.ENUM, "value", State)
# size and format are required since INDI 1.5; enclen is indilib's base64 length (optional).
ONE_BLOB = MemberSpec(
    "oneBLOB",
    ev.BLOB,
    (_req("name"), _req("size", int), _req("format"), _opt("enclen", int)),
    Body.BASE64,
    "data",
)

# --- the table

_ROWS = (
    ElementSpec("getProperties", ev.GetProperties, (_opt("version"), _opt("device"), _opt("name"))),
    ElementSpec("defTextVector", ev.DefTextVector, _DEF_ATTRS, DEF_TEXT),
    ElementSpec("defNumberVector", ev.DefNumberVector, _DEF_ATTRS, DEF_NUMBER),
    ElementSpec("defSwitchVector", ev.DefSwitchVector, _DEF_SWITCH_ATTRS, DEF_SWITCH),
    ElementSpec("defLightVector", ev.DefLightVector, _DEF_LIGHT_ATTRS, DEF_LIGHT),
    ElementSpec("defBLOBVector", ev.DefBLOBVector, _DEF_ATTRS, DEF_BLOB),
    ElementSpec("setTextVector", ev.SetTextVector, _SET_ATTRS, ONE_TEXT),
    ElementSpec("setNumberVector", ev.SetNumberVector, _SET_ATTRS, ONE_NUMBER),
    ElementSpec("setSwitchVector", ev.SetSwitchVector, _SET_ATTRS, ONE_SWITCH),
    ElementSpec("setLightVector", ev.SetLightVector, _SET_LIGHT_ATTRS, ONE_LIGHT),
    ElementSpec("setBLOBVector", ev.SetBLOBVector, _SET_ATTRS, ONE_BLOB),
    ElementSpec("newTextVector", ev.NewTextVector, _NEW_ATTRS, ONE_TEXT),
    ElementSpec("newNumberVector", ev.NewNumberVector, _NEW_ATTRS, ONE_NUMBER),
    ElementSpec("newSwitchVector", ev.NewSwitchVector, _NEW_ATTRS, ONE_SWITCH),
    ElementSpec("newBLOBVector", ev.NewBLOBVector, _NEW_ATTRS, ONE_BLOB),
    ElementSpec("message", ev.Message, (_opt("device"), _opt("timestamp"), _free_text("message"))),
    ElementSpec(
        "delProperty",
        ev.DelProperty,
        (_req("device"), _opt("name"), _opt("timestamp"), _free_text("message")),
    ),
    ElementSpec(
        "enableBLOB",
        ev.EnableBLOB,
        (_req("device"), _opt("name")),
        body=Body.ENUM,
        enum=BLOBEnable,
        value_field="value",
    ),
    # indilib extension (indi-notes 1.6): answered with the same uid.
    ElementSpec("pingRequest", ev.PingRequest, (_opt("uid"),)),
    ElementSpec("pingReply", ev.PingReply, (_opt("uid"),)),
)

ELEMENTS: dict[str, ElementSpec] = {row.tag: row for row in _ROWS}
"""Top-level tag -> its row."""

SPEC_BY_CLASS: dict[type, ElementSpec] = {row.cls: row for row in _ROWS}
"""Event class -> its row (what the serialiser looks up)."""
