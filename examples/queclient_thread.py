"""A threaded program talking to an INDI server through two queues (``runqueclient``).

Start the demo server (``python -m indipyserver --demo``), then ``python
examples/queclient_thread.py``: the client runs in its own thread; this program reads what it
reports from ``rxque``, switches the heater off through ``txque`` and stops it with ``None``.
"""

from __future__ import annotations

import queue
import sys
import threading

from indipyclient import runqueclient


def run(host: str = "localhost", port: int = 7624) -> str:
    """Switch the thermostat's heater OFF; returns the HEATER_MODE the server then reports."""
    rxque: queue.Queue = queue.Queue(maxsize=32)  # bounded: the client waits when it is full
    txque: queue.Queue = queue.Queue()
    client = threading.Thread(target=runqueclient, args=(txque, rxque, host, port))
    client.start()
    try:
        while True:
            item = rxque.get(timeout=10)  # EventItem(eventtype, devicename, vectorname, ...)
            if item.eventtype == "Define" and item.vectorname == "HEATER_MODE":
                break
        txque.put(("Thermostat", "HEATER_MODE", {"OFF": "On"}))
        while True:
            item = rxque.get(timeout=10)
            if item.eventtype == "Set" and item.vectorname == "HEATER_MODE":
                mode = item.snapshot["Thermostat"]["HEATER_MODE"]
                return next(name for name in mode if mode[name] == "On")
    finally:
        txque.put(None)  # stops the client
        client.join()


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 7624
    print("HEATER_MODE:", run(port=port))
