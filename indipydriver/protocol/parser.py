"""Parse one complete top-level INDI element (bytes) into its event.

The XML parsing itself is done by the C-accelerated `xml.etree.ElementTree.XMLParser` on one
element at a time (the Framer delivers exactly one); the mapping from tag to event is the table in
`elements.py`. Input is lenient where indilib is (indi-notes 1.2, 1.6): every member value is
whitespace-stripped (indilib pads values with newlines), unknown elements and attributes are
ignored and logged at debug level, raw Latin-1 bytes from C drivers are accepted. Missing
required attributes, bad enumeration values and malformed XML raise `ProtocolError` naming the
element, attribute and value.
"""

from __future__ import annotations

import binascii
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from enum import Enum
from typing import Any

from .elements import ELEMENTS, Attr, Body, ElementSpec, MemberSpec
from .errors import ProtocolError
from .events import Event

__all__ = ["parse_element"]

logger = logging.getLogger(__name__)

# Only XML whitespace is stripped (what indilib pads with); a value may end in e.g. NBSP.
_XML_SPACE = " \t\r\n"

# A compiled attribute: (name, required, converter or None). Enum converters are plain dict
# lookups: calling an Enum class costs about ten times more.
_AttrPlan = tuple[str, bool, "dict[str, Any] | Callable[[str], Any] | None"]


def _plan_attrs(attrs: tuple[Attr, ...]) -> tuple[_AttrPlan, ...]:
    plan = []
    for attr in attrs:
        conv: dict[str, Any] | Callable[[str], Any] | None = attr.convert
        if isinstance(conv, type) and issubclass(conv, Enum):
            conv = {member.value: member for member in conv}
        plan.append((attr.name, attr.required, conv))
    return tuple(plan)


def _enum_map(enum: type[Enum] | None) -> dict[str, Any]:
    return {member.value: member for member in enum} if enum is not None else {}


_ATTR_PLANS: dict[str, tuple[_AttrPlan, ...]] = {tag: _plan_attrs(s.attrs) for tag, s in ELEMENTS.items()}
_MEMBER_PLANS: dict[str, tuple[_AttrPlan, ...]] = {
    s.member.tag: _plan_attrs(s.member.attrs) for s in ELEMENTS.values() if s.member is not None
}
_ENUM_MAPS: dict[type[Enum], dict[str, Any]] = {}
for _spec in ELEMENTS.values():
    for _enum in (_spec.enum, _spec.member.enum if _spec.member else None):
        if _enum is not None:
            _ENUM_MAPS[_enum] = _enum_map(_enum)


def _convert_attrs(
    plan: tuple[_AttrPlan, ...], attrib: dict[str, str], where: str
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, required, conv in plan:
        raw = attrib.get(name)
        if raw is None:
            if required:
                raise ProtocolError(f"{where}: missing required attribute {name!r}")
            continue
        value = raw.strip(_XML_SPACE)
        if conv is None:
            kwargs[name] = value
        elif type(conv) is dict:
            try:
                kwargs[name] = conv[value]
            except KeyError:
                raise ProtocolError(
                    f"{where}: attribute {name}={raw!r} is not one of {', '.join(conv)}"
                ) from None
        else:
            try:
                kwargs[name] = conv(value)  # type: ignore[operator]
            except ValueError:
                raise ProtocolError(f"{where}: attribute {name}={raw!r} is not valid") from None
    if len(attrib) > len(kwargs) and logger.isEnabledFor(logging.DEBUG):
        unknown = set(attrib) - {name for name, _, _ in plan}
        if unknown:
            logger.debug("%s: ignoring unknown attributes %s", where, sorted(unknown))
    return kwargs


def _body_value(body: Body, enum: type[Enum] | None, text: str | None, where: str) -> Any:
    text = text.strip(_XML_SPACE) if text else ""
    if body is Body.TEXT:
        return text
    if body is Body.ENUM:
        assert enum is not None
        try:
            return _ENUM_MAPS[enum][text]
        except KeyError:
            raise ProtocolError(
                f"{where}: value {text!r} is not one of {', '.join(_ENUM_MAPS[enum])}"
            ) from None
    if body is Body.BASE64:
        try:
            # a2b_base64 ignores the newlines indilib wraps at 72 columns (indi-notes 1.4).
            return binascii.a2b_base64(text, strict_mode=False)
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError(f"{where}: BLOB data is not valid base64 ({exc})") from None
    return None


def _member(spec: MemberSpec, element: ET.Element, parent: str) -> Any:
    where = f"{parent}/{spec.tag}"
    attrib = element.attrib
    name = attrib.get("name")
    if name is not None:
        where = f"{where} name={name.strip(_XML_SPACE)!r}"
    kwargs = _convert_attrs(_MEMBER_PLANS[spec.tag], attrib, where)
    if spec.body is not Body.EMPTY:
        kwargs[spec.value_field] = _body_value(spec.body, spec.enum, element.text, where)
    return spec.cls(**kwargs)


def _to_event(spec: ElementSpec, root: ET.Element) -> Event:
    where = spec.tag
    attrib = root.attrib
    if "name" in attrib or "device" in attrib:
        where = f"{spec.tag} device={attrib.get('device')!r} name={attrib.get('name')!r}"
    kwargs = _convert_attrs(_ATTR_PLANS[spec.tag], attrib, where)
    member = spec.member
    if member is not None:
        members = []
        for child in root:
            if child.tag == member.tag:
                members.append(_member(member, child, where))
            else:
                logger.debug("%s: ignoring unexpected child <%s>", where, child.tag)
        kwargs["members"] = tuple(members)
    elif spec.body is not Body.EMPTY:
        assert spec.value_field is not None
        kwargs[spec.value_field] = _body_value(spec.body, spec.enum, root.text, where)
    result: Event = spec.cls(**kwargs)
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


def parse_element(data: bytes) -> Event | None:
    """Parse one complete element; None for an element INDI 1.7 does not define.

    Raises ProtocolError for malformed XML, DOCTYPE/ENTITY declarations (never expanded),
    missing required attributes and bad enumeration values.
    """
    if b"<!" in data and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise ProtocolError("refused a DOCTYPE/ENTITY declaration")
    root = _parse_xml(data)
    spec = ELEMENTS.get(root.tag)
    if spec is None:
        logger.debug("ignoring unknown element <%s>", root.tag)
        return None
    return _to_event(spec, root)
