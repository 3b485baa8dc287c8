"""A slew sent with sendNewNumber: the program's property object says Busy the moment the call
returns, before the driver answers (libindi's client sets the state it sends), so the
tutorial's ``while state == IPS_BUSY`` loop waits for the slew."""

from scriptkit import mount_client
from scriptkit import settled_coordinates
from scriptkit import wait_slew

client, telescope = mount_client()
radec = settled_coordinates(telescope)
target = (radec[0].getValue() + 2.0) % 24
radec[0].setValue(target)
radec[1].setValue(30.0)
client.sendNewNumber(radec)
print("at once", radec.getStateAsString())
wait_slew(radec, target)
print("after the slew", radec.getStateAsString() != "Busy",
      abs(radec[0].getValue() - target) < 0.01)
client.disconnectServer()
