"""A window that snoops on the thermostat, in the style of indipydriver 3.x's example 3: it
closes when the temperature falls below 18 and opens when it rises above 21.

    python window.py [PORT] [--stdio] [--fast]

Served with the thermostat by one IPyServer; with --stdio, the window driver alone (run the
thermostat beside it under indiserver).
"""

import asyncio
import time

import thermostat

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver import setNumberVector
from indipydriver import version
from indipyserver import IPyServer


class WindowControl:
    """A simulated window: variables only."""

    def __init__(self):
        self.window = "Open"
        self.update_time = time.time()

    def set_window(self, temperature):
        if temperature > 21:
            self.window = "Open"
        if temperature < 18:
            self.window = "Closed"
        self.update_time = time.time()


class WindowDriver(IPyDriver):
    """Reports the window's position, which follows the snooped temperature."""

    async def hardware(self):
        # A plain call: the request is sent, and repeated after 10 quiet seconds.
        self.snoop("Thermostat", "temperaturevector", timeout=10)
        windowcontrol = self.driverdata["windowcontrol"]
        statusvector = self["Window"]["windowstatus"]
        while not self.stop:
            await asyncio.sleep(thermostat.TIMING["report"])
            statusvector["status"] = windowcontrol.window
            await statusvector.send_setVector(allvalues=False)

    async def snoopevent(self, event):
        windowcontrol = self.driverdata["windowcontrol"]
        match event:
            case setNumberVector(devicename="Thermostat",
                                 vectorname="temperaturevector") if "temperature" in event:
                try:
                    temperature = self.indi_number_to_float(event["temperature"])
                except TypeError:
                    return
                windowcontrol.set_window(temperature)


def make_driver(windowcontrol):
    status = TextMember(name="status", label="Window position",
                        membervalue=windowcontrol.window)
    windowstatus = TextVector(name="windowstatus", label="Window Status", group="Values",
                              perm="ro", state="Ok", textmembers=[status])
    window = Device(devicename="Window", properties=[windowstatus])
    return WindowDriver(window, windowcontrol=windowcontrol)


if __name__ == "__main__":
    port, stdio = thermostat.options()
    windowdriver = make_driver(WindowControl())
    if stdio:
        asyncio.run(windowdriver.asyncrun())
    else:
        thermodriver = thermostat.make_driver(thermostat.ThermalControl())
        server = IPyServer(thermodriver, windowdriver, port=port)
        print(f"Running {__file__} with indipydriver {version}")
        asyncio.run(server.asyncrun())
