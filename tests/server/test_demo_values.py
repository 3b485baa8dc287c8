"""The demo thermostat sends its numbers rounded to their vector's format (issue 43 item 11).

A new user's first look at the demo through indi_getprop or a client that prints the wire
value showed readings like 15.312345678901234 for a member whose format is %.2f. The demo is
the example users copy: it keeps each value to the precision its format shows.
"""

from __future__ import annotations

from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetNumberVector
from indipydriver.testing import DriverHarness
from indipyserver.demo import Room
from indipyserver.demo import make_driver


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


async def test_readings_are_kept_to_their_format() -> None:
    """TEMPERATURE (%.2f) readings carry at most two decimals, and a target a client sets
    comes back as the client gave it (sexagesimal input stays exact)."""
    room = Room(temperature=15.123456789)
    driver = make_driver(interval=0.01, room=room)
    async with DriverHarness(driver, timeout=5) as client:
        defs = {d.name: d for d in await client.get_properties()}
        assert _decimals(defs["TEMPERATURE"]["TEMPERATURE"].value) <= 2
        for _ in range(3):
            reading = await client.expect(SetNumberVector, name="TEMPERATURE")
            value = reading["TEMPERATURE"].value
            assert _decimals(value) <= 2, value
        await client.send(NewNumberVector("Thermostat", "TARGET", (Number("TARGET", "21.5"),)))
        reply = await client.expect(SetNumberVector, name="TARGET")
        assert reply["TARGET"].float == 21.5
        assert room.target == 21.5
