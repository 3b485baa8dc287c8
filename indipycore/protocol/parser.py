"""Parse one complete top-level INDI element (bytes) into its event.

The XML parsing itself is done by the C-accelerated `xml.etree.ElementTree.XMLParser` on one
element at a time (the Framer delivers exactly one); the mapping from tag to event is the table in
`elements.py`. Input is lenient where indilib is (indi-notes 1.2, 1.6): every member value and
attribute is whitespace-stripped (indilib pads values with newlines) except free text for people
(label, group, message, kept as sent), unknown elements and attributes are
ignored and logged at debug level, raw Latin-1 bytes from C drivers are accepted. Missing
required attributes, bad enumeration values and malformed XML raise `ProtocolError` naming the
element, attribute and value.
"""

from __future__ import annotations

import binascii
import logging
import xml.etree.ElementTree as ET
from enum import Enum
from typing import Any

from .blobskeleton import MIN_CUT_SIZE
from .blobskeleton import cut_blob_bodies
from .elements import ELEMENTS
from .elements import Attr
from .elements import Body
from .errors import ProtocolError
from .events import Event

__all__ = ["parse_element"]

logger = logging.getLogger(__name__)

# Only XML whitespace is stripped (what indilib pads with); a value may end in e.g. NBSP.
_XML_SPACE = " \t\r\n"

# Parsing has a fast path and a slow one. The fast path converts whatever attributes are present
# with plain dict lookups (calling an Enum class costs about ten times more) and lets KeyError /
# ValueError escape; only then does the slow path (`_diagnose`) work out which element, attribute
# and value were wrong, so well-formed traffic never pays for building error context.

_Converter = "dict[str, Any] | Callable[[str], Any] | None"

#: The converter of a free-text attribute (`Attr.verbatim`): its value is kept unstripped.
_VERBATIM = object()


class _Plan:
    """How to turn one element's attributes (and body) into constructor arguments."""

    __slots__ = ("attrs", "body", "cls", "convert", "enum_map", "required", "tag", "value_field")

    def __init__(
        self,
        tag: str,
        cls: type,
        attrs: tuple[Attr, ...],
        body: Body,
        value_field: str | None,
        enum: type[Enum] | None,
    ) -> None:
        self.tag = tag
        self.cls = cls
        self.attrs = attrs
        self.convert: dict[str, Any] = {}
        for attr in attrs:
            conv: Any = _VERBATIM if attr.verbatim else attr.convert
            if isinstance(conv, type) and issubclass(conv, Enum):
                conv = {member.value: member for member in conv}
            self.convert[attr.name] = conv
        self.required = tuple(a.name for a in attrs if a.required)
        self.body = body
        self.value_field = value_field
        self.enum_map: dict[str, Any] = {m.value: m for m in enum} if enum is not None else {}

    def kwargs(self, attrib: dict[str, str], text: str | None) -> dict[str, Any]:
        """Constructor arguments; raises KeyError/ValueError/binascii.Error on bad input."""
        kwargs: dict[str, Any] = {}
        convert = self.convert
        for key, raw in attrib.items():
            if key not in convert:
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("<%s>: ignoring unknown attribute %s=%r", self.tag, key, raw)
                continue
            conv = convert[key]
            if conv is None:
                kwargs[key] = raw.strip(_XML_SPACE)
            elif conv is _VERBATIM:
                kwargs[key] = raw
            elif type(conv) is dict:
                kwargs[key] = conv[raw.strip(_XML_SPACE)]
            else:
                kwargs[key] = conv(raw.strip(_XML_SPACE))
        for key in self.required:
            if key not in kwargs:
                raise KeyError(key)
        body = self.body
        if body is Body.TEXT:
            kwargs["value"] = text.strip(_XML_SPACE) if text else ""
        elif body is Body.ENUM:
            kwargs["value"] = self.enum_map[text.strip(_XML_SPACE) if text else ""]
        elif body is Body.BASE64:
            # a2b_base64 ignores the newlines indilib wraps at 72 columns (indi-notes 1.4).
            kwargs["data"] = binascii.a2b_base64(text or "", strict_mode=False)
        return kwargs

    def diagnose(self, attrib: dict[str, str], text: str | None, where: str) -> ProtocolError:
        """The precise error for input that failed the fast path."""
        for attr in self.attrs:
            raw = attrib.get(attr.name)
            if raw is None:
                if attr.required:
                    return ProtocolError(f"{where}: missing required attribute {attr.name!r}")
                continue
            conv = self.convert[attr.name]
            value = raw.strip(_XML_SPACE)
            if type(conv) is dict and value not in conv:
                return ProtocolError(
                    f"{where}: attribute {attr.name}={raw!r} is not one of {', '.join(conv)}"
                )
            if callable(conv):
                try:
                    conv(value)
                except ValueError:
                    return ProtocolError(f"{where}: attribute {attr.name}={raw!r} is not valid")
        value = text.strip(_XML_SPACE) if text else ""
        if self.body is Body.ENUM and value not in self.enum_map:
            return ProtocolError(
                f"{where}: value {value!r} is not one of {', '.join(self.enum_map)}"
            )
        if self.body is Body.BASE64:
            try:
                binascii.a2b_base64(text or "", strict_mode=False)
            except (binascii.Error, ValueError) as exc:
                return ProtocolError(f"{where}: BLOB data is not valid base64 ({exc})")
        return ProtocolError(f"{where}: invalid element")


