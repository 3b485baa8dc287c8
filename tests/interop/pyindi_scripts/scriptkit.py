"""What the scripts here share: the server from the command line, waiting with a limit (the
suite's one polling helper, tests/waiting.py, standard library only), connecting a device
the way pyindi-client's tutorial does (and the tutorial's mount: connected, and waited for
while it slews), and a client that tells when a property is updated.

The scripts are pyindi-client programs (ours): they run unchanged under pyindi-client's SWIG
module and under this project's pure-Python PyIndi, and print only what both should agree on.
"""

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for waiting.py
from waiting import wait_for

import PyIndi  # whichever the running Python provides: ours or pyindi-client's

TIMEOUT = 30.0
MOUNT = "Telescope Simulator"


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


def mount_client():
    """The tutorial's start: a client on the server of the command line, its mount connected,
    each said ("connected True", "mount connected True"); the client and the mount."""
    client = PyIndi.BaseClient()
    client.setServer(*server())
    print("connected", client.connectServer())
    mount = connect_device(client, MOUNT, "the mount connected")
    print("mount connected", mount.isConnected())
    return client, mount


def settled_coordinates(mount):
    """The mount's EQUATORIAL_EOD_COORD once it is not Busy."""
    radec = wait(lambda: mount.getNumber("EQUATORIAL_EOD_COORD"), "EQUATORIAL_EOD_COORD")
    wait(lambda: radec.getState() != PyIndi.IPS_BUSY, "the mount to settle")
    return radec


def wait_slew(radec, ra, timeout=60.0):
    """The tutorial's wait while the slew is Busy, and until the mount is at `ra`: both
    modules mark the property Busy as they send, but an update the driver sent before it read
    the slew (Idle, the mount at rest) can still arrive after it, with libindi's client as
    with ours, and would end the tutorial's loop early (a loaded run printed "slew state
    Idle")."""
    deadline = time.monotonic() + timeout
    while (radec.getState() == PyIndi.IPS_BUSY or abs(radec[0].getValue() - ra) >= 0.01
           ) and time.monotonic() < deadline:
        time.sleep(0.1)


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
