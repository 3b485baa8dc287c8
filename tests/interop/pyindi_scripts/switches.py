"""Toggle switches: through the property object and through the device/property/element form."""

from scriptkit import PropertyWatcher
from scriptkit import server
from scriptkit import wait

import PyIndi

MOUNT = "Telescope Simulator"


def show(debug):
    print("DEBUG", debug.getStateAsString(), [(s.getName(), s.getState()) for s in debug])


client = PropertyWatcher(MOUNT, "DEBUG")
client.setServer(*server())
print("connected", client.connectServer())
telescope = wait(lambda: client.getDevice(MOUNT), MOUNT)
debug = wait(lambda: telescope.getSwitch("DEBUG"), "DEBUG")
print("rule", debug.getRule() == PyIndi.ISR_1OFMANY, debug.getRuleAsString())
show(debug)
for turn_on in ("ENABLE", "DISABLE"):
    client.changed.clear()
    debug.reset()
    debug.findWidgetByName(turn_on).setState(PyIndi.ISS_ON)
    client.sendNewSwitch(debug)
    wait(client.changed.is_set, f"DEBUG answer for {turn_on}")
    wait(lambda turn_on=turn_on: debug.findOnSwitchName() == turn_on, f"{turn_on} On")
    show(debug)
client.changed.clear()
client.sendNewSwitch(MOUNT, "DEBUG", "DISABLE")
wait(client.changed.is_set, "DEBUG answer for the string form")
show(debug)
client.disconnectServer()
