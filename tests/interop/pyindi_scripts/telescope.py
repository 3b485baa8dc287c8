"""The tutorial's mount: connect, track, slew to coordinates and wait while Busy."""

from scriptkit import mount_client
from scriptkit import settled_coordinates
from scriptkit import wait
from scriptkit import wait_slew

import PyIndi

client, telescope = mount_client()
on_coord_set = wait(lambda: telescope.getSwitch("ON_COORD_SET"), "ON_COORD_SET")
on_coord_set.reset()
on_coord_set.findWidgetByName("TRACK").setState(PyIndi.ISS_ON)
client.sendNewSwitch(on_coord_set)
radec = settled_coordinates(telescope)
target_ra = (radec[0].getValue() + 1.0) % 24
target_dec = 40.0
radec[0].setValue(target_ra)
radec[1].value = target_dec  # the 1.x spelling sets it too
client.sendNewNumber(radec)
wait_slew(radec, target_ra)
print("slew state", radec.getStateAsString())
print("at ra", abs(radec[0].getValue() - target_ra) < 0.01,
      "dec", abs(radec[1].getValue() - target_dec) < 0.01)
print("track", on_coord_set.findOnSwitchName(), on_coord_set.findOnSwitchIndex())
client.disconnectServer()
