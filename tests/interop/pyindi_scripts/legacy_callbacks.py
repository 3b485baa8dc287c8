"""A 1.x program: newNumber/newSwitch with the old struct fields (np, nnp, s, sp)."""

import threading

from scriptkit import server
from scriptkit import wait

import PyIndi

MOUNT = "Telescope Simulator"


class Old(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.seen = threading.Event()
        self.debug = None

    def newSwitch(self, svp):
        if svp.device == MOUNT and svp.name == "DEBUG":
            self.debug = [(svp.sp[i].name, svp.sp[i].s) for i in range(svp.nsp)]
            self.seen.set()

    def newNumber(self, nvp):
        pass


client = Old()
client.setServer(*server())
print("connected", client.connectServer())
telescope = wait(lambda: client.getDevice(MOUNT), MOUNT)
debug = wait(lambda: telescope.getSwitch("DEBUG"), "DEBUG")
client.sendNewSwitch(MOUNT, "DEBUG", "ENABLE")
if not client.seen.wait(30):
    print("TIMEOUT waiting for newSwitch")
    raise SystemExit(1)
print("newSwitch", client.debug)
client.seen.clear()
client.sendNewSwitch(MOUNT, "DEBUG", "DISABLE")
client.seen.wait(30)
print("newSwitch", client.debug)
polling = wait(lambda: telescope.getNumber("POLLING_PERIOD"), "POLLING_PERIOD")
print("struct fields", polling.name, polling.device == MOUNT, polling.nnp, polling.np[0].name,
      polling.np[0].value > 0, polling.s == polling.getState())
client.disconnectServer()
