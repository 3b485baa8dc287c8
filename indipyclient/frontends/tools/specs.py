"""The ``dev.prop.elem`` property specs of indilib's command-line tools, parsed and matched.

Pure: no I/O. indilib's tools (``indi_getprop``, ``indi_setprop``, ``indi_eval``; INDI
``tools/*.c``) name a property element as ``device.property.element``; any field may be ``*``
(every name), and the element of a getprop spec may instead be one of the keywords ``_LABEL``,
``_GROUP``, ``_STATE``, ``_PERM``, ``_TO``, ``_TS`` naming an attribute of the vector.

Where we differ from indilib, on purpose:

- indilib treats a field whose *first* character is ``*`` as "everything" (``*Sim`` matches all
  devices); here ``*`` is a glob that matches any run of characters, so ``*`` alone is the same
  and ``Telescope*`` or ``*_COORD`` work as they read.
- indilib's ``sscanf("%[^.].%[^.].%[^.]")`` silently drops anything after a third dot; here the
  element is everything after the second dot, so an element name may contain dots.
"""

from __future__ import annotations

import re

__all__ = [
    "KEYWORDS",
    "GetSpec",
    "SetSpec",
    "SpecError",
    "parse_get_spec",
    "parse_set_spec",
]

#: getprop element keywords -> the vector attribute each one reports (indilib's kwattr table).
KEYWORDS: dict[str, str] = {
    "_LABEL": "label",
    "_GROUP": "group",
    "_STATE": "state",
    "_PERM": "perm",
    "_TO": "timeout",
    "_TS": "timestamp",
}


class SpecError(ValueError):
    """A spec on the command line that cannot be understood; the message says what is wrong."""


def _glob(pattern: str) -> re.Pattern[str] | None:
    """A compiled pattern for a field holding ``*``, or None for a plain name (matched by ==)."""
    if "*" not in pattern:
        return None
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


class GetSpec:
    """One ``device.property.element`` query; fields may hold ``*`` wildcards.

    Immutable, compared and hashed by its three fields (a plain class: ``dataclasses`` is
    milliseconds of every tool's start, before it can send its request).
    """

    __slots__ = ("_patterns", "device", "element", "prop", "wildcard")

    device: str
    prop: str
    element: str
    _patterns: tuple[re.Pattern[str] | None, ...]
    #: True when any field holds ``*``: such a query never counts as complete.
    wildcard: bool

    def __init__(self, device: str, prop: str, element: str) -> None:
        patterns = (_glob(device), _glob(prop), _glob(element))
        for name, value in (("device", device), ("prop", prop), ("element", element),
                            ("_patterns", patterns),
                            ("wildcard", any(p is not None for p in patterns))):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"GetSpec is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"GetSpec is immutable: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, GetSpec)
        return (self.device, self.prop, self.element) == (other.device, other.prop, other.element)

    def __hash__(self) -> int:
        return hash((self.device, self.prop, self.element))

    def __repr__(self) -> str:
        return f"GetSpec(device={self.device!r}, prop={self.prop!r}, element={self.element!r})"

    def __str__(self) -> str:
        return f"{self.device}.{self.prop}.{self.element}"

    @property
    def keyword(self) -> str | None:
        """The vector attribute this spec asks for (``_STATE`` -> ``state``), else None."""
        return KEYWORDS.get(self.element)

    def matches_device(self, device: str) -> bool:
        """True when ``device`` is a device this spec asks about."""
        pattern = self._patterns[0]
        return device == self.device if pattern is None else pattern.fullmatch(device) is not None

    def matches_vector(self, device: str, prop: str) -> bool:
        """True when the vector ``device.prop`` is one this spec asks about."""
        if not self.matches_device(device):
            return False
        pattern = self._patterns[1]
        return prop == self.prop if pattern is None else pattern.fullmatch(prop) is not None

    def matches_element(self, element: str) -> bool:
        """True when member ``element`` of a matching vector is asked for."""
        pattern = self._patterns[2]
        return element == self.element if pattern is None else pattern.fullmatch(element) is not None


def _split3(text: str, what: str) -> tuple[str, str, str]:
    device, dot1, rest = text.partition(".")
    prop, dot2, element = rest.partition(".")
    if not (dot1 and dot2) or not device or not prop or not element:
        raise SpecError(f"{what} must be device.property.element, got {text!r}")
    return device, prop, element


def parse_get_spec(text: str) -> GetSpec:
    """Parse a getprop query ``device.property.element`` (``*`` wildcards, keyword elements)."""
    return GetSpec(*_split3(text, "a property spec"))


class SetSpec:
    """One property to set: ``values`` maps element name -> the text to send, in spec order.

    ``kind`` is "text", "number" or "switch" when typed with -x/-n/-s, else None. Immutable,
    compared and hashed by its fields.
    """

    __slots__ = ("device", "kind", "prop", "values")

    device: str
    prop: str
    values: tuple[tuple[str, str], ...]
    kind: str | None

    def __init__(self, device: str, prop: str, values: tuple[tuple[str, str], ...],
                 kind: str | None = None) -> None:
        for name, value in (("device", device), ("prop", prop), ("values", values),
                            ("kind", kind)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"SetSpec is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"SetSpec is immutable: cannot delete {name!r}")

    def _key(self) -> tuple[str, str, tuple[tuple[str, str], ...], str | None]:
        return (self.device, self.prop, self.values, self.kind)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, SetSpec)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"SetSpec(device={self.device!r}, prop={self.prop!r}, values={self.values!r}, "
                f"kind={self.kind!r})")

    def __str__(self) -> str:
        return f"{self.device}.{self.prop}"


def parse_set_spec(text: str, kind: str | None = None) -> SetSpec:
    """Parse a setprop spec in either of indilib's forms.

    ``dev.prop.e1[;e2...]=v1[;v2...]`` or ``dev.prop.e1=v1[;e2=v2...]``. As in indi_setprop, the
    first form is taken when a ``;`` comes before the first ``=`` (or there is no ``;``): its
    values may then contain ``=``; in the second form they may not contain ``;``. Empty names
    and values are refused (indilib's strtok silently skips empty pieces).
    """
    device, dot1, rest = text.partition(".")
    prop, dot2, assignments = rest.partition(".")
    if not (dot1 and dot2) or not device or not prop or not assignments:
        raise SpecError(f"a set spec must be device.property.element=value, got {text!r}")
    equals = assignments.find("=")
    if equals < 0:
        raise SpecError(f"no '=' in the assignment {assignments!r} of {text!r}")
    semicolon = assignments.find(";")
    pairs: list[tuple[str, str]] = []
    if semicolon < 0 or semicolon < equals:
        names = assignments[:equals].split(";")
        values = assignments[equals + 1 :].split(";")
        if len(names) != len(values):
            more = "values than elements" if len(values) > len(names) else "elements than values"
            raise SpecError(f"more {more} in {text!r}")
        pairs = list(zip(names, values, strict=True))
    else:
        for piece in assignments.split(";"):
            name, eq, value = piece.partition("=")
            if not eq:
                raise SpecError(f"no '=' in the assignment {piece!r} of {text!r}")
            pairs.append((name, value))
    for name, value in pairs:
        if not name:
            raise SpecError(f"an empty element name in {text!r}")
        if not value:
            raise SpecError(f"no value for element {name!r} in {text!r}")
    seen = [name for name, _ in pairs]
    if len(set(seen)) != len(seen):
        raise SpecError(f"an element is given twice in {text!r}")
    return SetSpec(device, prop, tuple(pairs), kind)
