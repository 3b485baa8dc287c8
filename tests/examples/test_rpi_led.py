"""examples/rpi_led.py on gpiozero's mock pins, driven through our server with indi_setprop:
the LED's pin follows the INDI switch and blink rate."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# gpiozero is the `rpi` extra; the test environment must have it (no skip: the example is
# part of the product).
import gpiozero  # noqa: F401  (imported for the clear ImportError if missing)
import pytest
import rpi_led
from example_helpers import free_port
from example_helpers import getprop
from example_helpers import getprop_holding
from example_helpers import serving
from example_helpers import setprop
from example_helpers import wait_for_value
from waiting import until

from indipyserver import IPyServer


@pytest.fixture
def mock_led() -> Iterator[Any]:
    led = rpi_led.make_led(pin=17, mock=True)
    yield led
    led.close()


def pin_history(led: Any) -> list[bool]:
    """Every value the mock pin has taken, in order (gpiozero's MockPin records each change)."""
    return [change.state for change in led.pin.states]


async def test_switch_on_lights_the_pin_and_off_darkens_it(mock_led: Any) -> None:
    """LED_SWITCH.ON=On drives GPIO17 high and reports Ok; OFF=On drives it low, Idle."""
    port = free_port()
    server = IPyServer(rpi_led.make_driver(led=mock_led), host="127.0.0.1", port=port)
    async with serving(server, ports=[port]):
        assert not mock_led.pin.state
        await setprop(port, "LED.LED_SWITCH.ON=On")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Ok")
        assert mock_led.pin.state
        values = await getprop_holding(port, "LED.LED_SWITCH.*", "LED.LED_SWITCH.ON")
        assert values == {"LED.LED_SWITCH.ON": "On", "LED.LED_SWITCH.OFF": "Off"}
        await setprop(port, "LED.LED_SWITCH.OFF=On")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Idle")
        assert not mock_led.pin.state


async def test_blink_rate_makes_the_pin_toggle_and_zero_makes_it_steady(mock_led: Any) -> None:
    """BLINK.RATE=5 with the LED on toggles the pin (light Busy); RATE=0 holds it high: once the
    light says Ok the blink has stopped (gpiozero joins its thread in ``on()``), so the pin's
    history no longer grows, checked across another round trip to the server."""
    port = free_port()
    server = IPyServer(rpi_led.make_driver(led=mock_led), host="127.0.0.1", port=port)
    async with serving(server, ports=[port]):
        await setprop(port, "LED.LED_SWITCH.ON=On")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Ok")
        lit = len(pin_history(mock_led))
        await setprop(port, "LED.BLINK.RATE=5")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Busy")
        await until(lambda: pin_history(mock_led)[lit:].count(False) >= 2,
                    what="the pin going low twice while blinking")
        await setprop(port, "LED.BLINK.RATE=0")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Ok")
        steady = pin_history(mock_led)
        assert steady[-1] is True
        assert float((await getprop(port, "LED.BLINK.RATE"))["LED.BLINK.RATE"]) == 0
        assert pin_history(mock_led) == steady


async def test_blink_rate_above_the_limit_is_refused(
    mock_led: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """RATE=50 is above max 10: the driver logs the refusal (the evidence that the request was
    dealt with), the rate stays at 0 and the pin has not changed since it was lit."""
    port = free_port()
    server = IPyServer(rpi_led.make_driver(led=mock_led), host="127.0.0.1", port=port)
    async with serving(server, ports=[port]):
        await setprop(port, "LED.LED_SWITCH.ON=On")
        await wait_for_value(port, "LED.LED_STATE.LED", lambda v: v == "Ok")
        lit = pin_history(mock_led)
        with caplog.at_level(logging.WARNING, logger="indipydriver.driver"):
            await setprop(port, "LED.BLINK.RATE=50")
            refusal = await until(
                lambda: [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()],
                what="the driver's refusal of RATE=50")
        assert "RATE" in refusal[0] and "max 10" in refusal[0], refusal
        assert float((await getprop(port, "LED.BLINK.RATE"))["LED.BLINK.RATE"]) == 0
        assert pin_history(mock_led) == lit and lit[-1] is True


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


def test_without_the_rpi_extra_the_script_says_to_install_it(tmp_path: Path) -> None:
    """Issue 58, 4k: ``python examples/rpi_led.py`` where gpiozero is not installed (hidden
    here as an uninstalled module is: ModuleNotFoundError on import) exits 1 with one line
    naming the ``[rpi]`` extra, where it once ended in a bare ModuleNotFoundError traceback."""
    script = Path(rpi_led.__file__)
    hide_and_run = ("import runpy, sys; sys.modules['gpiozero'] = None; "
                    f"sys.argv = [{str(script)!r}, '--mock', '--port', '1']; "
                    f"runpy.run_path({str(script)!r}, run_name='__main__')")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", hide_and_run], capture_output=True, text=True,
                          timeout=60, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert 'pip install ".[rpi]"' in done.stderr and "gpiozero" in done.stderr, done.stderr
