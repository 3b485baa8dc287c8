#!/usr/bin/env python3
"""Benchmark driver written once against the indipydriver 3.x API, run unchanged by both
indipydriver 3.1.2 (in a throw-away venv) and ours (see driver_vs_3x.py).

It speaks INDI on stdin/stdout (``asyncrun``).  Device ``Bench``:

* ``CTRL`` number vector (rw), member ``count``: a client's new value N makes the driver send
  ``NUM`` with ``send_setVector()`` N times in a tight loop, then the message ``loopdone``;
* ``NUM`` number vector (ro), member ``v``;
* ``UP`` BLOB vector (wo), member ``data``: a newBLOBVector is answered with the message
  ``blobgot <bytes>`` once ``rxevent`` sees it;
* ``EXTRA_0000``... number vectors: ``BENCH_VECTORS`` from the environment (default 0).
"""

import asyncio
import os

import indipydriver as ipd

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"


class BenchDriver(ipd.IPyDriver):

    async def rxevent(self, event):
        match event:
            case ipd.newNumberVector(devicename="Bench", vectorname="CTRL"):
                n = int(float(event["count"]))
                vector = self["Bench"]["NUM"]
                for i in range(n):
                    vector["v"] = i
                    await vector.send_setVector()
                await self.send_message("loopdone")
            case ipd.newBLOBVector(devicename="Bench", vectorname="UP"):
                value = event["data"]
                await self.send_message(f"blobgot {len(value)}")


def make_driver(nvectors=None):
    """Also the entry point for `indipyserver --driver-script bench/ipd_child.py`."""
    if nvectors is None:
        nvectors = int(os.environ.get("BENCH_VECTORS", "0"))
    ctrl = ipd.NumberVector(name="CTRL", label="Control", group="Bench", perm="rw", state="Ok",
                            numbermembers=[ipd.NumberMember(name="count", label="Count",
                                                            format="%.0f", min="0", max="0",
                                                            step="1", membervalue="0")])
    num = ipd.NumberVector(name="NUM", label="Number", group="Bench", perm="ro", state="Ok",
                           numbermembers=[ipd.NumberMember(name="v", label="Value",
                                                           format="%.6f", min="0", max="0",
                                                           step="0", membervalue="0")])
    up = ipd.BLOBVector(name="UP", label="Upload", group="Bench", perm="wo", state="Ok",
                        blobmembers=[ipd.BLOBMember(name="data", label="Data")])
    extra = [ipd.NumberVector(name=f"EXTRA_{i:04d}", label=f"Extra {i}", group="Extra",
                              perm="ro", state="Idle",
                              numbermembers=[
                                  ipd.NumberMember(name="a", label="A", format="%.3f", min="0",
                                                   max="100", step="1", membervalue=str(i)),
                                  ipd.NumberMember(name="b", label="B", format="%.3f", min="0",
                                                   max="100", step="1", membervalue="1.5")])
             for i in range(nvectors)]
    device = ipd.Device("Bench", [ctrl, num, up, *extra])
    return BenchDriver(device)


if __name__ == "__main__":
    driver = make_driver()
    asyncio.run(driver.asyncrun())
