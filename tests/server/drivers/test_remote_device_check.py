"""A ``dev@host`` remote whose device the remote does not have is reported (issue 43 item 10).

``"Telescope Simulatr"@host`` (a typo) asks the remote for that device alone, and no INDI server
answers for a device it lacks, so the chained server used to wait in silence. Once the remote
has had ``device_wait`` seconds, the remote's devices are looked at and a missing device is
logged once as not found, with the names the remote has. Each test waits for the check's
verdict (``device_checked``), not for a fixed time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from peers import IndiServer
from peers import free_port
from serverkit import running

from indipyserver import IPyServer
from indipyserver.demo import make_driver
from indipyserver.drivers.remote import RemoteConnection
from indipyserver.drivers.remotedevices import remote_devices


async def _verdict(conn: RemoteConnection) -> bool | None:
    await asyncio.wait_for(conn.device_checked.wait(), 30)
    return conn.device_found


async def _verdict_behind_our_thermostat(device: str) -> bool | None:
    """Our server with the demo thermostat as the remote of another of ours, asked for
    ``device``@ it: the remote's verdict on ``device``."""
    leaf_port, top_port = free_port(), free_port()
    top = IPyServer(port=top_port)
    conn = top.add_remote("127.0.0.1", leaf_port, device=device, device_wait=0.2)
    assert isinstance(conn, RemoteConnection)
    async with running(IPyServer(make_driver(interval=5), port=leaf_port)), running(top):
        return await _verdict(conn)


def _not_found(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "not found" in r.getMessage()]


async def test_a_misspelt_device_on_our_remote_is_reported_with_the_names_it_has(
        caplog: pytest.LogCaptureFixture) -> None:
    """Our server with the thermostat as the remote; "Thermostst"@ it: one warning that names
    the missing device, the remote and the device it does have."""
    caplog.set_level(logging.INFO, "indipyserver.remote")
    assert await _verdict_behind_our_thermostat("Thermostst") is False
    [warning] = _not_found(caplog)
    assert "'Thermostst' not found on 127.0.0.1" in warning and "'Thermostat'" in warning


async def test_a_device_that_is_there_is_never_reported(caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    """The right name: the device's definitions arrive, the verdict is found, no warning."""
    caplog.set_level(logging.INFO, "indipyserver.remote")
    assert await _verdict_behind_our_thermostat("Thermostat") is True
    assert _not_found(caplog) == []


@pytest.mark.interop
async def test_indiservers_devices_are_listed_for_a_typo(
        indiserver_factory: Callable[..., IndiServer], caplog: pytest.LogCaptureFixture) -> None:
    """indilib's indiserver with its telescope simulator as the remote: remote_devices reads
    its device, and "Telescope Simulatr"@ it is reported with "Telescope Simulator" named."""
    caplog.set_level(logging.INFO, "indipyserver.remote")
    leaf = indiserver_factory("indi_simulator_telescope")
    assert "Telescope Simulator" in await remote_devices("127.0.0.1", leaf.port, quiet=2.0)
    top = IPyServer(port=free_port())
    conn = top.add_remote("127.0.0.1", leaf.port, device="Telescope Simulatr", device_wait=0.5)
    assert isinstance(conn, RemoteConnection)
    async with running(top):
        assert await _verdict(conn) is False
    [warning] = _not_found(caplog)
    assert "'Telescope Simulatr' not found" in warning and "'Telescope Simulator'" in warning


async def test_an_unreachable_remote_gives_an_oserror() -> None:
    """Looking at a remote that is not there raises OSError (the check then stays quiet: the
    connection's own warnings say the remote is down)."""
    with pytest.raises(OSError):
        await remote_devices("127.0.0.1", free_port(), limit=5)
