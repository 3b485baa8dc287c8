"""indilib's saved configuration file, read and written (pure: bytes in, bytes out).

indilib's drivers keep a device's settings in ``~/.indi/<device>_config.xml``: a root element
(``INDIDriver``) holding one ``newNumberVector``, ``newSwitchVector`` or ``newTextVector`` per
saved property, each member's value as the element's text (surrounded by whitespace). This
module writes that format for a device's chosen vectors and reads it back, checking every
entry against the device's vectors: a file that is not XML raises `ConfigError`; an entry for
a property the device does not have, of another type, or with a member it lacks or a number
it cannot take (a file written by another version, or edited) is left out and named in the
problems, and everything else in the file is kept. Applying what was read, and when, is the
device's business (``docs/standard.rst``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from indipycore.protocol.elements import SPEC_BY_CLASS
from indipycore.protocol.escaping import escape_entities
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import NewSwitchVector
from indipycore.protocol.events import NewTextVector
from indipycore.protocol.serialiser import COMPACT
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import end_tag
from indipycore.protocol.serialiser import start_tag

from ..members import NumberMember
from ..members import getfloat
from ..vectors import PropertyVector

__all__ = ["SAVED_KINDS", "ConfigEntry", "ConfigError", "ConfigRead", "config_path",
           "read_config", "write_config"]

#: The kinds of vector a config file holds (a light is read-only, a BLOB too big).
SAVED_KINDS = ("Number", "Switch", "Text")

#: Each saved kind's (vector tag, member tag), from the protocol's table.
_TAGS = {kind: (spec.tag, spec.member.tag)
         for kind, spec in (("Number", SPEC_BY_CLASS[NewNumberVector]),
                            ("Switch", SPEC_BY_CLASS[NewSwitchVector]),
                            ("Text", SPEC_BY_CLASS[NewTextVector]))
         if spec.member is not None}
#: The root element of indilib's config file (one element per line, members indented by 2,
#: values by 6, as indilib lays it out).
_ROOT = "INDIDriver"


class ConfigError(ValueError):
    """The file is not a config file at all (not XML, or not one root element)."""


@dataclass(frozen=True)
class ConfigEntry:
    """One saved property: its kind ("Number", "Switch", "Text"), name and member values
    (text, as in the file)."""

    kind: str
    name: str
    values: dict[str, str]


@dataclass
class ConfigRead:
    """What a file held that the device can take, and why the rest was left out."""

    entries: list[ConfigEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def config_path(devicename: str, home: Path | None = None) -> Path:
    """``~/.indi/<device>_config.xml``, where indilib's drivers keep a device's settings."""
    return (home if home is not None else Path.home()) / ".indi" / f"{devicename}_config.xml"


def _number_text(value: object) -> str:
    try:
        return f"{getfloat(value):.15g}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)


def write_config(devicename: str, vectors: Iterable[PropertyVector]) -> bytes:
    """The config file holding `vectors`' current values, laid out as indilib writes it (but
    with the serialiser's double-quoted attributes, which indilib reads as well). Vectors of a
    kind a config cannot hold (lights, BLOBs) are skipped, and a vector's `unsaved` members."""
    lines = [start_tag(_ROOT, "", COMPACT)]
    for vector in vectors:
        if vector.kind not in SAVED_KINDS:
            continue
        vtag, mtag = _TAGS[vector.kind]
        lines.append(start_tag(vtag, attribute("device", escape_entities(devicename))
                               + attribute("name", escape_entities(vector.name)), COMPACT))
        for member in vector:
            if member in vector.unsaved:
                continue
            value = vector[member]
            text = _number_text(value) if vector.kind == "Number" else str(value)
            lines.append("  " + start_tag(mtag, attribute("name", escape_entities(member)),
                                          COMPACT))
            lines.append("      " + escape_entities(text))
            lines.append("  " + end_tag(mtag, COMPACT))
        lines.append(end_tag(vtag, COMPACT))
    lines.append(end_tag(_ROOT, COMPACT))
    return ("\n".join(lines) + "\n").encode()


def read_config(data: bytes, devicename: str,
                vectors: Mapping[str, PropertyVector]) -> ConfigRead:
    """The entries of a config file that `vectors` (the device's, by name) can take.

    Raises `ConfigError` when `data` is not XML. An entry for another device, a property the
    device lacks, of another kind, or naming a member it lacks, or a number that is not one or
    is outside the member's limits, is left out and described in `problems`; so is any element
    that is not a ``new*Vector``.
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ConfigError(f"not a config file ({exc})") from None
    read = ConfigRead()
    for element in root:
        tag = element.tag
        kind = tag[3:-6] if tag.startswith("new") and tag.endswith("Vector") else ""
        name = element.get("name", "")
        if kind not in SAVED_KINDS:
            read.problems.append(f"<{tag}> is not a saved property: skipped")
            continue
        device = element.get("device")
        if device is not None and device != devicename:
            read.problems.append(f"{name}: saved for device {device!r}, not {devicename!r}: "
                                 "skipped")
            continue
        vector = vectors.get(name)
        if vector is None:
            read.problems.append(f"{name}: the device has no such property: skipped")
            continue
        if vector.kind != kind:
            read.problems.append(f"{name}: saved as {kind}, the device's is {vector.kind}: "
                                 "skipped")
            continue
        values: dict[str, str] = {}
        why = ""
        for one in element:
            member = one.get("name", "")
            text = (one.text or "").strip()
            if one.tag != f"one{kind}" or member not in vector:
                why = f"member {member or one.tag!r} is not one of {', '.join(vector)}"
                break
            if kind == "Number":
                why = _number_problem(vector, member, text)
                if why:
                    break
            elif kind == "Switch" and text not in ("On", "Off"):
                why = f"switch {member} is {text!r}, not On or Off"
                break
            values[member] = text
        if why or not values:
            read.problems.append(f"{name}: {why or 'no members'}: skipped")
            continue
        read.entries.append(ConfigEntry(kind, name, values))
    return read


def _number_problem(vector: PropertyVector, member: str, text: str) -> str:
    try:
        value = getfloat(text)
    except (TypeError, ValueError):
        return f"number {member} is {text!r}, not a number"
    number = vector.data[member]
    if isinstance(number, NumberMember) and not number.in_limits(value):
        return f"number {member} = {text} is outside its limits"
    return ""
