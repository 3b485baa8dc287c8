"""The server goes away and comes back; the program waits and connects again.

It prints READY once connected and seeing both simulators (the test then stops the server), reads a
line from stdin once the test has started the server again (a dying indiserver's drivers keep
its listening socket for a moment, where a connection would be accepted and then reset), and
prints AGAIN once the mount is seen again.
"""

import logging
import sys
import threading
import time

from scriptkit import server
from scriptkit import wait

import PyIndi

MOUNT = "Telescope Simulator"
CCD = "CCD Simulator"
logging.basicConfig(level=logging.INFO)  # to stderr, which the test shows when it fails


class Client(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.lost = threading.Event()
        self.codes = []

    def serverDisconnected(self, code):
        self.codes.append(code)
        self.lost.set()


client = Client()
client.setServer(*server())
print("connected", client.connectServer())
wait(lambda: client.getDevice(MOUNT), MOUNT)
wait(lambda: client.getDevice(CCD), CCD)  # both are known: how many are kept is compared
print("READY", flush=True)
if not client.lost.wait(30):
    print("TIMEOUT waiting for serverDisconnected")
    raise SystemExit(1)
print("serverDisconnected", client.codes)
print("still connected", client.isServerConnected(), "devices", len(client.getDevices()))
sys.stdin.readline()
for _attempt in range(20):  # the server is back: it should take one
    if client.connectServer():
        break
    time.sleep(0.25)
else:
    print("could not connect again")
    raise SystemExit(1)
print("connected again", client.isServerConnected())
wait(lambda: client.getDevice(MOUNT), f"{MOUNT} again")
print("AGAIN", flush=True)
client.disconnectServer()
wait(lambda: len(client.codes) == 2, "serverDisconnected(0)")
print("serverDisconnected", client.codes, "connected", client.isServerConnected())
