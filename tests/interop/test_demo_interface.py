"""The demo thermostat reports its interface (issue 42): indi_getprop shows DRIVER_INFO with
DRIVER_INTERFACE 32768 (AUX: a device of no standard role) under indilib's indiserver (through
examples/exdrivers/indi_py_thermostat), connected from the start (no role, no hook), and on our server (`indipyserver --demo`'s driver)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from peers import HOST
from peers import free_port
from peers import getprop
from serverkit import running

from indipycore.interface import Interface
from indipyserver import IPyServer
from indipyserver.demo import make_driver

LAUNCHER = Path(__file__).resolve().parents[2] / "examples" / "exdrivers" / "indi_py_thermostat"
SPECS = ("Thermostat.DRIVER_INFO.DRIVER_INTERFACE", "Thermostat.DRIVER_INFO.DRIVER_NAME",
         "Thermostat.CONNECTION.DISCONNECT")


def check(port: int) -> None:
    values = getprop(port, *SPECS, timeout=10)
    assert values.returncode == 0, values.result.describe()
    assert Interface.from_text(values["Thermostat.DRIVER_INFO.DRIVER_INTERFACE"]) is Interface.AUX
    assert values["Thermostat.DRIVER_INFO.DRIVER_NAME"] == "Thermostat"
    # No role and no hook: nothing to connect, so it starts connected.
    assert values["Thermostat.CONNECTION.DISCONNECT"] == "Off"
    # Its own vectors are there without connecting.
    assert float(getprop(port, "Thermostat.TARGET.TARGET")["Thermostat.TARGET.TARGET"]) == 20


def test_demo_reports_aux_under_indiserver(indiserver_factory) -> None:  # type: ignore[no-untyped-def]
    server = indiserver_factory(str(LAUNCHER))
    check(server.port)


async def test_demo_reports_aux_on_our_server() -> None:
    port = free_port()
    async with running(IPyServer(make_driver(), host=HOST, port=port)):
        await asyncio.to_thread(check, port)
