"""Every property of the (unconnected) simulators with its attributes and elements, and how many
times newProperty told each: what a generic INDI control panel reads."""

import collections
import time

from scriptkit import server
from scriptkit import wait

import PyIndi

SETTLE = 1.5  # seconds without a new property before the list counts as complete


class Dumper(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.told = collections.Counter()
        self.last_new = time.monotonic()

    def newProperty(self, prop):
        self.told[(prop.getDeviceName(), prop.getName())] += 1
        self.last_new = time.monotonic()


def element(prop, widget):
    kind = prop.getType()
    if kind == PyIndi.INDI_NUMBER:
        return (f"{widget.getValue():g} [{widget.getMin():g}, {widget.getMax():g}] "
                f"step {widget.getStep():g} {widget.getFormat()}")
    if kind == PyIndi.INDI_SWITCH:
        return widget.getStateAsString()
    if kind == PyIndi.INDI_TEXT:
        return repr(widget.getText())
    if kind == PyIndi.INDI_LIGHT:
        return widget.getStateAsString()
    return f"{widget.getFormat()!r} {widget.getSize()}"


TYPED = {PyIndi.INDI_NUMBER: PyIndi.PropertyNumber, PyIndi.INDI_SWITCH: PyIndi.PropertySwitch,
         PyIndi.INDI_TEXT: PyIndi.PropertyText, PyIndi.INDI_LIGHT: PyIndi.PropertyLight,
         PyIndi.INDI_BLOB: PyIndi.PropertyBlob}

client = Dumper()
client.setServer(*server())
print("connected", client.connectServer())
for name in ("CCD Simulator", "Telescope Simulator"):
    device = wait(lambda name=name: client.getDevice(name), name)
    wait(lambda device=device: device.getText("DRIVER_INFO"), f"{name} DRIVER_INFO")
wait(lambda: time.monotonic() - client.last_new > SETTLE, "the definitions to settle")
for device in sorted(client.getDevices(), key=lambda d: d.getDeviceName()):
    for generic in sorted(device.getProperties(), key=lambda p: p.getName()):
        if generic.getName() == "DRIVER_INFO":
            continue  # its DRIVER_VERSION may differ between builds
        prop = TYPED[generic.getType()](generic)
        rule = f" {prop.getRuleAsString()}" if generic.getType() == PyIndi.INDI_SWITCH else ""
        told = client.told[(device.getDeviceName(), prop.getName())]
        print(f"{device.getDeviceName()}.{prop.getName()} {prop.getTypeAsString()} "
              f"{prop.getLabel()!r} {prop.getGroupName()!r} {prop.getPermissionAsString()} "
              f"{prop.getStateAsString()} timeout {prop.getTimeout():g}{rule} told {told}")
        for widget in prop:
            print(f"  {widget.getName()} {widget.getLabel()!r} {element(prop, widget)}")
client.disconnectServer()
