"""An LED switched by a client, in the style of indipydriver 3.x's first example.

    python led.py [PORT] [--stdio]
"""

import asyncio
import sys

import indipydriver as ipd
from indipyserver import IPyServer


class LED:
    """Stands in for gpiozero.LED on a machine without GPIO pins."""

    def __init__(self, pin):
        self.pin = pin
        self.is_lit = False

    def on(self):
        self.is_lit = True

    def off(self):
        self.is_lit = False


class LEDDriver(ipd.IPyDriver):
    """Turns the LED on or off as a client asks."""

    async def rxevent(self, event):
        if event.devicename != "led":
            return
        led = self.driverdata["ledobj"]
        if (isinstance(event, ipd.newSwitchVector) and event.vectorname == "ledvector"
                and "ledmember" in event):
            value = event["ledmember"]
            if value == "On":
                led.on()
            elif value == "Off":
                led.off()
            else:
                return
            event.vector["ledmember"] = value
            await event.vector.send_setVector()


def make_driver(devicename, pin):
    led = LED(pin)
    member = ipd.SwitchMember(name="ledmember", label="LED Value",
                              membervalue="On" if led.is_lit else "Off")
    vector = ipd.SwitchVector(name="ledvector", label="LED", group="Control Group",
                              perm="wo", rule="AtMostOne", state="Ok",
                              switchmembers=[member])
    device = ipd.Device(devicename, properties=[vector])
    return LEDDriver(device, ledobj=led)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    driver = make_driver("led", 17)
    if "--stdio" in sys.argv:
        asyncio.run(driver.asyncrun())
    else:
        port = int(args[0]) if args else 7624
        server = IPyServer(driver, host="localhost", port=port, maxconnections=5)
        print(f"Running {__file__} with indipydriver {ipd.version}")
        asyncio.run(server.asyncrun())
