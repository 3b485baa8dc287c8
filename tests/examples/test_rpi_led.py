"""examples/rpi_led.py on gpiozero's mock pins, driven through our server with indi_setprop:
the LED's pin follows the INDI switch and blink rate."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

# gpiozero is the `rpi` extra; the test environment must have it (no skip: the example is
# part of the product).
import gpiozero  # noqa: F401  (imported for the clear ImportError if missing)
import pytest
import rpi_led
from example_helpers import free_port, getprop, serving, setprop, wait_for_value

from indipyserver import IPyServer


@pytest.fixture
def mock_led() -> Iterator[Any]:
    led = rpi_led.make_led(pin=17, mock=True)
    yield led
    led.close()


async def pin_states(led: Any, seconds: float) -> set[bool]:
    seen: set[bool] = set()
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        seen.add(bool(led.pin.state))
        await asyncio.sleep(0.01)
    return seen


async def test_switch_on_lights_the_pin_and_off_darkens_it(mock_led: Any) -> None:
    """LED_SWITCH.ON=On drives GPIO17 high and reports Ok; OFF=On drives it low, Idle."""
    port = free_port()
    server = IPyServer(rpi_led.make_driver(led=mock_led), host="127.0.0.1", port=port)
    async with serving(server, ports=[port]):
        assert not mock_led.pin.state
        await setprop(port, "LED.LED_SWITCH.ON=On")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Ok")
        assert mock_led.pin.state
        values = (await getprop(port, "LED.LED_SWITCH.*"))
        assert values == {"LED.LED_SWITCH.ON": "On", "LED.LED_SWITCH.OFF": "Off"}
        await setprop(port, "LED.LED_SWITCH.OFF=On")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Idle")
        assert not mock_led.pin.state


async def test_blink_rate_makes_the_pin_toggle_and_zero_makes_it_steady(mock_led: Any) -> None:
    """BLINK.RATE=5 with the LED on toggles the pin (light Busy); RATE=0 holds it high."""
    port = free_port()
    server = IPyServer(rpi_led.make_driver(led=mock_led), host="127.0.0.1", port=port)
    async with serving(server, ports=[port]):
        await setprop(port, "LED.LED_SWITCH.ON=On")
        await setprop(port, "LED.BLINK.RATE=5")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Busy")
        assert await pin_states(mock_led, 0.6) == {True, False}
        await setprop(port, "LED.BLINK.RATE=0")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Ok")
        assert await pin_states(mock_led, 0.3) == {True}


async def test_blink_rate_above_the_limit_is_refused(mock_led: Any) -> None:
    """RATE=50 is above max 10: the rate stays at 0 and the pin keeps steady."""
    port = free_port()
    server = IPyServer(rpi_led.make_driver(led=mock_led), host="127.0.0.1", port=port)
    async with serving(server, ports=[port]):
        await setprop(port, "LED.LED_SWITCH.ON=On")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Ok")
        await setprop(port, "LED.BLINK.RATE=50")
        await asyncio.sleep(0.3)
        assert float((await getprop(port, "LED.BLINK.RATE"))["LED.BLINK.RATE"]) == 0
        assert await pin_states(mock_led, 0.3) == {True}


def test_off_a_pi_the_mock_pin_factory_is_chosen_and_the_log_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """make_led(mock=False) off a Raspberry Pi uses mock pins (no gpiozero fallback warning,
    which the test settings would turn into an error) and says so in its own warning, so
    that a driver lighting nothing does not look like one that works. The warning failed
    before issue 28 (item 5): nothing said the pins were not real."""
    assert not rpi_led.running_on_pi()
    led = rpi_led.make_led(pin=18, mock=False)
    try:
        from gpiozero.pins.mock import MockFactory

        assert isinstance(led.pin_factory, MockFactory)
    finally:
        led.close()
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "rpi_led"]
    assert said == [("WARNING", "not on a Raspberry Pi: GPIO18 is a gpiozero mock pin, no LED "
                                "will light (--mock says so on purpose)")]
