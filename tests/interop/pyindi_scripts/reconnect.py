"""disconnectServer and connectServer again: serverDisconnected(0), the devices told again."""

import threading

from scriptkit import server
from scriptkit import wait

import PyIndi


class Client(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.codes = []
        self.devices_told = 0
        self.connects = 0
        self.disconnected = threading.Event()

    def newDevice(self, device):
        self.devices_told += 1

    def serverConnected(self):
        self.connects += 1

    def serverDisconnected(self, code):
        self.codes.append(code)
        self.disconnected.set()


client = Client()
client.setServer(*server())
for turn in (1, 2):
    print("connected", client.connectServer(), client.isServerConnected())
    ccd = wait(lambda: client.getDevice("CCD Simulator"), "the CCD")
    wait(lambda ccd=ccd: ccd.getSwitch("CONNECTION"), "its CONNECTION")
    wait(lambda turn=turn: client.devices_told == 2 * turn, "both devices told")
    print("round", turn, "devices told", client.devices_told, "connects", client.connects)
    client.disconnected.clear()
    # Its return is not printed: libindi's is whether its listener thread ended within its
    # own wait, so on a loaded machine the real module once said False after a clean
    # disconnect (serverDisconnected(0) all the same). tests/pyindi checks ours returns True.
    client.disconnectServer()
    print("disconnect")
    if not client.disconnected.wait(10):
        print("TIMEOUT waiting for serverDisconnected")
        raise SystemExit(1)
    print("codes", client.codes, "connected", client.isServerConnected())
