"""The in-memory harness examples shown in docs/guides/testing.rst (included from this file, so
the documented code is the tested code)."""

from __future__ import annotations

from indipycore.protocol.events import SetBLOBVector
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.events import SetSwitchVector
from indipydriver.testing import DriverHarness
from indipyserver.demo import make_driver


async def test_target_is_set_and_confirmed() -> None:
    """A client's new TARGET is applied and confirmed with state Ok."""
    async with DriverHarness(make_driver(interval=60)) as client:
        await client.send('<newNumberVector device="Thermostat" name="TARGET">'
                          '<oneNumber name="TARGET">25</oneNumber></newNumberVector>')
        reply = await client.expect(SetNumberVector, name="TARGET")
        assert reply["TARGET"].float == 25.0
        assert reply.state == "Ok"


async def test_target_beyond_max_never_reaches_the_driver() -> None:
    """A target above max (40) is refused by the framework: the client gets the current value
    back with state Alert and the reason, and rxevent never sees the request."""
    driver = make_driver(interval=60)
    async with DriverHarness(driver) as client:
        await client.send('<newNumberVector device="Thermostat" name="TARGET">'
                          '<oneNumber name="TARGET">99</oneNumber></newNumberVector>')
        refused = await client.expect(SetNumberVector, name="TARGET")
        assert refused.state == "Alert" and refused["TARGET"].float == 20.0
        assert "outside min" in refused.message
        await client.handled()  # rxevent has had its turn: it sent nothing more
        assert not [e for e in client.pending()
                    if isinstance(e, SetNumberVector) and e.name == "TARGET"]
    assert driver.driverdata["room"].target == 20.0


async def test_definitions_cover_every_vector_kind() -> None:
    """getProperties is answered with the six vectors of the demo, all five kinds, after the
    standard CONNECTION, DRIVER_INFO and DEBUG, however often its hardware loop sends readings
    meanwhile (here every 10 ms)."""
    async with DriverHarness(make_driver(interval=0.01)) as client:
        defs = await client.get_properties()
        kinds = {type(event).__name__ for event in defs}
        assert [event.name for event in defs] == [
            "CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS",
            "TEMPERATURE", "TARGET", "HEATER_MODE", "HEATER", "SITE", "LOG"]
        assert kinds == {"DefNumberVector", "DefSwitchVector", "DefLightVector",
                         "DefTextVector", "DefBLOBVector"}


async def test_mode_switch_replies_with_the_whole_one_of_many_vector() -> None:
    """Turning ON on: the reply holds all three members, only ON is On."""
    async with DriverHarness(make_driver(interval=60)) as client:
        await client.send('<newSwitchVector device="Thermostat" name="HEATER_MODE">'
                          '<oneSwitch name="ON">On</oneSwitch></newSwitchVector>')
        reply = await client.expect(SetSwitchVector, name="HEATER_MODE")
        assert {name: reply[name].value for name in reply} == {
            "AUTO": "Off", "ON": "On", "OFF": "Off"}


async def test_hardware_loop_sends_the_csv_log_blob() -> None:
    """With a fast hardware loop the LOG BLOB arrives as CSV with its size and format."""
    async with DriverHarness(make_driver(interval=0.01, log_every=3), timeout=5) as client:
        blob = await client.expect(SetBLOBVector, name="LOG")
        log = blob["LOG"]
        assert log.format == ".csv"
        assert log.size == len(log.data)
        assert log.data.splitlines()[0] == b"reading,temperature,heater"
        assert len(log.data.splitlines()) == 4
