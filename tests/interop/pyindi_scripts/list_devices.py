"""List devices and properties, as pyindi-client's README lister does; missing things are falsy."""

from scriptkit import server
from scriptkit import wait

import PyIndi

TYPES = {PyIndi.INDI_NUMBER: "number", PyIndi.INDI_SWITCH: "switch", PyIndi.INDI_TEXT: "text",
         PyIndi.INDI_LIGHT: "light", PyIndi.INDI_BLOB: "blob"}


class Lister(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()


client = Lister()
client.setServer(*server())
print("host", client.getHost(), "port", client.getPort() > 0)
print("connected", client.connectServer(), client.isServerConnected())
for name in ("CCD Simulator", "Telescope Simulator"):
    device = wait(lambda name=name: client.getDevice(name), name)
    wait(lambda device=device: device.getText("DRIVER_INFO"), f"{name} DRIVER_INFO")
    wait(lambda device=device: device.getSwitch("CONNECTION"), f"{name} CONNECTION")
for device in sorted(client.getDevices(), key=lambda d: d.getDeviceName()):
    interface = device.getDriverInterface()
    print("device", device.getDeviceName(), "interface", interface, type(interface) is int)
    print("  is a CCD", bool(interface & PyIndi.BaseDevice.CCD_INTERFACE),
          "a telescope", bool(interface & PyIndi.BaseDevice.TELESCOPE_INTERFACE))
    print("  driver", device.getDriverExec())
    names = [p.getName() for p in device.getProperties()]
    print("  has CONNECTION", "CONNECTION" in names, "DRIVER_INFO", "DRIVER_INFO" in names)
    connection = device.getSwitch("CONNECTION")
    print("  CONNECTION", connection.getTypeAsString(), connection.getPermissionAsString(),
          connection.getRuleAsString(), connection.getGroupName(), len(connection))
    for switch in connection:
        print("   ", switch.getName(), switch.getLabel(), switch.getStateAsString())
    for prop in device.getProperties():
        if prop.getName() == "DRIVER_INFO":
            print("  DRIVER_INFO is", TYPES[prop.getType()], prop.getPermission() == PyIndi.IP_RO)
            for text in prop.getText():
                if text.getName() in ("DRIVER_NAME", "DRIVER_EXEC"):
                    print("   ", text.getName(), text.getText())
    print("  connected", device.isConnected())
ccd = client.getDevice("CCD Simulator")
print("missing number falsy", not ccd.getNumber("NO_SUCH_PROPERTY"))
print("wrong kind falsy", not ccd.getNumber("CONNECTION"))
print("generic to typed", bool(PyIndi.PropertySwitch(ccd.getProperty("CONNECTION"))),
      bool(PyIndi.PropertyNumber(ccd.getProperty("CONNECTION"))))
print("missing device falsy", not client.getDevice("No Such Device"))
client.disconnectServer()
