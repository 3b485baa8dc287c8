"""The server goes away and comes back; the program waits and connects again.

It prints READY once connected and seeing the mount (the test then stops the server), and
AGAIN once the server is back and the mount is seen again.
"""

import threading

import PyIndi
from waiting import server, wait

MOUNT = "Telescope Simulator"


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
print("READY", flush=True)
if not client.lost.wait(30):
    print("TIMEOUT waiting for serverDisconnected")
    raise SystemExit(1)
print("serverDisconnected", client.codes)
print("still connected", client.isServerConnected(), "devices", len(client.getDevices()))
wait(client.connectServer, "the server to come back", timeout=60)
print("connected again", client.isServerConnected())
wait(lambda: client.getDevice(MOUNT), f"{MOUNT} again")
print("AGAIN", flush=True)
client.disconnectServer()
wait(lambda: len(client.codes) == 2, "serverDisconnected(0)")
print("serverDisconnected", client.codes, "connected", client.isServerConnected())
