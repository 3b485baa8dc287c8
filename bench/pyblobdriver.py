#!/usr/bin/env python3
"""A Python driver (``IPyDriver``) that sends BLOBs on request, for ``pydriverblobs.py``.

Device ``PyCam``: a number vector ``GO`` (member ``n``): a client's new value N makes the driver
send its BLOB vector ``IMG`` N times (``SIZE`` random bytes from the environment variable
``BENCH_BLOB_SIZE``, default 10,000,000), each with ``send_setVectorMembers`` as a camera
driver would, then ``GO`` again with the message ``done``. ``BENCH_SHARED_BLOBS=0`` sets the
driver's ``shared_blobs`` False (inline base64 even on a Unix-socket stdout).
"""

import asyncio
import os
import sys
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

# This checkout's, unless PYTHONPATH names another (indiserver passes on no PYTHONPATH).
sys.path.append(str(Path(__file__).resolve().parent.parent))

import indipydriver as ipd

DATA = os.urandom(int(os.environ.get("BENCH_BLOB_SIZE", "10000000")))


class PyCam(ipd.IPyDriver):
    shared_blobs = os.environ.get("BENCH_SHARED_BLOBS", "1") != "0"

    async def rxevent(self, event):
        if event.devicename == "PyCam" and event.vectorname == "GO":
            image = self["PyCam"]["IMG"]
            for _ in range(int(float(event["n"]))):
                image["data"] = DATA
                await image.send_setVectorMembers(members=["data"])
            await self["PyCam"]["GO"].send_setVector(message="done")


def make_driver():
    go = ipd.NumberVector("GO", "Go", "Main", "rw", "Idle",
                          [ipd.NumberMember("n", "BLOBs", "%.0f", 0, 100000, 1, 0)])
    image = ipd.BLOBVector("IMG", "Image", "Main", "ro", "Idle", [ipd.BLOBMember("data", "Data")])
    return PyCam(ipd.Device("PyCam", [go, image]))


if __name__ == "__main__":
    asyncio.run(make_driver().asyncrun())
