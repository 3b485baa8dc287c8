"""A thermostat, in the style of indipydriver 3.x's examples 1 and 2: it reports its
temperature, and a client may set the target it keeps the temperature near.

    python thermostat.py [PORT] [--stdio] [--fast]
"""

import asyncio
import sys

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import getProperties
from indipydriver import newNumberVector
from indipydriver import version
from indipyserver import IPyServer

# Seconds between simulation steps and between reports; --fast shortens both.
TIMING = {"step": 2.0, "report": 10.0}


class ThermalControl:
    """A simulated heater and sensor: variables only."""

    def __init__(self, target=15):
        self.temperature = 20
        self.target = target
        self.heater = "Off"

    async def run_thermostat(self):
        """Warms up while the heater is on, cools down while it is off, switching the heater
        when the temperature strays half a degree from the target."""
        while True:
            await asyncio.sleep(TIMING["step"])
            if self.heater == "On":
                self.temperature += 0.1
            else:
                self.temperature -= 0.1
            if self.temperature > self.target + 0.5:
                self.heater = "Off"
            if self.temperature < self.target - 0.5:
                self.heater = "On"


class ThermoDriver(IPyDriver):
    """Reports the temperature; sets the target a client asks for."""

    async def rxevent(self, event):
        match event:
            case getProperties():
                await event.vector.send_defVector()
            case newNumberVector(devicename="Thermostat",
                                 vectorname="targetvector") if "target" in event:
                try:
                    target = self.indi_number_to_float(event["target"])
                except TypeError:
                    return
                self.driverdata["thermalcontrol"].target = target
                event.vector["target"] = event["target"]
                await event.vector.send_setVector(state="Ok")

    async def hardware(self):
        thermalcontrol = self.driverdata["thermalcontrol"]
        self.add_background(thermalcontrol.run_thermostat())
        vector = self["Thermostat"]["temperaturevector"]
        while not self.stop:
            await asyncio.sleep(TIMING["report"])
            vector["temperature"] = round(thermalcontrol.temperature, 2)
            await vector.send_setVector()


def make_driver(thermalcontrol):
    temperature = NumberMember(name="temperature", format="%3.1f", min=-50, max=99,
                               membervalue=thermalcontrol.temperature)
    temperaturevector = NumberVector(name="temperaturevector", label="Temperature",
                                     group="Values", perm="ro", state="Ok",
                                     numbermembers=[temperature])
    target = NumberMember(name="target", format="%3.1f", min=-50, max=99,
                          membervalue=thermalcontrol.target)
    targetvector = NumberVector(name="targetvector", label="Target", group="Values",
                                perm="rw", state="Ok", numbermembers=[target])
    targetvector.timeout = 8  # a client may wait this long for the target to be set
    thermostat = Device(devicename="Thermostat",
                        properties=[temperaturevector, targetvector])
    return ThermoDriver(thermostat, thermalcontrol=thermalcontrol)


def options():
    """(port, stdio) from the command line; --fast speeds the simulation up."""
    if "--fast" in sys.argv:
        TIMING.update(step=0.05, report=0.2)
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    return (int(args[0]) if args else 7624), "--stdio" in sys.argv


def serve(driver, port, stdio, name=__file__):
    """Run `driver` on stdin/stdout (--stdio), or in a server on `port` (delegate.py too)."""
    if stdio:
        asyncio.run(driver.asyncrun())
    else:
        server = IPyServer(driver, port=port)
        print(f"Running {name} with indipydriver {version}")
        asyncio.run(server.asyncrun())


if __name__ == "__main__":
    serve(make_driver(ThermalControl()), *options())
