"""`ActiveDevices`: a camera's ACTIVE_DEVICES and what it hears from the devices it names.

indilib's INDI::CCD has a text vector ACTIVE_DEVICES ("Snoop devices", Options) naming the
telescope, rotator, focuser, filter wheel and sky quality meter it works with; it snoops a few
properties of each (``getProperties`` with the device and property name, routed by the
server) and writes what they say into each exposure's FITS header. This module is that
bookkeeping, kept out of the camera role: the vector, the snoop requests to send for the names
it holds, and `SnoopedValues`, the last values heard (None until heard; cleared when the
device is renamed or deletes the property, so a header never carries a stale or made-up value).
`fitsheader.snooped_cards` turns them into header cards.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from ..rxevents import RxEvent
from ..rxevents import VectorEvent
from ..rxevents import delProperty
from ..vectors import TextVector
from .groups import OPTIONS_TAB
from .vectortables import Param
from .vectortables import TextSpec
from .vectortables import VectorSpec
from .vectortables import build

__all__ = ["ACTIVE_DEVICES", "DEFAULT_ACTIVE_DEVICES", "SNOOPED_PROPERTIES", "ActiveDevices",
           "SnoopedValues"]

logger = logging.getLogger(__name__)

#: ACTIVE_DEVICES' members: name, label (indilib 1.9.9's INDI::CCD, in its order).
MEMBERS = (("ACTIVE_TELESCOPE", "Telescope"), ("ACTIVE_ROTATOR", "Rotator"),
           ("ACTIVE_FOCUSER", "Focuser"), ("ACTIVE_FILTER", "Filter"),
           ("ACTIVE_SKYQUALITY", "Sky Quality"))

#: indilib's defaults, but for the filter wheel: indilib's CCD simulator names itself there
#: (it has a wheel of its own); a camera of this role has none, so nothing is named.
DEFAULT_ACTIVE_DEVICES: Mapping[str, str] = {
    "ACTIVE_TELESCOPE": "Telescope Simulator", "ACTIVE_ROTATOR": "Rotator Simulator",
    "ACTIVE_FOCUSER": "Focuser Simulator", "ACTIVE_FILTER": "",
    "ACTIVE_SKYQUALITY": "SQM"}

#: The properties snooped on each named device (indiccd.cpp, initProperties).
SNOOPED_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "ACTIVE_TELESCOPE": ("EQUATORIAL_EOD_COORD", "EQUATORIAL_COORD", "TELESCOPE_INFO",
                         "GEOGRAPHIC_COORD", "TELESCOPE_PIER_SIDE"),
    "ACTIVE_ROTATOR": ("ABS_ROTATOR_ANGLE",),
    "ACTIVE_FOCUSER": ("ABS_FOCUS_POSITION", "FOCUS_TEMPERATURE"),
    "ACTIVE_FILTER": ("FILTER_SLOT", "FILTER_NAME"),
    "ACTIVE_SKYQUALITY": ("SKY_QUALITY",),
}

ACTIVE_DEVICES = VectorSpec("ACTIVE_DEVICES", "Snoop devices", OPTIONS_TAB, "rw", tuple(
    TextSpec(name, label, Param(name)) for name, label in MEMBERS), timeout=60)


def active_devices_spec(members: Sequence[tuple[str, str]] = ()) -> VectorSpec:
    """ACTIVE_DEVICES with `members` (name, label) after indilib's: a driver's own devices
    to snoop (our CCD simulator's ACTIVE_LIGHTBOX)."""
    if not members:
        return ACTIVE_DEVICES
    return VectorSpec("ACTIVE_DEVICES", "Snoop devices", OPTIONS_TAB, "rw", tuple(
        TextSpec(name, label, Param(name)) for name, label in (*MEMBERS, *members)), timeout=60)


@dataclass
class SnoopedValues:
    """What the named devices last said; None (or empty) where nothing was heard.

    RA in hours, Dec and angles in degrees; `longitude` as INDI sends it (east, 0..360);
    `pier_side` ``"WEST"`` or ``"EAST"``; `filter_slot` counts from 1.
    """

    ra: float | None = None          # EQUATORIAL_EOD_COORD (JNow)
    dec: float | None = None
    j2000_ra: float | None = None    # EQUATORIAL_COORD (J2000), if the mount has it
    j2000_dec: float | None = None
    aperture: float | None = None
    focal_length: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    pier_side: str | None = None
    rotator_angle: float | None = None
    focus_position: int | None = None
    focus_temperature: float | None = None
    filter_slot: int | None = None
    filter_names: dict[str, str] = field(default_factory=dict)  # FILTER_NAME's members
    sky_quality: float | None = None
    #: A driver's own extra snoops (`ActiveDevices`' `extra`): property -> member -> number.
    numbers: dict[str, dict[str, float]] = field(default_factory=dict)
    #: The same for its snooped switch and text vectors: property -> member -> text ("On").
    texts: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def filter(self) -> str | None:
        """The name of the filter in place, when both the slot and its name are known."""
        slot = self.filter_slot
        if slot is None:
            return None
        # FILTER_SLOT_NAME_<slot>, as wheels name them; else the slot-th member, as indilib.
        name = self.filter_names.get(f"FILTER_SLOT_NAME_{slot}")
        if name is None and 1 <= slot <= len(self.filter_names):
            name = list(self.filter_names.values())[slot - 1]
        return name or None

    def clear(self, vectorname: str) -> None:
        """Forget what `vectorname` said (renamed device, deleted property)."""
        fresh = SnoopedValues()
        for name in _FIELDS.get(vectorname, ()):
            setattr(self, name, getattr(fresh, name))
        self.numbers.pop(vectorname, None)
        self.texts.pop(vectorname, None)

    def take(self, vectorname: str, event: VectorEvent) -> None:
        """Keep what a def/set of `vectorname` says (members it leaves out keep their value)."""
        floats = _floats(event)
        if vectorname == "EQUATORIAL_EOD_COORD":
            self.ra = floats.get("RA", self.ra)
            self.dec = floats.get("DEC", self.dec)
        elif vectorname == "EQUATORIAL_COORD":
            self.j2000_ra = floats.get("RA", self.j2000_ra)
            self.j2000_dec = floats.get("DEC", self.j2000_dec)
        elif vectorname == "TELESCOPE_INFO":
            self.aperture = _positive(floats.get("TELESCOPE_APERTURE"), self.aperture)
            self.focal_length = _positive(floats.get("TELESCOPE_FOCAL_LENGTH"),
                                          self.focal_length)
        elif vectorname == "GEOGRAPHIC_COORD":
            self.latitude = floats.get("LAT", self.latitude)
            self.longitude = floats.get("LONG", self.longitude)
        elif vectorname == "TELESCOPE_PIER_SIDE":
            # As indilib: the side whose switch is On; neither On means not known.
            self.pier_side = ("EAST" if event.get("PIER_EAST") == "On"
                              else "WEST" if event.get("PIER_WEST") == "On" else None)
        elif vectorname == "ABS_ROTATOR_ANGLE":
            self.rotator_angle = floats.get("ANGLE", self.rotator_angle)
        elif vectorname == "ABS_FOCUS_POSITION":
            if "FOCUS_ABSOLUTE_POSITION" in floats:
                self.focus_position = round(floats["FOCUS_ABSOLUTE_POSITION"])
        elif vectorname == "FOCUS_TEMPERATURE":
            self.focus_temperature = floats.get("TEMPERATURE", self.focus_temperature)
        elif vectorname == "FILTER_SLOT":
            if "FILTER_SLOT_VALUE" in floats:
                self.filter_slot = round(floats["FILTER_SLOT_VALUE"])
        elif vectorname == "FILTER_NAME":
            self.filter_names = {**self.filter_names,
                                 **{k: str(v or "").strip() for k, v in event.items()}}
        elif vectorname == "SKY_QUALITY":
            self.sky_quality = floats.get("SKY_BRIGHTNESS", self.sky_quality)
        elif hasattr(event, "getfloatvalue"):
            self.numbers[vectorname] = {**self.numbers.get(vectorname, {}), **floats}
        else:
            self.texts[vectorname] = {**self.texts.get(vectorname, {}),
                                      **{k: str(v or "") for k, v in event.items()}}

    def number(self, vectorname: str, member: str) -> float | None:
        """A member of an extra snooped number vector, None until heard."""
        return self.numbers.get(vectorname, {}).get(member)

    def text(self, vectorname: str, member: str) -> str | None:
        """A member of an extra snooped switch ("On"/"Off") or text vector, None until
        heard."""
        return self.texts.get(vectorname, {}).get(member)


#: The fields of `SnoopedValues` each snooped property fills.
_FIELDS: dict[str, tuple[str, ...]] = {
    "EQUATORIAL_EOD_COORD": ("ra", "dec"),
    "EQUATORIAL_COORD": ("j2000_ra", "j2000_dec"),
    "TELESCOPE_INFO": ("aperture", "focal_length"),
    "GEOGRAPHIC_COORD": ("latitude", "longitude"),
    "TELESCOPE_PIER_SIDE": ("pier_side",),
    "ABS_ROTATOR_ANGLE": ("rotator_angle",),
    "ABS_FOCUS_POSITION": ("focus_position",),
    "FOCUS_TEMPERATURE": ("focus_temperature",),
    "FILTER_SLOT": ("filter_slot",),
    "FILTER_NAME": ("filter_names",),
    "SKY_QUALITY": ("sky_quality",),
}


def _floats(event: VectorEvent) -> dict[str, float]:
    """The event's members that are numbers (a snooped number vector parses them; any other
    kind of vector under a snooped name gives none)."""
    getfloat = getattr(event, "getfloatvalue", None)
    if getfloat is None:
        return {}
    values: dict[str, float] = {}
    for name in event:
        try:
            values[name] = float(getfloat(name))
        except (KeyError, ValueError, TypeError):
            continue  # a member that is not a number: another device's mistake, left out
    return values


def _positive(value: float | None, old: float | None) -> float | None:
    """A size that means something (indilib treats 0 as "not set")."""
    if value is None:
        return old
    return value if value > 0 else None


class ActiveDevices:
    """ACTIVE_DEVICES and the values snooped from the devices it names.

    `requests()` are the (device, property) snoops to send for the current names; a client's
    new names go through `rename`, which returns the requests the change calls for and forgets
    what the old devices said; `take` keeps a snooped def/set (or forgets on a delProperty)
    when it comes from the device named for that property. `extra` adds number properties a
    driver snoops beyond indilib's INDI::CCD, by member (a CCD simulator's focuser FWHM, as
    indilib's CCD simulator snoops it): kept in `SnoopedValues.numbers` (switch and text
    vectors in `SnoopedValues.texts`), in no header card. `members` (name, label) adds
    members of the driver's own to ACTIVE_DEVICES after indilib's (empty at start unless
    `names` names them), each snooping what `extra` gives it, left out of the config file
    (indilib's CCD would refuse the whole vector for a member it lacks).
    """

    def __init__(self, names: Mapping[str, str] | None = None,
                 extra: Mapping[str, Sequence[str]] | None = None,
                 members: Sequence[tuple[str, str]] = ()) -> None:
        chosen = dict(DEFAULT_ACTIVE_DEVICES)
        chosen.update((name, "") for name, _ in members)
        for key, value in (names or {}).items():
            if key not in chosen:
                raise ValueError(f"{key!r} is not one of ACTIVE_DEVICES' members "
                                 f"{list(chosen)}")
            chosen[key] = value
        self.vector = build((active_devices_spec(members),), **chosen).vector(
            "ACTIVE_DEVICES", TextVector)
        # indilib's CCD refuses a saved ACTIVE_DEVICES naming a member it lacks: ours unsaved.
        self.vector.unsaved = frozenset(name for name, _ in members)
        self.values = SnoopedValues()
        self.snooped: dict[str, tuple[str, ...]] = {
            **SNOOPED_PROPERTIES, **{name: () for name, _ in members}}
        for member, props in (extra or {}).items():
            if member not in self.snooped:
                raise ValueError(f"{member!r} is not one of ACTIVE_DEVICES' members "
                                 f"{list(chosen)}")
            self.snooped[member] = (*self.snooped[member],
                                    *(p for p in props if p not in self.snooped[member]))
        # property name -> the ACTIVE_DEVICES member naming the device it is snooped on
        self._member_of = {prop: member for member, props in self.snooped.items()
                           for prop in props}

    def name(self, member: str) -> str:
        """The device named by `member` (``"ACTIVE_TELESCOPE"``...), "" for none."""
        return str(self.vector[member] or "").strip()

    def requests(self, members: Any = None) -> list[tuple[str, str]]:
        """The (device, property) snoop requests for `members` (all by default) that name a
        device."""
        wanted = self.snooped if members is None else members
        return [(self.name(member), prop) for member in wanted
                for prop in self.snooped[member] if self.name(member)]

    def rename(self, new: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Take a client's new names (members it leaves out keep theirs); the snoop requests
        for the devices that changed. What a replaced device said is forgotten."""
        changed = []
        for member, value in new.items():
            if member not in self.snooped:
                continue
            text = str(value or "").strip()
            if text != self.name(member):
                changed.append(member)
                for prop in self.snooped[member]:
                    self.values.clear(prop)
            self.vector[member] = text
        return self.requests(changed)

    @property
    def telescope_heard(self) -> bool:
        """Whether the named telescope has said anything the header uses."""
        v = self.values
        return any(x is not None for x in (v.ra, v.j2000_ra, v.aperture, v.focal_length,
                                           v.latitude, v.pier_side))

    def take(self, event: RxEvent) -> bool:
        """Keep what a snooped event says, if it is about a property snooped on the device
        named for it; True if it was."""
        device, prop = event.devicename, event.vectorname
        if isinstance(event, delProperty):
            props = [p for p, m in self._member_of.items() if self.name(m) == device
                     and (prop is None or p == prop)]
            for p in props:
                self.values.clear(p)
            return bool(props)
        member = self._member_of.get(prop or "")
        if member is None or not device or device != self.name(member):
            return False
        if isinstance(event, VectorEvent):
            self.values.take(prop or "", event)
            logger.debug("snooped %s.%s", device, prop)
            return True
        return False
