"""What the scripts here share: the server from the command line, waiting with a limit (the
suite's one polling helper, tests/waiting.py, standard library only), connecting a device
the way pyindi-client's tutorial does, and a client that tells when a property is updated.

The scripts are pyindi-client programs (ours): they run unchanged under pyindi-client's SWIG
module and under this project's pure-Python PyIndi, and print only what both should agree on.
"""

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for waiting.py
from waiting import wait_for

import PyIndi  # whichever the running Python provides: ours or pyindi-client's

TIMEOUT = 30.0


def server() -> tuple[str, int]:
    """(host, port) from the command line: ``script.py HOST PORT``."""
    return sys.argv[1], int(sys.argv[2])


def wait(check, what, timeout=TIMEOUT):
    """Poll ``check()`` until it returns something true (returned); exit 1 naming ``what``."""
    try:
        return wait_for(check, timeout, what, interval=0.05)
    except AssertionError:
        print(f"TIMEOUT waiting for {what}", flush=True)
        sys.exit(1)


def connect_device(client, name, what):
    """Wait for device ``name``, switch its CONNECTION on (its first switch, as pyindi-client's
    tutorial does) unless it is connected, and wait until it is (``what``); the device."""
    device = wait(lambda: client.getDevice(name), name)
    connection = wait(lambda: device.getSwitch("CONNECTION"), "CONNECTION")
    if not device.isConnected():
        connection.reset()
        connection[0].setState(PyIndi.ISS_ON)
        client.sendNewSwitch(connection)
    wait(device.isConnected, what)
    return device


class PropertyWatcher(PyIndi.BaseClient):
    """A client whose ``changed`` event is set each time ``updateProperty`` reports property
    ``name`` of ``device``: a script clears it, sends, and waits for the driver's answer."""

    def __init__(self, device, name):
        super().__init__()
        self.changed = threading.Event()
        self.watched = (device, name)

    def updateProperty(self, prop):
        if (prop.getDeviceName(), prop.getName()) == self.watched:
            self.changed.set()
