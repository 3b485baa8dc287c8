"""A driver with every kind of vector for indipyterm's tests (and its screenshots).

Device ``Kit``: texts, numbers (a sexagesimal one), the three switch rules, lights, a BLOB it
sends and a BLOB clients may upload. Device ``Weather``: a read-only number and a light, so
the start screen lists two devices. Everything a client sends is recorded in ``received`` and
answered with the new values, state Ok, as a real driver would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import indipydriver as ipd


def make_kit() -> ipd.Device:
    setup = ipd.TextVector(
        "SETUP", "Observer", "Values", "rw", "Idle",
        [ipd.TextMember("NAME", "Name", "Ada"), ipd.TextMember("SITE", "Site", "Home")],
    )
    target = ipd.NumberVector(
        "TARGET", "Target", "Values", "rw", "Idle",
        [ipd.NumberMember("TEMP", "Temperature", "%.2f", 0, 100, 0.5, 21.0)],
    )
    coords = ipd.NumberVector(
        "COORDS", "Coordinates", "Values", "rw", "Idle",
        [
            ipd.NumberMember("RA", "RA (hours)", "%010.6m", 0, 24, 0, 5.5),
            ipd.NumberMember("DEC", "Dec (degrees)", "%010.6m", -90, 90, 0, -10.505),
        ],
    )
    readout = ipd.NumberVector(
        "READOUT", "Readout", "Values", "ro", "Ok",
        [ipd.NumberMember("LEVEL", "Level", "%.3f", 0, 0, 0, 1.0)],
    )
    power = ipd.SwitchVector(
        "POWER", "Power", "Switches", "rw", "OneOfMany", "Idle",
        [ipd.SwitchMember("ON", "On", "Off"), ipd.SwitchMember("OFF", "Off", "On")],
    )
    options = ipd.SwitchVector(
        "OPTIONS", "Options", "Switches", "rw", "AnyOfMany", "Idle",
        [ipd.SwitchMember("FAN", "Fan", "Off"), ipd.SwitchMember("DEW", "Dew heater", "On")],
    )
    mode = ipd.SwitchVector(
        "MODE", "Mode", "Switches", "rw", "AtMostOne", "Idle",
        [ipd.SwitchMember("FAST", "Fast", "Off"), ipd.SwitchMember("SLOW", "Slow", "Off")],
    )
    lights = ipd.LightVector(
        "HEALTH", "Health", "Status", "Ok",
        [
            ipd.LightMember("GOOD", "Good", "Ok"),
            ipd.LightMember("WARN", "Warning", "Alert"),
            ipd.LightMember("SPARE", "Spare", "Idle"),
        ],
    )
    roof = ipd.SwitchVector(
        "ROOF", "Roof", "Status", "ro", "OneOfMany", "Ok",
        [ipd.SwitchMember("OPEN", "Open", "On"), ipd.SwitchMember("SHUT", "Shut", "Off")],
    )
    image = ipd.BLOBVector(
        "IMAGE", "Image", "Images", "ro", "Idle", [ipd.BLOBMember("FRAME", "Frame", blobformat=".txt")]
    )
    upload = ipd.BLOBVector(
        "UPLOAD", "Upload", "Images", "wo", "Idle", [ipd.BLOBMember("FILE", "File")]
    )
    return ipd.Device(
        "Kit",
        [setup, target, coords, readout, power, options, mode, lights, roof, image, upload],
        standard=False,  # the panels and tabs the term tests count are these alone
    )


def make_weather() -> ipd.Device:
    temperature = ipd.NumberVector(
        "TEMPERATURE", "Temperature", "Sky", "ro", "Ok",
        [ipd.NumberMember("OUTSIDE", "Outside (C)", "%.1f", -50, 50, 0, 4.5)],
    )
    clouds = ipd.LightVector(
        "CLOUDS", "Clouds", "Sky", "Idle", [ipd.LightMember("CLEAR", "Clear", "Ok")]
    )
    return ipd.Device("Weather", [temperature, clouds], standard=False)


class KitDriver(ipd.IPyDriver):
    """Records every new*Vector from clients and answers it with the values, state Ok."""

    def __init__(self) -> None:
        super().__init__(make_kit(), make_weather())
        self.received: list[Any] = []
        self.arrived = asyncio.Event()
        self._taken = 0

    async def rxevent(self, event: Any) -> None:
        if isinstance(event, (ipd.newTextVector, ipd.newNumberVector, ipd.newSwitchVector,
                              ipd.newBLOBVector)):
            self.received.append(event)
            self.arrived.set()
            vector = event.vector
            if isinstance(event, ipd.newBLOBVector):
                await vector.send_setVector(state="Ok", allvalues=False)
                return
            for name, value in event.items():
                vector[name] = value
            await vector.send_setVector(state="Ok")

    async def next_received(self, timeout: float = 10.0) -> Any:
        """The first new*Vector not yet returned by this method (waits for it)."""
        async with asyncio.timeout(timeout):
            while len(self.received) <= self._taken:
                self.arrived.clear()
                await self.arrived.wait()
        self._taken += 1
        return self.received[self._taken - 1]
