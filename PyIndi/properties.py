"""Properties as pyindi-client programs see them: the generic ``Property`` (what the callbacks,
``getProperty`` and ``getProperties`` give) and the typed ``PropertyNumber``,
``PropertySwitch``, ``PropertyText``, ``PropertyLight`` and ``PropertyBlob``.

Every one is a view on the client's ``LiveProperty``, so it changes in place as the server
sends values. A typed view made from a property of another kind, or a lookup that found
nothing, is *invalid*: falsy, ``isValid()`` False, empty, with blank names (pyindi-client 2.x
returns such an object rather than None; ``if not prop:`` is how programs test it).

Both generations' spellings work on one object: the 2.x methods (``getName()``, ``getState()``,
``size()``, ``p[i]``, ``findWidgetByName``) and the 1.x struct fields (``name``, ``device``,
``s``, ``p``, ``np``/``nnp``, ``sp``/``nsp``...); the 1.x class names (``INumberVectorProperty``
...) are the typed classes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from typing import Generic
from typing import TypeVar

from indipycore.protocol import State

from .constants import INDI_BLOB
from .constants import INDI_LIGHT
from .constants import INDI_NUMBER
from .constants import INDI_SWITCH
from .constants import INDI_TEXT
from .constants import INDI_UNKNOWN
from .constants import IP_RO
from .constants import IPS_IDLE
from .constants import ISR_1OFMANY
from .constants import ISS_OFF
from .constants import ISS_ON
from .constants import PERMS
from .constants import RULES
from .constants import STATES
from .constants import TYPE_NAMES
from .constants import VECTOR_TYPES
from .live import LiveProperty
from .widgets import IBLOB
from .widgets import ILight
from .widgets import INumber
from .widgets import ISwitch
from .widgets import IText
from .widgets import widget_for

# pyindi-client's names, which ``PyIndi`` re-exports from here.
__all__ = [
    "IBLOBVectorProperty",
    "ILightVectorProperty",
    "INumberVectorProperty",
    "ISwitchVectorProperty",
    "ITextVectorProperty",
    "Property",
    "PropertyBLOB",
    "PropertyBlob",
    "PropertyLight",
    "PropertyNumber",
    "PropertySwitch",
    "PropertyText",
]

_STATE_NAMES = {number: word for word, number in STATES.items()}
W = TypeVar("W")


def property_type(live: LiveProperty | None) -> int:
    """``INDI_NUMBER``... for the live property's vector; ``INDI_UNKNOWN`` for none."""
    return INDI_UNKNOWN if live is None else VECTOR_TYPES.get(live.vector.vectortype, INDI_UNKNOWN)


def timestamp_text(stamp: Any) -> str:
    """An INDI timestamp (UTC, to the second) as libindi shows it."""
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") if stamp is not None else ""


