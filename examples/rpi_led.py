"""An INDI driver for an LED on a Raspberry Pi GPIO pin, with a blink rate.

Wiring: GPIO17 (physical pin 11) -> 330 ohm resistor -> LED anode (long leg); LED cathode ->
GND (physical pin 9). Install gpiozero (in the toolkit's clone: ``pip install ".[rpi]"``; on a
Pi gpiozero also needs a pin library such as lgpio, see docs/guides/raspberry_pi_led.rst), and
from the clone run::

    python examples/rpi_led.py                    # on a Pi: drives the real LED
    python examples/rpi_led.py --mock             # anywhere: gpiozero's mock pins
    python examples/rpi_led.py --pin 27 --port 7625 --host 0.0.0.0

Off a Pi the mock pin factory is chosen automatically. Then from any INDI client::

    indi_setprop "LED.LED_SWITCH.ON=On"           # the LED lights
    indi_setprop "LED.BLINK.RATE=2"               # two flashes a second (0 = steady)
    indi_setprop "LED.LED_SWITCH.OFF=On"          # dark again
    indi_getprop "LED.*.*"                        # LED.LED_STATE.LED is Ok / Busy / Idle

What to expect: ``LED.LED_STATE.LED`` reports Ok (steadily lit), Busy (blinking) or Idle (off).
Each switch or rate request is logged as one line with the LED's state, blink rate and the pin's
value at that moment (``... INFO rpi_led: LED on, blink rate 2.0 Hz, pin value 1``); the toggles of
a blink are not logged, on real or mock pins.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import indipydriver as ipd
from indipycore.commandline import configure_logging
from indipyserver import IPyServer

DEVICE = "LED"
logger = logging.getLogger("rpi_led")
NEEDS_GPIOZERO = ("this example drives the LED with gpiozero, which is not installed: in the "
                  'toolkit\'s clone, pip install ".[rpi]" (on a Pi gpiozero also needs a pin '
                  "library such as lgpio: docs/guides/raspberry_pi_led.rst)")


def running_on_pi() -> bool:
    """True on a Raspberry Pi (its device tree names the board)."""
    try:
        return "raspberry pi" in Path("/proc/device-tree/model").read_text(errors="replace").lower()
    except OSError:
        return False


def make_led(pin: int, mock: bool) -> Any:
    """A ``gpiozero.LED`` on ``pin``; on mock pins unless on a Pi and ``mock`` is false."""
    # gpiozero is imported here only: the toolkit itself never needs it.
    try:
        from gpiozero import LED
        from gpiozero import Device as GPIODevice
        from gpiozero.pins.mock import MockFactory
    except ModuleNotFoundError as exc:
        if exc.name != "gpiozero":
            raise
        raise ModuleNotFoundError(NEEDS_GPIOZERO, name="gpiozero") from None

    if mock or not running_on_pi():
        # Choosing the factory ourselves avoids gpiozero's fallback warning off a Pi, so say
        # it here: a driver that lights nothing must not look like one that works.
        if mock:
            logger.info("GPIO%d: gpiozero's mock pins (--mock)", pin)
        else:
            logger.warning("not on a Raspberry Pi: GPIO%d is a gpiozero mock pin, no LED will "
                           "light (--mock says so on purpose)", pin)
        GPIODevice.pin_factory = MockFactory()
    return LED(pin)


class LEDDriver(ipd.IPyDriver):
    """Switches, blinks and reports one LED (``driverdata["led"]``, a gpiozero LED)."""

    async def rxevent(self, event: Any) -> None:
        # (A bare name such as DEVICE inside a case pattern would *capture*, not compare.)
        if event.devicename != DEVICE:
            return
        match event:
            case ipd.newSwitchVector(vectorname="LED_SWITCH"):
                if event.get("ON") == "On":
                    self.driverdata["lit"] = True
                elif event.get("OFF") == "On":
                    self.driverdata["lit"] = False
                await self.apply()
            case ipd.newNumberVector(vectorname="BLINK") if "RATE" in event:
                self.driverdata["rate"] = event.getfloatvalue("RATE")
                await self.apply()

    async def apply(self) -> None:
        """Drive the pin from the wanted state and report every vector back to clients."""
        led = self.driverdata["led"]
        lit: bool = self.driverdata["lit"]
        rate: float = self.driverdata["rate"]
        device = self[DEVICE]
        if not lit:
            led.off()
            light = "Idle"
        elif rate > 0:
            half_period = 0.5 / rate
            led.blink(on_time=half_period, off_time=half_period, background=True)
            light = "Busy"
        else:
            led.on()
            light = "Ok"
        switch = device["LED_SWITCH"]
        switch["ON"] = "On" if lit else "Off"
        switch["OFF"] = "Off" if lit else "On"
        switch.state = "Ok"
        await switch.send_setVector()
        blink = device["BLINK"]
        blink["RATE"] = rate
        blink.state = "Ok"
        await blink.send_setVector()
        state = device["LED_STATE"]
        state["LED"] = light
        await state.send_setVector()
        logger.info("LED %s, blink rate %s Hz, pin value %s", "on" if lit else "off", rate, led.value)


def make_driver(pin: int = 17, mock: bool = False, led: Any = None) -> LEDDriver:
    """The LED driver; pass ``led`` to use an existing gpiozero LED (tests do)."""
    led = led if led is not None else make_led(pin, mock)
    switch = ipd.SwitchVector(
        name="LED_SWITCH",
        label="LED",
        group="Control",
        perm="rw",
        rule="OneOfMany",
        state="Ok",
        switchmembers=[
            ipd.SwitchMember(name="ON", label="On", membervalue="Off"),
            ipd.SwitchMember(name="OFF", label="Off", membervalue="On"),
        ],
    )
    blink = ipd.NumberVector(
        name="BLINK",
        label="Blink",
        group="Control",
        perm="rw",
        state="Ok",
        numbermembers=[
            ipd.NumberMember(
                name="RATE", label="Rate (Hz, 0 = steady)", format="%.1f",
                min="0", max="10", step="0.5", membervalue=0,
            )
        ],
    )
    state = ipd.LightVector(
        name="LED_STATE",
        label="LED state",
        group="Control",
        state="Ok",
        lightmembers=[ipd.LightMember(name="LED", label="LED", membervalue="Idle")],
    )
    device = ipd.Device(DEVICE, [switch, blink, state])
    return LEDDriver(device, led=led, lit=False, rate=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description="INDI driver for a Raspberry Pi LED")
    parser.add_argument("--pin", type=int, default=17, help="GPIO (BCM) number, default 17")
    parser.add_argument("--mock", action="store_true", help="use gpiozero's mock pins")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=7624)
    args = parser.parse_args()
    configure_logging(logging.INFO)  # the toolkit's one log format
    try:
        driver = make_driver(args.pin, args.mock)
    except ModuleNotFoundError as exc:
        if exc.name != "gpiozero":
            raise
        parser.exit(1, f"rpi_led.py: {exc}\n")  # the [rpi] extra, not a traceback
    print(f"LED on GPIO{args.pin} served on {args.host}:{args.port}; Ctrl-C to stop")
    try:
        IPyServer(driver, host=args.host, port=args.port).run()
    except KeyboardInterrupt:
        pass
    finally:
        driver.driverdata["led"].close()


if __name__ == "__main__":
    main()
