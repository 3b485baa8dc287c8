"""The tutorial's mount: connect, track, slew to coordinates and wait while Busy."""

import time

from scriptkit import connect_device
from scriptkit import server
from scriptkit import wait

import PyIndi

MOUNT = "Telescope Simulator"

client = PyIndi.BaseClient()
client.setServer(*server())
print("connected", client.connectServer())
telescope = connect_device(client, MOUNT, "the mount connected")
print("mount connected", telescope.isConnected())
on_coord_set = wait(lambda: telescope.getSwitch("ON_COORD_SET"), "ON_COORD_SET")
on_coord_set.reset()
on_coord_set.findWidgetByName("TRACK").setState(PyIndi.ISS_ON)
client.sendNewSwitch(on_coord_set)
radec = wait(lambda: telescope.getNumber("EQUATORIAL_EOD_COORD"), "EQUATORIAL_EOD_COORD")
wait(lambda: radec.getState() != PyIndi.IPS_BUSY, "the mount to settle")
target_ra = (radec[0].getValue() + 1.0) % 24
target_dec = 40.0
radec[0].setValue(target_ra)
radec[1].value = target_dec  # the 1.x spelling sets it too
client.sendNewNumber(radec)
deadline = time.monotonic() + 60
# The tutorial waits while Busy. Both modules mark the property Busy as they send, but an
# update the driver sent before it read the slew (Idle, the mount at rest) can still arrive
# after it, with libindi's client as with ours, and would end that loop early (a loaded run
# printed "slew state Idle"): also wait until the mount is where it was sent.
while (radec.getState() == PyIndi.IPS_BUSY or abs(radec[0].getValue() - target_ra) >= 0.01
       ) and time.monotonic() < deadline:
    time.sleep(0.1)
print("slew state", radec.getStateAsString())
print("at ra", abs(radec[0].getValue() - target_ra) < 0.01,
      "dec", abs(radec[1].getValue() - target_dec) < 0.01)
print("track", on_coord_set.findOnSwitchName(), on_coord_set.findOnSwitchIndex())
client.disconnectServer()
