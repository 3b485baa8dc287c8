"""The demonstration driver: a simulated thermostat that uses every kind of INDI vector.

``indipyserver --demo`` serves it, ``examples/thermostat.py`` runs it, and the documentation
walks through it. No hardware is needed: a tiny physical model stands in for a heater in a
room that loses heat to a cold outside.

Device ``"Thermostat"`` (DRIVER_INFO's DRIVER_INTERFACE: AUX, 32768, a device of no standard
role; so it also has the standard CONNECTION, DRIVER_INFO and DEBUG, first among its vectors):

==================== ========= ============================================================
vector               kind      what it shows
==================== ========= ============================================================
``TEMPERATURE``      Number    read-only (``ro``), updated by :meth:`ThermostatDriver.hardware`
``TARGET``           Number    a client-set value limited to -20 .. 40 (min/max checked)
``HEATER_MODE``      Switch    ``OneOfMany``: AUTO / ON / OFF
``HEATER``           Light     ``HEATING`` is Busy while the heater runs; ``FROST`` is Alert
                               below 2 degrees
``SITE``             Text      a label a client may change (``NAME``) and ``FIRMWARE``,
                               which the driver keeps as it is
``LOG``              BLOB      a CSV of the last readings, sent every ``log_every`` readings
==================== ========= ============================================================
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import deque
from dataclasses import dataclass
from dataclasses import field

from indipycore.interface import Interface
from indipydriver import BLOBMember
from indipydriver import BLOBVector
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import LightMember
from indipydriver import LightVector
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import RxEvent
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver import newNumberVector
from indipydriver import newSwitchVector
from indipydriver import newTextVector

__all__ = ["DEVICE", "Room", "ThermostatDriver", "make_driver"]

logger = logging.getLogger(__name__)

DEVICE = "Thermostat"
FIRMWARE = "indipy demo thermostat 1.0"


@dataclass
class Room:
    """A room warmed by a heater and cooled by the outside: the "hardware" being controlled.

    Each :meth:`step` moves the temperature a fraction of the way towards the outside
    temperature and adds ``heating_rate`` while the heater is on.
    """

    temperature: float = 15.0
    outside: float = 5.0
    target: float = 20.0
    mode: str = "AUTO"  # AUTO: thermostat decides, ON/OFF: forced
    heater_on: bool = False
    heating_rate: float = 2.0  # with loss 0.05: up to 40 degrees above outside
    loss: float = 0.05
    readings: deque[tuple[int, float, bool]] = field(default_factory=lambda: deque(maxlen=100))
    count: int = 0

    def step(self) -> None:
        """Advance the simulation by one reading and record it."""
        if self.mode == "AUTO":
            # half a degree of hysteresis, like a real bimetal thermostat
            if self.temperature < self.target - 0.5:
                self.heater_on = True
            elif self.temperature > self.target + 0.5:
                self.heater_on = False
        else:
            self.heater_on = self.mode == "ON"
        self.temperature += (self.outside - self.temperature) * self.loss
        if self.heater_on:
            self.temperature += self.heating_rate
        self.count += 1
        self.readings.append((self.count, round(self.temperature, 3), self.heater_on))

    def csv_log(self) -> bytes:
        """The recorded readings as CSV bytes (the BLOB payload)."""
        out = io.StringIO()
        out.write("reading,temperature,heater\n")
        for count, temperature, heater in self.readings:
            out.write(f"{count},{temperature:.3f},{int(heater)}\n")
        return out.getvalue().encode("ascii")


class ThermostatDriver(IPyDriver):
    """Serves one :class:`Room` as the INDI device ``"Thermostat"``.

    ``driverdata``: ``room`` (the :class:`Room`), ``interval`` (seconds between readings) and
    ``log_every`` (readings between two ``LOG`` BLOBs).
    """

    async def rxevent(self, event: RxEvent) -> None:
        room: Room = self.driverdata["room"]
        if event.devicename != DEVICE:
            return
        match event:
            case newNumberVector(vectorname="TARGET") if "TARGET" in event:
                # The framework has already parsed the value (sexagesimal too) and refused
                # anything outside min..max; getfloatvalue gives it as a float.
                room.target = event.getfloatvalue("TARGET")
                event.vector["TARGET"] = room.target
                event.vector.state = "Ok"
                await event.vector.send_setVector()
            case newSwitchVector(vectorname="HEATER_MODE"):
                # OneOfMany: the client sends the member it turns On; reply with all three.
                chosen = [name for name, value in event.items() if value == "On"]
                if chosen:
                    room.mode = chosen[0]
                    for name in ("AUTO", "ON", "OFF"):
                        event.vector[name] = "On" if name == room.mode else "Off"
                    event.vector.state = "Ok"
                await event.vector.send_setVector()
            case newTextVector(vectorname="SITE") if "NAME" in event:
                event.vector["NAME"] = event["NAME"]
                event.vector.state = "Ok"
                await event.vector.send_setVector()

    async def hardware(self) -> None:
        room: Room = self.driverdata["room"]
        interval: float = self.driverdata.get("interval", 2.0)
        log_every: int = self.driverdata.get("log_every", 10)
        device = self[DEVICE]
        while True:
            await asyncio.sleep(interval)
            room.step()
            temperature = device["TEMPERATURE"]
            temperature["TEMPERATURE"] = round(room.temperature, 2)  # its format, %.2f
            temperature.state = "Ok"
            await temperature.send_setVector(timeout=str(max(1, round(3 * interval))))
            lights = device["HEATER"]
            lights["HEATING"] = "Busy" if room.heater_on else "Idle"
            lights["FROST"] = "Alert" if room.temperature < 2.0 else "Ok"
            await lights.send_setVector()
            if room.count % log_every == 0:
                log = device.vector("LOG", BLOBVector)
                data = room.csv_log()
                log["LOG"] = data
                log.set_blobsize("LOG", len(data))
                log.set_blobformat("LOG", ".csv")
                log.state = "Ok"
                await log.send_setVectorMembers(members=["LOG"])


def make_driver(interval: float = 2.0, log_every: int = 10, room: Room | None = None) -> ThermostatDriver:
    """Build the thermostat driver; ``interval`` is the time between readings in seconds."""
    room = room if room is not None else Room()
    temperature = NumberVector(
        name="TEMPERATURE", label="Temperature", group="Status", perm="ro", state="Idle",
        numbermembers=[NumberMember(name="TEMPERATURE", label="Room (C)", format="%.2f",
                                    min="-50", max="100", step="0",
                                    membervalue=round(room.temperature, 2))])
    target = NumberVector(
        name="TARGET", label="Target", group="Control", perm="rw", state="Ok",
        numbermembers=[NumberMember(name="TARGET", label="Target (C)", format="%.1f",
                                    min="-20", max="40", step="0.5", membervalue=room.target)])
    mode = SwitchVector(
        name="HEATER_MODE", label="Heater mode", group="Control", perm="rw", rule="OneOfMany",
        state="Ok", switchmembers=[
            SwitchMember(name="AUTO", label="Automatic", membervalue="On"),
            SwitchMember(name="ON", label="Always on", membervalue="Off"),
            SwitchMember(name="OFF", label="Always off", membervalue="Off")])
    lights = LightVector(
        name="HEATER", label="Heater", group="Status", state="Idle", lightmembers=[
            LightMember(name="HEATING", label="Heating", membervalue="Idle"),
            LightMember(name="FROST", label="Frost warning", membervalue="Idle")])
    site = TextVector(
        name="SITE", label="Site", group="Control", perm="rw", state="Idle", textmembers=[
            TextMember(name="NAME", label="Site name", membervalue="Observatory"),
            TextMember(name="FIRMWARE", label="Firmware", membervalue=FIRMWARE)])
    log = BLOBVector(
        name="LOG", label="Temperature log", group="Status", perm="ro", state="Idle",
        blobmembers=[BLOBMember(name="LOG", label="CSV log")])
    # A thermostat has none of indilib's standard roles (not a weather station: no
    # WEATHER_STATUS, no safety limits), so it reports AUX -- indilib's bit for such devices;
    # 0 would mean "general", which Ekos offers in no module. That makes it a standard
    # device: CONNECTION, DRIVER_INFO and DEBUG come first. Its own vectors are defined
    # whether or not a client connects it (the room is simulated all the time).
    device = Device(DEVICE, [temperature, target, mode, lights, site, log],
                    interface=Interface.AUX, driver_exec="indi_py_thermostat")
    return ThermostatDriver(device, room=room, interval=interval, log_every=log_every)
