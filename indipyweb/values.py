"""What a browser or an API caller wants to send, read and checked before anything is sent.

Everything arrives as text (a form) or JSON. `form_members` reads a device page's form (the
web face's own presentation: fields ``m.<member>``, a clicked button for OneOfMany and AtMostOne, blank fields meaning
"unchanged"); `check_members` asks the rule every face shares (`protocol.acceptance.judge`,
docs/acceptance.rst) and turns a refusal into `InvalidValue` carrying its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath

from indipycore.protocol.acceptance import judge
from indipycore.protocol.blobs import is_zlib_format
from indipycore.protocol.enums import SwitchState

from .source import BlobUpload
from .source import InvalidValue
from .views import VectorView

__all__ = ["MAX_TEXT", "check_members", "form_members"]

MAX_TEXT = 64 * 1024
MEMBER_PREFIX = "m."  # form fields named m.<member>, so a member cannot shadow csrf_token


def check_members(vec: VectorView, raw: Mapping[str, object]) -> dict[str, object]:
    """The values to send to `vec`, checked by the shared rule on the view's shape (the core's
    one `vector_shape`); InvalidValue (its message) when any is wrong, nothing sent. Numbers
    are floats, switches "On"/"Off"; a BLOB must be a `BlobUpload` and a text at most
    `MAX_TEXT` characters (limits of the web face: a form field or an upload, never a rule of
    INDI)."""
    verdict = judge(vec.shape, raw)
    if not verdict:
        raise InvalidValue(verdict.message)
    where = f"{vec.devicename}.{vec.name}"
    out: dict[str, object] = {}
    for name, value in verdict.values.items():
        if isinstance(value, SwitchState):
            value = value.value
        elif isinstance(value, str) and len(value) > MAX_TEXT:
            raise InvalidValue(f"{where}.{name}: text of at most {MAX_TEXT} characters")
        elif vec.is_blob and not isinstance(value, BlobUpload):
            raise InvalidValue(f"{where}.{name}: a file is needed")
        out[name] = value
    return out


def form_members(vec: VectorView, form: Mapping[str, object],
                 uploads: Mapping[str, tuple[str, bytes]] | None = None,
                 compress: bool = False) -> dict[str, object]:
    """The raw values a device page's form for `vec` carries (fields ``m.<member>``; empty
    number and text fields mean "unchanged"; switches: the clicked button ``switch`` of a
    OneOfMany or AtMostOne vector, sent at once (an AtMostOne member already On is turned
    Off), checkboxes for AnyOfMany, where unchecked means Off). `uploads` maps member -> (file name,
    bytes); the INDI format is the file's suffix, with ``.z`` added when compression is asked."""
    raw: dict[str, object] = {}
    if vec.is_switch:
        chosen = form.get("switch")
        if vec.rule == "OneOfMany":
            if isinstance(chosen, str) and chosen:
                raw[chosen] = "On"
        elif vec.rule == "AtMostOne" and isinstance(chosen, str) and chosen:
            # one click: the member clicked On and the others Off, or, when the clicked one
            # is On already, all Off (the only way to turn an AtMostOne vector off)
            clicked = vec.member(chosen)
            was_on = clicked is not None and clicked.is_on
            raw = {m.name: "Off" for m in vec.members}
            raw[chosen] = "Off" if was_on else "On"
        else:
            for m in vec.members:
                raw[m.name] = "On" if form.get(MEMBER_PREFIX + m.name) == "On" else "Off"
        return raw
    if vec.is_blob:
        for name, (filename, data) in (uploads or {}).items():
            fmt = "".join(PurePath(filename).suffixes[-1:]).lower() or ".bin"
            if compress and not is_zlib_format(fmt):
                fmt += ".z"  # the source compresses it on the way out
            raw[name] = BlobUpload(data, fmt)
        return raw
    for key, value in form.items():
        if key.startswith(MEMBER_PREFIX) and isinstance(value, str):
            if vec.is_number and not value.strip():
                continue
            raw[key[len(MEMBER_PREFIX):]] = value
    return raw
