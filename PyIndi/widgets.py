"""The elements of a property (libindi's widgets): ``INumber``, ``ISwitch``, ``IText``,
``ILight`` and ``IBLOB``, with both spellings programs use: the 1.x struct fields (``value``,
``s``, ``text``, ``min``, ``bloblen``...) and the 2.x methods (``getValue()``, ``setState()``,
``getText()``, ``getBlobLen()``...).

An element is a view on its property's ``LiveProperty``: reading gives the value the client
holds now; setting (``setValue``, ``setState``, ``value = ...``) changes the client's copy until
the program sends it (``sendNewNumber`` ...) and the driver answers, as in pyindi-client.
"""

from __future__ import annotations

from typing import Any
from typing import overload

from indipycore.protocol.numbers import format_number
from indipycore.protocol.numbers import number_to_wire
from indipycore.protocol.numbers import parse_number

from .constants import IPS_IDLE
from .constants import ISS_OFF
from .constants import ISS_ON
from .constants import STATES
from .constants import SWITCH_STATES
from .live import LiveProperty

__all__ = ["IBLOB", "ILight", "INumber", "ISwitch", "IText", "Widget", "widget_for"]


def _number(text: Any) -> float:
    try:
        return parse_number(str(text))
    except ValueError:
        return 0.0


class _NumberField:
    """One of ``INumber``'s float fields (``value``, ``min``, ``max``, ``step``), by its name:
    read as a float from the client's copy of the member (0.0 when the member is gone or the
    text is not a number); set, written to that copy as the wire's text until the program
    sends it. One descriptor, as the four fields differ only in their names."""

    __slots__ = ("_field",)

    def __set_name__(self, owner: type, name: str) -> None:
        self._field = name

    @overload
    def __get__(self, number: None, owner: type) -> _NumberField: ...

    @overload
    def __get__(self, number: INumber, owner: type) -> float: ...

    def __get__(self, number: INumber | None, owner: type) -> float | _NumberField:
        if number is None:
            return self
        member = number._member()
        return _number(getattr(member, self._field)) if member is not None else 0.0

    def __set__(self, number: INumber, value: float) -> None:
        member = number._member()
        if member is not None:
            setattr(member, self._field, number_to_wire(float(value)))
            number._live.edited()


class Widget:
    """What every element has: ``name``/``getName()``, ``label``/``getLabel()``."""

    __slots__ = ("_label", "_live", "_name")

    def __init__(self, live: LiveProperty, name: str) -> None:
        self._live = live
        self._name = name
        self._label: str | None = None

    def _member(self) -> Any:
        return self._live.member(self._name)

    @property
    def name(self) -> str:
        return self._name

    def getName(self) -> str:
        return self._name

    def setName(self, name: str) -> None:
        """Rename this view (libindi allows it on a local copy; the server's name stays)."""
        self._name = name

    @property
    def label(self) -> str:
        if self._label is not None:
            return self._label
        member = self._member()
        return str(member.label) if member is not None else ""

    @label.setter
    def label(self, label: str) -> None:
        self._label = label

    def getLabel(self) -> str:
        return self.label

    def setLabel(self, label: str) -> None:
        self._label = label

    def isNameMatch(self, name: str) -> bool:
        return self._name == name

    def isLabelMatch(self, label: str) -> bool:
        return self.label == label

    def getPropertyName(self) -> str:
        return self._live.vector.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._live.vector.devicename}.{self._live.vector.name}" \
               f".{self._name}>"


