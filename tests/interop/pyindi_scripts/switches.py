"""Toggle switches: through the property object and through the device/property/element form."""

import threading

from scriptkit import server
from scriptkit import wait

import PyIndi

MOUNT = "Telescope Simulator"


class Watcher(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.debug_changed = threading.Event()

    def updateProperty(self, prop):
        if prop.getDeviceName() == MOUNT and prop.getName() == "DEBUG":
            self.debug_changed.set()


def show(debug):
    print("DEBUG", debug.getStateAsString(), [(s.getName(), s.getState()) for s in debug])


client = Watcher()
client.setServer(*server())
print("connected", client.connectServer())
telescope = wait(lambda: client.getDevice(MOUNT), MOUNT)
debug = wait(lambda: telescope.getSwitch("DEBUG"), "DEBUG")
print("rule", debug.getRule() == PyIndi.ISR_1OFMANY, debug.getRuleAsString())
show(debug)
for turn_on in ("ENABLE", "DISABLE"):
    client.debug_changed.clear()
    debug.reset()
    debug.findWidgetByName(turn_on).setState(PyIndi.ISS_ON)
    client.sendNewSwitch(debug)
    wait(client.debug_changed.is_set, f"DEBUG answer for {turn_on}")
    wait(lambda turn_on=turn_on: debug.findOnSwitchName() == turn_on, f"{turn_on} On")
    show(debug)
client.debug_changed.clear()
client.sendNewSwitch(MOUNT, "DEBUG", "DISABLE")
wait(client.debug_changed.is_set, "DEBUG answer for the string form")
show(debug)
client.disconnectServer()
