"""`CameraSettings`: what an Alpaca camera has beyond the `Camera` role, as indilib's CCD
drivers define it: the colour filter array and the gain and offset.

- A colour sensor (Alpaca SensorType 2 RGGB, 3 CMYG, 4 CMYG2, 5 LRGB, with BayerOffsetX/Y)
  gives CCD_CFA (CFA_OFFSET_X, CFA_OFFSET_Y, CFA_TYPE; "Bayer Info", Image Info, rw), as
  indilib's CCD defines it for a Bayer sensor, and every image's FITS header gets XBAYROFF,
  YBAYROFF and BAYERPAT from it. The pattern and the offsets are passed as they are: FITS
  readers (and Alpaca) read BAYERPAT RGGB with XBAYROFF 1 as GRBG at the first pixel.
- Gain and Offset in value mode (GainMin/GainMax readable) give CCD_GAIN (GAIN) and
  CCD_OFFSET (OFFSET), number vectors in Main Control with the camera's range, the names our
  Alpaca face serves Gain and Offset from; a new value is the Alpaca PUT, and the vector shows
  what the camera then reads back (Alert with its message if it refused).
- Gain and Offset in list mode (Gains/Offsets a list of names, Gain/Offset an index, as
  alpaca-simulators has them) give CCD_GAINS and CCD_OFFSETS instead: OneOfMany switch
  vectors of the names (members GAIN_0, GAIN_1... in the list's order), not CCD_GAIN: a client
  that reads CCD_GAIN's number must not take an index for a gain. A choice is the Alpaca PUT
  of its index, and the vector shows the index the camera then reads back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from indipyalpaca.wire import ErrorNumber
from indipycore.fits import Card
from indipycore.interface import Interface
from indipydriver.members import SwitchMember
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.rxevents import newNumberVector
from indipydriver.rxevents import newSwitchVector
from indipydriver.standard.groups import IMAGE_INFO_TAB
from indipydriver.standard.groups import MAIN_CONTROL_TAB
from indipydriver.standard.role import RoleDevice
from indipydriver.standard.role import accept_values
from indipydriver.standard.vectortables import NumberSpec
from indipydriver.standard.vectortables import Param
from indipydriver.standard.vectortables import TextSpec
from indipydriver.standard.vectortables import VectorSpec
from indipydriver.standard.vectortables import build
from indipydriver.vectors import NumberVector
from indipydriver.vectors import PropertyVector
from indipydriver.vectors import TextVector

from .client import AlpacaClient
from .client import AlpacaError

__all__ = ["CFA_NAMES", "CameraSettings", "Cfa", "Choices", "Level", "read_cfa", "read_level"]

logger = logging.getLogger(__name__)

#: Alpaca SensorType -> the mosaic's name (BAYERPAT, CFA_TYPE); 0 is mono, 1 full colour.
CFA_NAMES = {2: "RGGB", 3: "CMYG", 4: "CMYG2", 5: "LRGB"}


@dataclass(frozen=True)
class Cfa:
    """A colour filter array: its pattern's name and where it starts (Alpaca BayerOffsetX/Y)."""

    pattern: str
    x: int = 0
    y: int = 0


@dataclass(frozen=True)
class Level:
    """A gain or an offset in value mode: its range and its value when read."""

    low: int
    high: int
    value: int


@dataclass(frozen=True)
class Choices:
    """A gain or an offset in list mode: the names and the index chosen when read."""

    names: tuple[str, ...]
    index: int

    def switches(self, member: str) -> list[SwitchMember]:
        return [SwitchMember(f"{member}_{n}", name, "On" if n == self.index else "Off")
                for n, name in enumerate(self.names)]


def _choices(name: str, label: str, member: str) -> VectorSpec:
    return VectorSpec(name, label, MAIN_CONTROL_TAB, "rw", Param(f"{member}_switches"),
                      rule="OneOfMany", timeout=60, when=f"{member}_list")


def _level(name: str, label: str) -> VectorSpec:
    member = name.removeprefix("CCD_")
    return VectorSpec(name, label, MAIN_CONTROL_TAB, "rw", (
        NumberSpec(member, "value", "%.f", Param(f"{member}_low"), Param(f"{member}_high"), 1,
                   Param(member)),), timeout=60, when=member.lower())


TABLE = (
    _level("CCD_GAIN", "Gain"),
    _level("CCD_OFFSET", "Offset"),
    _choices("CCD_GAINS", "Gain", "GAIN"),
    _choices("CCD_OFFSETS", "Offset", "OFFSET"),
    VectorSpec("CCD_CFA", "Bayer Info", IMAGE_INFO_TAB, "rw", (
        TextSpec("CFA_OFFSET_X", "X Offset", Param("cfa_x")),
        TextSpec("CFA_OFFSET_Y", "Y Offset", Param("cfa_y")),
        TextSpec("CFA_TYPE", "Filter", Param("cfa_type")),
    ), timeout=60, when="cfa"),
)


def _optional(error: AlpacaError) -> None:
    """An Alpaca error that means "this camera has no such thing" passes; NotConnected (the
    description is retried connected) propagates."""
    if error.number == ErrorNumber.NOT_CONNECTED:
        raise error


async def read_cfa(client: AlpacaClient, path: str) -> Cfa | None:
    """The camera's colour filter array, None for a mono sensor; ValueError for a full-colour
    one (SensorType 1: three planes per image, not taken)."""
    sensor_type = await client.get(path, "sensortype")
    if sensor_type in (0, None):
        return None
    if sensor_type not in CFA_NAMES:
        raise ValueError(f"{path} has a full-colour sensor (SensorType {sensor_type}): only "
                         "mono and mosaic (Bayer) sensors are supported")
    offsets = []
    for member in ("bayeroffsetx", "bayeroffsety"):
        try:
            offsets.append(int(await client.get(path, member)))
        except AlpacaError as exc:
            _optional(exc)
            offsets.append(0)
    return Cfa(CFA_NAMES[sensor_type], offsets[0], offsets[1])


