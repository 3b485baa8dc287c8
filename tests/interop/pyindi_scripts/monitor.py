"""The monitor shape: watchDevice before connecting, keep CONNECTION from newProperty, connect
the device with sendNewProperty, and see only the watched device."""

import threading

from scriptkit import server
from scriptkit import wait

import PyIndi

MOUNT = "Telescope Simulator"


class Monitor(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.connection = None
        self.have_connection = threading.Event()
        self.devices_seen = set()

    def newDevice(self, device):
        self.devices_seen.add(device.getDeviceName())

    def newProperty(self, prop):
        self.devices_seen.add(prop.getDeviceName())
        if prop.getName() == "CONNECTION":
            self.connection = PyIndi.PropertySwitch(prop)
            self.have_connection.set()


client = Monitor()
client.watchDevice(MOUNT)
client.setServer(*server())
print("connected", client.connectServer())
if not client.have_connection.wait(30):
    print("TIMEOUT waiting for CONNECTION")
    raise SystemExit(1)
connection = client.connection
connection.reset()
connection.findWidgetByName("CONNECT").setState(PyIndi.ISS_ON)
client.sendNewProperty(connection)
wait(lambda: connection.findOnSwitchName() == "CONNECT" and connection.getState() == PyIndi.IPS_OK,
     "the mount connected")
print("connection", connection.findOnSwitchName(), connection.getStateAsString())
print("devices", sorted(d.getDeviceName() for d in client.getDevices()),
      sorted(client.devices_seen))
print("ccd unknown", not client.getDevice("CCD Simulator"))
client.disconnectDevice(MOUNT)
wait(lambda: connection.findOnSwitchName() == "DISCONNECT", "the mount disconnected")
print("connection", connection.findOnSwitchName())
client.disconnectServer()