class Property:
    """A property of any kind (see the module docstring)."""

    __slots__ = ("_cache", "_cached_for", "_live")
    kind: int | None = None  # the INDI_* type a typed view requires (None: any)

    def __init__(self, source: Property | LiveProperty | None = None) -> None:
        live = source._live if isinstance(source, Property) else source
        if live is not None and self.kind is not None and property_type(live) != self.kind:
            live = None
        self._live: LiveProperty | None = live
        self._cache: list[Any] = []
        self._cached_for: object = None

    # -- validity -----------------------------------------------------------------------

    def isValid(self) -> bool:
        return self._live is not None

    def __bool__(self) -> bool:
        return self._live is not None

    def isEmpty(self) -> bool:
        return self.size() == 0

    def _field(self, name: str, default: Any = "") -> Any:
        return getattr(self._live.vector, name) if self._live is not None else default

    # -- names --------------------------------------------------------------------------

    def getName(self) -> str:
        return str(self._field("name"))

    def getLabel(self) -> str:
        return str(self._field("label"))

    def getGroupName(self) -> str:
        return str(self._field("group"))

    def getDeviceName(self) -> str:
        return str(self._field("devicename"))

    def getBaseDevice(self) -> Any:
        """The ``BaseDevice`` holding this property (None for an invalid property)."""
        return self._live.device if self._live is not None else None

    def isNameMatch(self, name: str) -> bool:
        return self._live is not None and self.getName() == name

    def isLabelMatch(self, label: str) -> bool:
        return self._live is not None and self.getLabel() == label

    def isDeviceNameMatch(self, name: str) -> bool:
        return self._live is not None and self.getDeviceName() == name

    def isTypeMatch(self, kind: int) -> bool:
        return self._live is not None and self.getType() == kind

    def getRegistered(self) -> bool:
        """True for a property the client learnt from its driver (every valid one here)."""
        return self._live is not None

    def isDynamic(self) -> bool:
        """False: drivers' properties, never built from a skeleton file here."""
        return False

    # -- state, permission, timing --------------------------------------------------------

    def getState(self) -> int:
        return STATES.get(str(self._field("state", "Idle")), IPS_IDLE)

    def setState(self, state: int) -> None:
        """Change the client's copy of the state (sent with nothing: drivers own it)."""
        if self._live is not None and state in _STATE_NAMES:
            self._live.vector.state = State(_STATE_NAMES[state])
            self._live.edited()

    def getStateAsString(self) -> str:
        return _STATE_NAMES[self.getState()]

    def getPermission(self) -> int:
        return PERMS.get(str(self._field("perm", "ro")), IP_RO)

    def getPermissionAsString(self) -> str:
        return str(self._field("perm", "ro"))

    def getTimeout(self) -> float:
        return float(self._field("timeout", 0.0))

    def getTimestamp(self) -> str:
        return timestamp_text(self._field("timestamp", None))

    def getType(self) -> int:
        return property_type(self._live)

    def getTypeAsString(self) -> str:
        return TYPE_NAMES[self.getType()]

    def getMessage(self) -> str:
        """The message the driver sent with its last definition or update of this property."""
        return str(self._field("message"))

    # -- the elements ---------------------------------------------------------------------

    def _widgets(self) -> list[Any]:
        live = self._live
        if live is None:
            return []
        vector = live.vector
        if self._cached_for is not vector:  # first use, or the driver redefined it
            self._cache = [widget_for(live, name) for name in vector]
            self._cached_for = vector
        return self._cache

    def size(self) -> int:
        return len(self._widgets())

    def count(self) -> int:
        return self.size()

    def __len__(self) -> int:
        return self.size()

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._widgets()))

    def __getitem__(self, index: int) -> Any:
        return self._widgets()[index]

    def at(self, index: int) -> Any:
        return self._widgets()[index]

    def findWidgetByName(self, name: str) -> Any:
        """The element of that name, or None."""
        for widget in self._widgets():
            if widget.name == name:
                return widget
        return None

    def findWidgetIndexByName(self, name: str) -> int:
        """The index of the element of that name, or -1."""
        for index, widget in enumerate(self._widgets()):
            if widget.name == name:
                return index
        return -1

    # -- typed views (pyindi-client's README iterates these) --------------------------------

    def getNumber(self) -> PropertyNumber:
        return PropertyNumber(self)

    def getSwitch(self) -> PropertySwitch:
        return PropertySwitch(self)

    def getText(self) -> PropertyText:
        return PropertyText(self)

    def getLight(self) -> PropertyLight:
        return PropertyLight(self)

    def getBLOB(self) -> PropertyBlob:
        return PropertyBlob(self)

    # -- the 1.x struct fields ------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.getName()

    @property
    def label(self) -> str:
        return self.getLabel()

    @property
    def group(self) -> str:
        return self.getGroupName()

    @property
    def device(self) -> str:
        return self.getDeviceName()

    @property
    def s(self) -> int:
        return self.getState()

    @s.setter
    def s(self, state: int) -> None:
        self.setState(state)

    @property
    def p(self) -> int:
        return self.getPermission()

    @property
    def timeout(self) -> float:
        return self.getTimeout()

    @property
    def timestamp(self) -> str:
        return self.getTimestamp()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Property):
            return self._live is other._live
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._live)

    def __repr__(self) -> str:
        if self._live is None:
            return f"<{type(self).__name__} invalid>"
        return (f"<{type(self).__name__} {self.getDeviceName()}.{self.getName()} "
                f"{self.getStateAsString()}>")


