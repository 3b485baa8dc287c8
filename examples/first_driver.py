"""A first driver: a dew heater with an on/off switch and a power level (docs: Getting started).

Run ``python examples/first_driver.py`` and use indi_setprop/indi_getprop on port 7624.
"""


import indipydriver as ipd
from indipyserver import IPyServer


class DewHeater(ipd.IPyDriver):
    async def rxevent(self, event):
        match event:
            case ipd.newSwitchVector(vectorname="HEATER"):
                on = event.get("ON") == "On"          # real code: set a GPIO or relay here
                event.vector["ON"] = "On" if on else "Off"
                event.vector["OFF"] = "Off" if on else "On"
                await event.vector.send_setVector(state="Ok")
            case ipd.newNumberVector(vectorname="POWER") if "LEVEL" in event:
                event.vector["LEVEL"] = event["LEVEL"]   # already checked against 0..100
                await event.vector.send_setVector(state="Ok")


def make_driver():
    heater = ipd.SwitchVector(
        name="HEATER", label="Heater", group="Control", perm="rw", rule="OneOfMany",
        state="Ok", switchmembers=[ipd.SwitchMember("ON", membervalue="Off"),
                                   ipd.SwitchMember("OFF", membervalue="On")])
    power = ipd.NumberVector(
        name="POWER", label="Power", group="Control", perm="rw", state="Ok",
        numbermembers=[ipd.NumberMember("LEVEL", label="Power (%)", format="%.0f",
                                        min="0", max="100", step="5", membervalue=50)])
    return DewHeater(ipd.Device("Dew Heater", [heater, power]))


if __name__ == "__main__":
    IPyServer(make_driver(), host="localhost", port=7624).run()