async def read_level(client: AlpacaClient, path: str, member: str) -> Level | Choices | None:
    """The camera's `member` ("gain" or "offset"): a `Level` in value mode, `Choices` in list
    mode, None when it has neither."""
    try:
        low = int(await client.get(path, f"{member}min"))
        high = int(await client.get(path, f"{member}max"))
        return Level(low, high, int(await client.get(path, member)))
    except AlpacaError as exc:
        _optional(exc)
        why = str(exc)
    try:
        names = await client.get(path, f"{member}s")
        index = int(await client.get(path, member))
    except AlpacaError as exc:
        _optional(exc)
        logger.info("%s: no %s (%s; %s)", path, member, why, exc)
        return None
    if not isinstance(names, list) or not names:
        logger.info("%s: no %s (%s; %ss is %r)", path, member, why, member, names)
        return None
    return Choices(tuple(str(name) for name in names), index)


class CameraSettings:
    """The role of CCD_GAIN, CCD_OFFSET and CCD_CFA for the Alpaca camera at `path`."""

    interface = Interface.GENERAL
    #: Saved by CONFIG_SAVE (indilib's Alpaca CCD saves its gain and offset).
    config_names = ("CCD_GAIN", "CCD_OFFSET", "CCD_GAINS", "CCD_OFFSETS")

    def __init__(self, client: AlpacaClient, path: str, *, cfa: Cfa | None,
                 gain: Level | Choices | None, offset: Level | Choices | None) -> None:
        self.client = client
        self.path = path
        values: dict[str, Any] = {}
        for member, found in (("GAIN", gain), ("OFFSET", offset)):
            level = found if isinstance(found, Level) else Level(0, 0, 0)
            values.update({member.lower(): isinstance(found, Level), f"{member}_low": level.low,
                           f"{member}_high": level.high, member: level.value,
                           f"{member}_list": isinstance(found, Choices),
                           f"{member}_switches": found.switches(member)
                           if isinstance(found, Choices) else []})
        made = build(TABLE, cfa=cfa is not None, cfa_x=str(cfa.x if cfa else 0),
                     cfa_y=str(cfa.y if cfa else 0), cfa_type=cfa.pattern if cfa else "",
                     **values)
        self.cfa = made.optional("CCD_CFA", TextVector)
        self._vectors = list(made.values())
        #: Each gain or offset vector's Alpaca member.
        self._levels = {"CCD_GAIN": "gain", "CCD_OFFSET": "offset", "CCD_GAINS": "gain",
                        "CCD_OFFSETS": "offset"}

    @property
    def empty(self) -> bool:
        return not self._vectors

    def vectors(self) -> Sequence[PropertyVector]:
        return self._vectors

    def attach(self, device: RoleDevice) -> None:
        pass

    async def connected(self) -> None:
        pass

    async def disconnected(self) -> None:
        pass

    async def read(self) -> None:
        """Take the camera's gain and offset now (on connect: they may have changed)."""
        for vector in self._vectors:
            if vector.name in self._levels:
                self._show(vector, int(await self.client.get(self.path,
                                                             self._levels[vector.name])))

    def _show(self, vector: PropertyVector, value: int) -> None:
        """`value` (a level, or a list's index) in `vector`."""
        member = self._levels[vector.name].upper()
        if isinstance(vector, NumberVector):
            vector[member] = value
        elif f"{member}_{value}" in vector:
            vector[f"{member}_{value}"] = "On"
        else:  # an index outside the list: no choice is the camera's
            for name in vector:
                vector[name] = "Off"

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        if event.vectorname == "CCD_CFA":
            await accept_values(event)
            return
        if event.vectorname not in self._levels:
            return
        vector = event.vector
        member = self._levels[vector.name]
        name = member.upper()
        if isinstance(event, newNumberVector) and name in event:
            asked = round(event.getfloatvalue(name))
        elif isinstance(event, newSwitchVector):
            chosen = [n for n, v in event.items() if v == "On" and n.startswith(f"{name}_")]
            if not chosen:
                await vector.send_setVector()
                return
            asked = int(chosen[0].rpartition("_")[2])
        else:
            await vector.send_setVector()
            return
        try:
            await self.client.put(self.path, member, **{member.title(): asked})
            self._show(vector, int(await self.client.get(self.path, member)))
        except AlpacaError as exc:
            await vector.send_setVector(state="Alert", message=f"{member.title()} refused: "
                                                               f"{exc}"[:250])
            return
        await vector.send_setVector(state="Ok")

    def cards(self) -> list[Card]:
        """The FITS cards of the colour filter array (none for a mono sensor), as indilib's
        CCD writes them."""
        if self.cfa is None:
            return []
        cards: list[Card] = []
        for keyword, member, axis in (("XBAYROFF", "CFA_OFFSET_X", "X"),
                                      ("YBAYROFF", "CFA_OFFSET_Y", "Y")):
            try:
                offset = int(self.cfa[member] or 0)
            except ValueError:  # a client wrote something else into CCD_CFA
                offset = 0
            cards.append((keyword, offset, f"{axis} offset of Bayer array"))
        cards.append(("BAYERPAT", self.cfa["CFA_TYPE"], "Bayer color pattern"))
        return cards