class _TypedProperty(Property, Generic[W]):
    """A typed view: its elements, by index, iteration or name, are of its kind's widget."""

    __slots__ = ()

    def __getitem__(self, index: int) -> W:
        widget: W = self._widgets()[index]
        return widget

    def __iter__(self) -> Iterator[W]:
        return iter(list(self._widgets()))

    def findWidgetByName(self, name: str) -> W | None:
        found: W | None = super().findWidgetByName(name)
        return found

    def _elements(self) -> list[W]:
        """A list of the elements: the 1.x fields ``np``, ``sp``, ``tp``, ``lp``, ``bp``."""
        return list(self._widgets())


class PropertyNumber(_TypedProperty[INumber]):
    """A number property; ``np``/``nnp`` are the 1.x spellings of its elements and count."""

    __slots__ = ()
    kind = INDI_NUMBER

    @property
    def np(self) -> list[INumber]:
        return self._elements()

    @property
    def nnp(self) -> int:
        return self.size()


class PropertySwitch(_TypedProperty[ISwitch]):
    """A switch property, with its rule and the On switch; ``sp``/``nsp``/``r`` in 1.x."""

    __slots__ = ()
    kind = INDI_SWITCH

    def getRule(self) -> int:
        return RULES.get(str(self._field("rule", "OneOfMany")), ISR_1OFMANY)

    def getRuleAsString(self) -> str:
        return str(self._field("rule", "OneOfMany"))

    def reset(self) -> None:
        """Every switch Off (in the client's copy), before turning one On."""
        for widget in self._widgets():
            widget.setState(ISS_OFF)

    def findOnSwitch(self) -> ISwitch | None:
        for widget in self._widgets():
            if widget.s == ISS_ON:
                found: ISwitch = widget
                return found
        return None

    def findOnSwitchIndex(self) -> int:
        for index, widget in enumerate(self._widgets()):
            if widget.s == ISS_ON:
                return index
        return -1

    def isSwitchOn(self, name: str) -> bool:
        """Whether the switch of that name is On."""
        found = self.findWidgetByName(name)
        return found is not None and found.s == ISS_ON

    def findOnSwitchName(self) -> str:
        found = self.findOnSwitch()
        return found.name if found is not None else ""

    @property
    def sp(self) -> list[ISwitch]:
        return self._elements()

    @property
    def nsp(self) -> int:
        return self.size()

    @property
    def r(self) -> int:
        return self.getRule()


class PropertyText(_TypedProperty[IText]):
    """A text property; ``tp``/``ntp`` in 1.x."""

    __slots__ = ()
    kind = INDI_TEXT

    @property
    def tp(self) -> list[IText]:
        return self._elements()

    @property
    def ntp(self) -> int:
        return self.size()


class PropertyLight(_TypedProperty[ILight]):
    """A light property (read-only); ``lp``/``nlp`` in 1.x."""

    __slots__ = ()
    kind = INDI_LIGHT

    @property
    def lp(self) -> list[ILight]:
        return self._elements()

    @property
    def nlp(self) -> int:
        return self.size()


class PropertyBlob(_TypedProperty[IBLOB]):
    """A BLOB property: its elements hold the last bodies received; ``bp``/``nbp`` in 1.x."""

    __slots__ = ()
    kind = INDI_BLOB

    @property
    def bp(self) -> list[IBLOB]:
        return self._elements()

    @property
    def nbp(self) -> int:
        return self.size()


# pyindi-client 1.x's names for the typed properties.
INumberVectorProperty = PropertyNumber
ISwitchVectorProperty = PropertySwitch
ITextVectorProperty = PropertyText
ILightVectorProperty = PropertyLight
IBLOBVectorProperty = PropertyBlob
PropertyBLOB = PropertyBlob
