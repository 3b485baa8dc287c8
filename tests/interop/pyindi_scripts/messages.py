"""Receive a device's messages: connecting the mount makes the driver say so."""

import threading

from scriptkit import server
from scriptkit import wait

import PyIndi

MOUNT = "Telescope Simulator"


class Listener(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.texts = []
        self.online = threading.Event()

    def newMessage(self, device, messageID):
        text = device.messageQueue(messageID)
        self.texts.append(text)
        if "online" in text.lower():
            self.online.set()


client = Listener()
client.setServer(*server())
print("connected", client.connectServer())
telescope = wait(lambda: client.getDevice(MOUNT), MOUNT)
wait(lambda: telescope.getSwitch("CONNECTION"), "CONNECTION")  # connectDevice needs it
if telescope.isConnected():
    client.disconnectDevice(MOUNT)
    wait(lambda: not telescope.isConnected(), "the mount disconnected")
client.connectDevice(MOUNT)
if not client.online.wait(30):
    print("TIMEOUT waiting for the message")
    raise SystemExit(1)
line = next(t for t in client.texts if "online" in t.lower())
stamp, _, text = line.partition(": ")
print("message", text.strip())
print("stamped", len(stamp) >= 19 and stamp[4] == "-" and stamp[10] == "T")
print("last message has text", bool(telescope.lastMessage()))
client.disconnectServer()
