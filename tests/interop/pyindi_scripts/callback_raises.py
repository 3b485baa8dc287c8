"""A callback that raises: pyindi-client 1.9 ends the process, PyIndi logs it and goes on."""

import logging

from scriptkit import server
from scriptkit import wait

import PyIndi

logging.basicConfig(level=logging.ERROR)


class Careless(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.properties = 0

    def newProperty(self, prop):
        self.properties += 1
        raise RuntimeError(f"a bug in the program's newProperty for {prop.getName()}")


client = Careless()
client.setServer(*server())
print("connected", client.connectServer())
wait(lambda: client.getDevice("Telescope Simulator").getSwitch("CONNECTION"), "the mount")
wait(lambda: client.getDevice("CCD Simulator").getSwitch("CONNECTION"), "the CCD")
wait(lambda: client.properties >= 10, "newProperty to go on being called")
print("went on after raising", client.properties >= 10, client.isServerConnected())
client.disconnectServer()
