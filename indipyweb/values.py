"""What a browser or an API caller wants to send, read and checked before anything is sent.

Everything arrives as text (a form) or JSON. `form_members` reads a device page's form (the
web face's own presentation: fields ``m.<member>``, a clicked button for OneOfMany and AtMostOne, blank fields meaning
"unchanged"); `check_members` asks the rule every face shares (`protocol.acceptance.judge`,
docs/acceptance.rst) and turns a refusal into `InvalidValue` carrying its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath

from indipycore.protocol.acceptance import MemberShape
from indipycore.protocol.acceptance import VectorShape
from indipycore.protocol.acceptance import judge
from indipycore.protocol.blobs import is_zlib_format
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.numbers import parse_number

from .source import BlobUpload
from .source import InvalidValue
from .source import VectorDict

__all__ = ["MAX_TEXT", "check_members", "form_members", "vector_shape"]

MAX_TEXT = 64 * 1024
MEMBER_PREFIX = "m."  # form fields named m.<member>, so a member cannot shadow csrf_token


def vector_shape(vec: VectorDict) -> VectorShape:
    """What the shared rule (`protocol.acceptance.judge`) needs of a page's vector."""
    members: dict[str, MemberShape] = {}
    for name, member in vec["members"].items():
        value = member.get("value")
        members[name] = MemberShape(name, _limit(member.get("min")), _limit(member.get("max")),
                                    _limit(member.get("step")),
                                    value if isinstance(value, str) else "")
    kind = str(vec["vectortype"]).removesuffix("Vector")
    rule = vec.get("rule")
    return VectorShape(vec["devicename"], vec["name"], kind, str(vec.get("perm") or "ro"),
                       rule if isinstance(rule, str) else None, members)


def _limit(text: object) -> float:
    try:
        return parse_number(text) if isinstance(text, str) else 0.0
    except ValueError:
        return 0.0


def check_members(vec: VectorDict, raw: Mapping[str, object]) -> dict[str, object]:
    """The values to send to `vec`, checked by the shared rule; InvalidValue (its message)
    when any is wrong, nothing sent. Numbers are floats, switches "On"/"Off"; a BLOB must be
    a `BlobUpload` and a text at most `MAX_TEXT` characters (limits of the web face: a form
    field or an upload, never a rule of INDI)."""
    verdict = judge(vector_shape(vec), raw)
    if not verdict:
        raise InvalidValue(verdict.message)
    where = f"{vec['devicename']}.{vec['name']}"
    out: dict[str, object] = {}
    for name, value in verdict.values.items():
        if isinstance(value, SwitchState):
            value = value.value
        elif isinstance(value, str) and len(value) > MAX_TEXT:
            raise InvalidValue(f"{where}.{name}: text of at most {MAX_TEXT} characters")
        elif vec["vectortype"] == "BLOBVector" and not isinstance(value, BlobUpload):
            raise InvalidValue(f"{where}.{name}: a file is needed")
        out[name] = value
    return out


def form_members(vec: VectorDict, form: Mapping[str, object],
                 uploads: Mapping[str, tuple[str, bytes]] | None = None,
                 compress: bool = False) -> dict[str, object]:
    """The raw values a device page's form for `vec` carries (fields ``m.<member>``; empty
    number and text fields mean "unchanged"; switches: the clicked button ``switch`` of a
    OneOfMany or AtMostOne vector, sent at once (an AtMostOne member already On is turned
    Off), checkboxes for AnyOfMany, where unchecked means Off). `uploads` maps member -> (file name,
    bytes); the INDI format is the file's suffix, with ``.z`` added when compression is asked."""
    kind = vec["vectortype"]
    raw: dict[str, object] = {}
    if kind == "SwitchVector":
        rule = vec.get("rule")
        chosen = form.get("switch")
        if rule == "OneOfMany":
            if isinstance(chosen, str) and chosen:
                raw[chosen] = "On"
        elif rule == "AtMostOne" and isinstance(chosen, str) and chosen:
            # one click: the member clicked On and the others Off, or, when the clicked one
            # is On already, all Off (the only way to turn an AtMostOne vector off)
            was_on = vec["members"].get(chosen, {}).get("value") == "On"
            raw = {name: "Off" for name in vec["members"]}
            raw[chosen] = "Off" if was_on else "On"
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
