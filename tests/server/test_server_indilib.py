"""indilib's own clients (indi_getprop, indi_setprop) against IPyServer with an in-process driver."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from serverkit import make_gadget
from serverkit import running
from waiting import until

from indipyserver import IPyServer

pytestmark = pytest.mark.interop


async def run(*argv: str) -> tuple[int, str]:
    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} not installed (Debian indi-bin)")
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 15)
    return proc.returncode or 0, out.decode()


async def test_indi_getprop_lists_every_property() -> None:
    async with running(IPyServer(make_gadget(), port=0, handle_signals=False)) as srv:
        _, out = await run("indi_getprop", "-p", str(srv.port), "-t", "1", "Gadget.*.*")
    assert "Gadget.STATIC.T=constant" in out
    assert "Gadget.VALUE.V=" in out


async def test_indi_setprop_then_getprop_sees_the_new_value() -> None:
    async with running(IPyServer(make_gadget(), port=0, handle_signals=False)) as srv:
        port = str(srv.port)
        rc, out = await run("indi_setprop", "-p", port, "Gadget.VALUE.V=123")
        assert rc == 0, out
        rc, out = 0, ""

        async def seen() -> bool:
            nonlocal rc, out
            rc, out = await run("indi_getprop", "-p", port, "Gadget.VALUE.V")
            return "123" in out

        await until(seen, what=lambda: f"the new value; indi_getprop said {out!r}")
    assert rc == 0 and out.strip().startswith("Gadget.VALUE.V=123"), out


async def test_a_refused_switch_request_names_the_switches_in_the_vector_order() -> None:
    """indi_setprop sends the switches in the order typed; the refusal (state Alert, seen by a
    watching client) names them in the vector's order, as a client lists them. Failed before
    issue 28 (item 8): "request turns on ['OFF', 'AUTO']", the request's order as a list."""
    from serverkit import RawClient

    from indipyserver.demo import make_driver

    async with running(IPyServer(make_driver(interval=60), port=0, handle_signals=False)) as srv:
        watcher = await RawClient.connect(srv.port)
        await watcher.send('<getProperties version="1.7"/>')
        await watcher.wait_for("defSwitchVector", name="HEATER_MODE")
        rc, out = await run("indi_setprop", "-p", str(srv.port),
                            "Thermostat.HEATER_MODE.OFF=On;AUTO=On")
        assert rc == 0, out
        refused = await watcher.wait_for("setSwitchVector", name="HEATER_MODE")
    assert refused.attrs["state"] == "Alert"
    assert refused.attrs["message"] == (
        "Request rejected: Thermostat.HEATER_MODE.OFF: OneOfMany allows one switch On, not "
        "AUTO, OFF")


async def test_a_refused_number_names_its_limits_as_the_driver_wrote_them() -> None:
    """indi_setprop sends a target above max: the refusal a watching client gets names the
    limits as written. Failed before: "value 99.0 is outside min '-20' .. max '40'", the
    limits quoted since they are kept as text (3.x compatibility). Since one rule judges every
    face (protocol/acceptance.py) the message is the one a client's library gives."""
    from serverkit import RawClient

    from indipyserver.demo import make_driver

    async with running(IPyServer(make_driver(interval=60), port=0, handle_signals=False)) as srv:
        watcher = await RawClient.connect(srv.port)
        await watcher.send('<getProperties version="1.7"/>')
        await watcher.wait_for("defNumberVector", name="TARGET")
        rc, out = await run("indi_setprop", "-p", str(srv.port), "Thermostat.TARGET.TARGET=99")
        assert rc == 0, out
        refused = await watcher.wait_for("setNumberVector", name="TARGET")
    assert refused.attrs["state"] == "Alert"
    assert refused.attrs["message"] == (
        "Request rejected: Thermostat.TARGET.TARGET: 99 is outside min -20 .. max 40")