def _where(tag: str, attrib: dict[str, str]) -> str:
    if "device" in attrib or "name" in attrib:
        return f"{tag} device={attrib.get('device')!r} name={attrib.get('name')!r}"
    return tag


_PLANS: dict[str, _Plan] = {}
_MEMBER_OF: dict[str, tuple[str, _Plan]] = {}  # vector tag -> (member tag, member plan)
for _spec in ELEMENTS.values():
    _PLANS[_spec.tag] = _Plan(
        _spec.tag, _spec.cls, _spec.attrs, _spec.body, _spec.value_field, _spec.enum
    )
    _m = _spec.member
    if _m is not None:
        _MEMBER_OF[_spec.tag] = (
            _m.tag,
            _Plan(_m.tag, _m.cls, _m.attrs, _m.body, _m.value_field, _m.enum),
        )


def _to_event(plan: _Plan, root: ET.Element) -> Event:
    attrib = root.attrib
    try:
        kwargs = plan.kwargs(attrib, root.text if plan.body is not Body.EMPTY else None)
    except (KeyError, ValueError, binascii.Error):
        raise plan.diagnose(attrib, root.text, _where(plan.tag, attrib)) from None
    member = _MEMBER_OF.get(plan.tag)
    if member is not None:
        mtag, mplan = member
        cls = mplan.cls
        members = []
        for child in root:
            if child.tag != mtag:
                logger.debug("<%s>: ignoring unexpected child <%s>", plan.tag, child.tag)
                continue
            cattrib = child.attrib
            try:
                members.append(cls(**mplan.kwargs(cattrib, child.text)))
            except (KeyError, ValueError, binascii.Error):
                where = f"{_where(plan.tag, attrib)}/{mtag} name={cattrib.get('name')!r}"
                raise mplan.diagnose(cattrib, child.text, where) from None
        kwargs["members"] = tuple(members)
    result: Event = plan.cls(**kwargs)
    return result


def _parse_xml(data: bytes) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            # SPEC: text is ISO-8859-1, and C drivers do send raw Latin-1 bytes (e.g. a degree
            # sign); expat only knows UTF-8 without a declaration, so transcode and retry.
            try:
                return ET.fromstring(data.decode("latin-1").encode("utf-8"))
            except ET.ParseError:
                pass
        raise ProtocolError(f"malformed XML: {exc}") from None


def _parse_blob_skeleton(data: bytes) -> Event | None:
    """A large BLOB vector's event from its skeleton (`blobskeleton`), or None when the cut
    does not apply or anything about it is not plain: the caller then parses it whole, which
    gives the same event or the precise error."""
    cut = cut_blob_bodies(data)
    if cut is None:
        return None
    skeleton, bodies = cut
    try:
        root = ET.fromstring(skeleton)
    except ET.ParseError:
        return None
    plan = _PLANS.get(root.tag)
    member = _MEMBER_OF.get(root.tag)
    if plan is None or member is None:
        return None
    mtag = member[0]
    members = [child for child in root if child.tag == mtag]
    if len(members) != len(bodies) or any(m.text is not None or len(m) for m in members):
        return None  # a body was not cut from one of the vector's own members
    for child, body in zip(members, bodies, strict=True):
        child.text = body  # type: ignore[assignment]  # bytes: a2b_base64 takes them as is
    try:
        return _to_event(plan, root)
    except Exception:  # noqa: BLE001  # whatever it is, parsing it whole tells precisely
        return None


def parse_element(data: bytes) -> Event | None:
    """Parse one complete element; None for an element INDI 1.7 does not define.

    Raises ProtocolError for malformed XML, DOCTYPE/ENTITY declarations (never expanded),
    missing required attributes and bad enumeration values.
    """
    if len(data) >= MIN_CUT_SIZE:
        event = _parse_blob_skeleton(data)
        if event is not None:
            return event
    if b"<!" in data and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise ProtocolError("refused a DOCTYPE/ENTITY declaration")
    root = _parse_xml(data)
    plan = _PLANS.get(root.tag)
    if plan is None:
        logger.debug("ignoring unknown element <%s>", root.tag)
        return None
    return _to_event(plan, root)
