"""A thermostat whose driver delegates to a Device subclass, in the style of indipydriver
3.x's example 4.

    python delegate.py [PORT] [--stdio] [--fast]
"""

import asyncio

import thermostat

import indipydriver as ipd


class DelegateDriver(ipd.IPyDriver):
    """Hands each event to its device, and runs each device's devhardware."""

    async def rxevent(self, event):
        if event.devicename in self:
            await self[event.devicename].devrxevent(event)

    async def hardware(self):
        for device in self.values():
            self.add_background(device.devhardware())


class ThermoDevice(ipd.Device):
    """Runs its ThermalControl, takes a target, reports the temperature."""

    async def devrxevent(self, event, *args, **kwargs):
        thermalcontrol = self.devicedata["thermalcontrol"]
        if (isinstance(event, ipd.newNumberVector) and event.vectorname == "targetvector"
                and "target" in event):
            try:
                target = self.indi_number_to_float(event["target"])
            except TypeError:
                return
            thermalcontrol.target = target
            event.vector["target"] = target
            await event.vector.send_setVector()

    async def devhardware(self, *args, **kwargs):
        thermalcontrol = self.devicedata["thermalcontrol"]
        self.add_background(thermalcontrol.run_thermostat())
        vector = self["temperaturevector"]
        while not self.stop:
            await asyncio.sleep(thermostat.TIMING["report"])
            vector["temperature"] = round(thermalcontrol.temperature, 2)
            await vector.send_setVector()


def make_driver(devicename, target):
    thermalcontrol = thermostat.ThermalControl(target)
    temperature = ipd.NumberMember(name="temperature", format="%3.1f", min=-50, max=99,
                                   membervalue=thermalcontrol.temperature)
    temperaturevector = ipd.NumberVector(name="temperaturevector", label="Temperature",
                                         group="Values", perm="ro", state="Ok",
                                         numbermembers=[temperature])
    target = ipd.NumberMember(name="target", format="%3.1f", min=-50, max=99,
                              membervalue=thermalcontrol.target)
    targetvector = ipd.NumberVector(name="targetvector", label="Target", group="Values",
                                    perm="rw", state="Ok", numbermembers=[target])
    device = ThermoDevice(devicename=devicename,
                          properties=[temperaturevector, targetvector],
                          thermalcontrol=thermalcontrol)
    return DelegateDriver(device)


if __name__ == "__main__":
    thermostat.serve(make_driver("Thermostat", 15), *thermostat.options(), name=__file__)
