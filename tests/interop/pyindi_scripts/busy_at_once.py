"""A slew sent with sendNewNumber: the program's property object says Busy the moment the call
returns, before the driver answers (libindi's client sets the state it sends), so the
tutorial's ``while state == IPS_BUSY`` loop waits for the slew."""

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
radec = wait(lambda: telescope.getNumber("EQUATORIAL_EOD_COORD"), "EQUATORIAL_EOD_COORD")
wait(lambda: radec.getState() != PyIndi.IPS_BUSY, "the mount to settle")
target = (radec[0].getValue() + 2.0) % 24
radec[0].setValue(target)
radec[1].setValue(30.0)
client.sendNewNumber(radec)
print("at once", radec.getStateAsString())
deadline = time.monotonic() + 60
while (radec.getState() == PyIndi.IPS_BUSY or abs(radec[0].getValue() - target) >= 0.01
       ) and time.monotonic() < deadline:
    time.sleep(0.1)
print("after the slew", radec.getStateAsString() != "Busy",
      abs(radec[0].getValue() - target) < 0.01)
client.disconnectServer()