class INumber(Widget):
    """A number: ``value``, ``min``, ``max``, ``step`` as floats, ``format`` (printf or ``%m``)."""

    __slots__ = ()

    value = _NumberField()
    min = _NumberField()
    max = _NumberField()
    step = _NumberField()

    @property
    def format(self) -> str:
        member = self._member()
        return str(member.format) if member is not None else ""

    @format.setter
    def format(self, fmt: str) -> None:
        member = self._member()
        if member is not None:
            member.format = fmt
            self._live.edited()

    def getValue(self) -> float:
        return self.value

    def setValue(self, value: float) -> None:
        self.value = value

    def getMin(self) -> float:
        return self.min

    def getMax(self) -> float:
        return self.max

    def getStep(self) -> float:
        return self.step

    def getFormat(self) -> str:
        return self.format

    def setMin(self, value: float) -> None:
        self.min = value

    def setMax(self, value: float) -> None:
        self.max = value

    def setMinMax(self, low: float, high: float) -> None:
        self.min = low
        self.max = high

    def setStep(self, value: float) -> None:
        self.step = value

    def setFormat(self, fmt: str) -> None:
        self.format = fmt

    def getFormattedValue(self) -> str:
        """The value as the driver's format shows it (``%m`` sexagesimal included)."""
        try:
            return format_number(self.value, self.format)
        except ValueError:
            return repr(self.value)


class ISwitch(Widget):
    """A switch: ``s``/``getState()`` is ``ISS_ON`` or ``ISS_OFF``."""

    __slots__ = ()

    @property
    def s(self) -> int:
        member = self._member()
        return SWITCH_STATES.get(str(member.value), ISS_OFF) if member is not None else ISS_OFF

    @s.setter
    def s(self, state: int) -> None:
        member = self._member()
        if member is not None:
            member.value = "On" if state == ISS_ON else "Off"
            self._live.edited()

    def getState(self) -> int:
        return self.s

    def setState(self, state: int) -> None:
        self.s = state

    def getStateAsString(self) -> str:
        return "On" if self.s == ISS_ON else "Off"


class ILight(Widget):
    """A light: ``s``/``getState()`` is an ``IPS_*`` state."""

    __slots__ = ()

    @property
    def s(self) -> int:
        member = self._member()
        return STATES.get(str(member.value), IPS_IDLE) if member is not None else IPS_IDLE

    def getState(self) -> int:
        return self.s

    def getStateAsString(self) -> str:
        member = self._member()
        return str(member.value) if member is not None else "Idle"

    def setState(self, state: int) -> None:
        """Change the client's copy (lights are the driver's to set)."""
        member = self._member()
        names = {number: word for word, number in STATES.items()}
        if member is not None and state in names:
            member.value = names[state]
            self._live.edited()


class IText(Widget):
    """A text: ``text``/``getText()``."""

    __slots__ = ()

    @property
    def text(self) -> str:
        member = self._member()
        return str(member.value or "") if member is not None else ""

    @text.setter
    def text(self, text: str) -> None:
        member = self._member()
        if member is not None:
            member.value = str(text)
            self._live.edited()

    def getText(self) -> str:
        return self.text

    def setText(self, text: str) -> None:
        self.text = text

    def isEmpty(self) -> bool:
        return not self.text


class IBLOB(Widget):
    """A BLOB: the last body received (``getblobdata()``, a new ``bytearray``; ``blob`` the
    bytes), its length ``bloblen``, its ``size`` attribute and its ``format`` (".fits")."""

    __slots__ = ()

    def _data(self) -> bytes | bytearray | memoryview:
        return self._live.blobs.get(self._name, b"")

    @property
    def blob(self) -> bytes:
        return bytes(self._data())

    @property
    def bloblen(self) -> int:
        return len(self._data())

    @property
    def size(self) -> int:
        member = self._member()
        return int(member.blobsize) if member is not None else 0

    @property
    def format(self) -> str:
        member = self._member()
        return str(member.blobformat) if member is not None else ""

    def getblobdata(self) -> bytearray:
        return bytearray(self._data())

    def getBlob(self) -> bytes:
        return self.blob

    def getBlobLen(self) -> int:
        return self.bloblen

    def getSize(self) -> int:
        return self.size

    def getFormat(self) -> str:
        return self.format


_KINDS: dict[str, type[Widget]] = {
    "NumberVector": INumber,
    "SwitchVector": ISwitch,
    "TextVector": IText,
    "LightVector": ILight,
    "BLOBVector": IBLOB,
}


def widget_for(live: LiveProperty, name: str) -> Widget:
    """The element view of the right kind for a member of ``live``'s vector."""
    return _KINDS.get(live.vector.vectortype, Widget)(live, name)
