"""A second client connects, so the drivers define every property again (indiserver passes
its getProperties on): the first client is told of each property once."""

import collections
import time

from scriptkit import server
from scriptkit import wait

import PyIndi

SETTLE = 1.5


class Counting(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.told = collections.Counter()
        self.devices = collections.Counter()
        self.updates = 0
        self.last = time.monotonic()

    def newDevice(self, device):
        self.devices[device.getDeviceName()] += 1

    def newProperty(self, prop):
        self.told[(prop.getDeviceName(), prop.getName())] += 1
        self.last = time.monotonic()


def settled(client):
    wait(lambda: client.getDevice("CCD Simulator").getText("DRIVER_INFO"), "the CCD")
    wait(lambda: client.getDevice("Telescope Simulator").getText("DRIVER_INFO"), "the mount")
    wait(lambda: time.monotonic() - client.last > SETTLE, "the definitions to settle")


first = Counting()
first.setServer(*server())
print("first connected", first.connectServer())
settled(first)
before = sum(first.told.values())
second = Counting()
second.setServer(*server())
print("second connected", second.connectServer())
settled(second)
time.sleep(SETTLE)
print("second told as many", sum(second.told.values()) == before)
print("first told each once", set(first.told.values()) == {1}, sum(first.told.values()) == before)
print("devices told", sorted(first.devices.items()))
second.disconnectServer()
first.disconnectServer()
