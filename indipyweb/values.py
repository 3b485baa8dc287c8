"""Checking what a browser or an API caller wants to send, before anything is sent.

Everything arrives as text (a form) or JSON; `check_members` turns it into the values a
`DeviceSource.set` takes (numbers as floats, switches "On"/"Off", texts, `BlobUpload`) or raises
`InvalidValue` naming the member and the reason. Numbers accept everything INDI does (integers,
reals, sexagesimal "12:30:15" / "-5 30") and must lie within min/max when min < max (INDI 1.7:
min == max means no range). Switch rules are checked on the state the vector would have.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import PurePath

from indipydriver.protocol.blobs import is_zlib_format
from indipydriver.protocol.numbers import parse_number

from .source import BlobUpload, InvalidValue, VectorDict

__all__ = ["MAX_TEXT", "check_members", "form_members"]

MAX_TEXT = 64 * 1024
MEMBER_PREFIX = "m."  # form fields named m.<member>, so a member cannot shadow csrf_token


def _number(vec: VectorDict, name: str, raw: object) -> float:
    where = f"{vec['devicename']}.{vec['name']}.{name}"
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise InvalidValue(f"{where}: a number is needed")
    if isinstance(raw, str):
        try:
            value = parse_number(raw)
        except ValueError:
            raise InvalidValue(f"{where}: {raw[:40]!r} is not a number") from None
    else:
        value = float(raw)
    if not math.isfinite(value):
        raise InvalidValue(f"{where}: {raw!r} is not a finite number")
    member = vec["members"][name]
    try:
        low, high = parse_number(member.get("min", "0")), parse_number(member.get("max", "0"))
    except ValueError:
        return value
    if low < high and not low <= value <= high:
        raise InvalidValue(f"{where}: {value:g} is outside {low:g} .. {high:g}")
    return value


def check_members(vec: VectorDict, raw: Mapping[str, object]) -> dict[str, object]:
    """The values to send to `vec`, checked; InvalidValue when any is wrong (nothing sent)."""
    where = f"{vec['devicename']}.{vec['name']}"
    kind = vec["vectortype"]
    if vec.get("perm") == "ro" or kind == "LightVector":
        raise InvalidValue(f"{where} is read-only")
    if not raw:
        raise InvalidValue(f"{where}: no value given")
    for name in raw:
        if name not in vec["members"]:
            raise InvalidValue(f"{where} has no member {name[:60]!r}")
    out: dict[str, object] = {}
    if kind == "NumberVector":
        for name, value in raw.items():
            out[name] = _number(vec, name, value)
    elif kind == "TextVector":
        for name, value in raw.items():
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise InvalidValue(f"{where}.{name}: text of at most {MAX_TEXT} characters")
            out[name] = value
    elif kind == "SwitchVector":
        for name, value in raw.items():
            if value not in ("On", "Off"):
                raise InvalidValue(f"{where}.{name}: On or Off, not {str(value)[:20]!r}")
            out[name] = value
        _check_rule(vec, out)
    elif kind == "BLOBVector":
        for name, value in raw.items():
            if not isinstance(value, BlobUpload):
                raise InvalidValue(f"{where}.{name}: a file is needed")
            out[name] = value
    else:
        raise InvalidValue(f"{where} is a {kind}: it cannot be set")
    return out


def _check_rule(vec: VectorDict, new: Mapping[str, object]) -> None:
    rule = vec.get("rule")
    after = {name: new.get(name, m["value"]) for name, m in vec["members"].items()}
    on = [name for name, value in after.items() if value == "On"]
    where = f"{vec['devicename']}.{vec['name']}"
    if rule == "OneOfMany":
        asked_on = [name for name, value in new.items() if value == "On"]
        if len(asked_on) > 1:
            raise InvalidValue(f"{where} is OneOfMany: only one switch may be On")
        if not asked_on:
            raise InvalidValue(f"{where} is OneOfMany: name the switch to turn On")
    elif rule == "AtMostOne" and len(on) > 1:
        asked_on = [name for name, value in new.items() if value == "On"]
        if len(asked_on) > 1 or not asked_on:
            raise InvalidValue(f"{where} is AtMostOne: at most one switch may be On")


def form_members(vec: VectorDict, form: Mapping[str, object],
                 uploads: Mapping[str, tuple[str, bytes]] | None = None,
                 compress: bool = False) -> dict[str, object]:
    """The raw values a device page's form for `vec` carries (fields ``m.<member>``; empty
    number and text fields mean "unchanged"; switches: a radio ``switch`` for OneOfMany,
    checkboxes otherwise, where unchecked means Off). `uploads` maps member -> (file name,
    bytes); the INDI format is the file's suffix, with ``.z`` added when compression is asked."""
    kind = vec["vectortype"]
    raw: dict[str, object] = {}
    if kind == "SwitchVector":
        if vec.get("rule") == "OneOfMany":
            chosen = form.get("switch")
            if isinstance(chosen, str) and chosen:
                raw[chosen] = "On"
        else:
            for name in vec["members"]:
                raw[name] = "On" if form.get(MEMBER_PREFIX + name) == "On" else "Off"
        return raw
    if kind == "BLOBVector":
        for name, (filename, data) in (uploads or {}).items():
            fmt = "".join(PurePath(filename).suffixes[-1:]).lower() or ".bin"
            if compress and not is_zlib_format(fmt):
                fmt += ".z"  # the source compresses it on the way out
            raw[name] = BlobUpload(data, fmt)
        return raw
    for key, value in form.items():
        if key.startswith(MEMBER_PREFIX) and isinstance(value, str):
            if kind == "NumberVector" and not value.strip():
                continue
            raw[key[len(MEMBER_PREFIX):]] = value
    return raw
