"""A server with more devices than a TXT record holds (issue 73 item 5, "TXT too long"): the
record announced stays within DNS-SD's limits, lists the first devices in order and counts
them all (``ndev``), and avahi reads it whole."""

from __future__ import annotations

import asyncio

import pytest
import serverkit
from discoverykit import Avahi
from waiting import until

from indipydiscovery.announce import instance_name
from indipydiscovery.txt import RECORD_LIMIT
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import TextMember
from indipydriver import TextVector

NAMES = [f"Weather station sensor number {i:03d}" for i in range(150)]


def many_devices() -> IPyDriver:
    return IPyDriver(*[Device(name, [TextVector("T", "T", "G", "ro", "Idle", [TextMember("t")])],
                              standard=False) for name in NAMES])


@pytest.mark.asyncio
async def test_a_server_with_150_devices_announces_a_record_cut_cleanly(
        avahi: Avahi) -> None:
    """IPyServer.announce() with 150 devices: avahi-browse -rpt resolves a TXT record of at
    most 1300 bytes with ndev=150 and dev0..devK-1 the first K device names in order."""
    server = serverkit.server(many_devices())
    server.announce(["lo"])
    async with serverkit.running(server):
        name = instance_name("INDI", server.port)

        async def announced() -> dict[str, str] | None:
            records = await asyncio.to_thread(avahi.browse, "_indi._tcp")
            found = [r.txt_dict for r in records if r.name == name and "dev0" in r.txt_dict]
            return found[0] if found else None

        txt = await until(announced, 20, "the record with its devices")
    listed = [txt[f"dev{i}"] for i in range(len(NAMES)) if f"dev{i}" in txt]
    assert txt["ndev"] == "150"
    assert 10 < len(listed) < 150 and listed == NAMES[:len(listed)]
    assert sum(1 + len(f"{k}={v}".encode()) for k, v in txt.items()) <= RECORD_LIMIT
