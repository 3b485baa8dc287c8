"""The watchdog's vectors: indilib 1.9.9's ``indi_watchdog`` as measured with indi_getprop
(names, labels, groups, permissions, formats, limits, rules, defaults), then ours beside them.

indilib's: WATCHDOG_HEARTBEAT, WATCHDOG_WEATHER (seconds, ``%.f``, 0..3600 step 60),
WATCHDOG_SETTINGS (INDISERVER_HOST, INDISERVER_PORT, SHUTDOWN_SCRIPT), WATCHDOG_Trigger
(AnyOfMany: TRIGGER_CLIENT, TRIGGER_WEATHER), WATCHDOG_SHUTDOWN (AnyOfMany: PARK_MOUNT,
PARK_DOME, EXECUTE_SCRIPT), WATCHDOG_MOUNT_POLICY (OneOfMany: MOUNT_IGNORED, MOUNT_LOCKS),
ACTIVE_DEVICES (ACTIVE_TELESCOPE, ACTIVE_DOME, ACTIVE_WEATHER); every one rw, Idle, timeout 60.

Ours: WATCHDOG_STALE and WATCHDOG_RESUME (seconds), ACTIVE_DEVICES' ACTIVE_CCD,
ACTIVE_SEQUENCER and ACTIVE_GUIDER (a guider agent, "" none), WATCHDOG_SHUTDOWN's
PAUSE_SEQUENCE, STOP_GUIDING, ABORT_EXPOSURE and WARM_CAMERA, and the
read-only WATCHDOG_STATUS (lights), WATCHDOG_CAUSE (text) and WATCHDOG_STEPS (lights).
"""

from __future__ import annotations

from indipyagents import defaults
from indipydriver import LightMember
from indipydriver import LightVector
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver.vectors import PropertyVector

from ..agentrole import FaceVectors

__all__ = ["SAVED", "STEPS", "WatchdogVectors", "make_vectors"]

MAIN = "Main Control"
OPTIONS = "Options"
STATUS = "Status"

#: The shutdown's steps in the order they run (WATCHDOG_STEPS' lights, WATCHDOG_SHUTDOWN's
#: switches of the same names).
STEPS = ("PAUSE_SEQUENCE", "STOP_GUIDING", "ABORT_EXPOSURE", "PARK_MOUNT", "PARK_DOME",
         "WARM_CAMERA", "EXECUTE_SCRIPT")
STEP_LABELS = {"PAUSE_SEQUENCE": "Pause sequence", "STOP_GUIDING": "Stop guiding",
               "ABORT_EXPOSURE": "Abort exposure",
               "PARK_MOUNT": "Park Mount", "PARK_DOME": "Park Dome",
               "WARM_CAMERA": "Warm camera", "EXECUTE_SCRIPT": "Execute Script"}
#: WATCHDOG_SHUTDOWN's switches as first defined: indilib's three in its order, then ours.
SHUTDOWN_DEFAULTS = {"PARK_MOUNT": "Off", "PARK_DOME": "Off", "EXECUTE_SCRIPT": "Off",
                     "PAUSE_SEQUENCE": "On", "STOP_GUIDING": "On", "ABORT_EXPOSURE": "Off",
                     "WARM_CAMERA": "Off"}

#: What CONFIG_SAVE writes (and the device takes at start: a restarted watchdog guards at once).
SAVED = ("WATCHDOG_HEARTBEAT", "WATCHDOG_WEATHER", "WATCHDOG_SETTINGS", "WATCHDOG_Trigger",
         "WATCHDOG_SHUTDOWN", "WATCHDOG_MOUNT_POLICY", "ACTIVE_DEVICES", "WATCHDOG_STALE",
         "WATCHDOG_RESUME")


def _seconds(name: str, label: str, member: str, group: str, default: float,
             minimum: float, maximum: float) -> NumberVector:
    vector = NumberVector(name, label, group, "rw", "Idle", [
        NumberMember(member, "Threshold (s)" if name in ("WATCHDOG_HEARTBEAT",
                                                         "WATCHDOG_WEATHER") else "Seconds",
                     "%.f", minimum, maximum, 60, default)])
    vector.timeout = "60"
    return vector


class WatchdogVectors(FaceVectors):
    """One face's vectors, each made afresh and typed by what it is, indilib's first in its
    order; `host`:`port` WATCHDOG_SETTINGS' first address."""

    def __init__(self, host: str = "localhost", port: int = 7624) -> None:
        self.heartbeat = _seconds("WATCHDOG_HEARTBEAT", "Heart beat", "WATCHDOG_HEARTBEAT_VALUE",
                                  MAIN, 0, 0, 3600)
        self.weather = _seconds("WATCHDOG_WEATHER", "Weather", "WATCHDOG_WEATHER_VALUE", MAIN, 0,
                                0, 3600)
        self.server = TextVector("WATCHDOG_SETTINGS", "Settings", MAIN, "rw", "Idle", [
            TextMember("INDISERVER_HOST", "indiserver host", host),
            TextMember("INDISERVER_PORT", "indiserver port", str(port)),
            TextMember("SHUTDOWN_SCRIPT", "shutdown script", "")])
        self.trigger = SwitchVector("WATCHDOG_Trigger", "Trigger", MAIN, "rw", "AnyOfMany",
                                    "Idle", [
            SwitchMember("TRIGGER_CLIENT", "Client", "Off"),
            SwitchMember("TRIGGER_WEATHER", "Weather", "Off")])
        self.shutdown = SwitchVector("WATCHDOG_SHUTDOWN", "Shutdown", MAIN, "rw", "AnyOfMany",
                                     "Idle", [
            SwitchMember(step, STEP_LABELS[step], value)
            for step, value in SHUTDOWN_DEFAULTS.items()])
        self.policy = SwitchVector("WATCHDOG_MOUNT_POLICY", "Mount Policy", OPTIONS, "rw",
                                   "OneOfMany", "Idle", [
            SwitchMember("MOUNT_IGNORED", "Mount ignored", "On"),
            SwitchMember("MOUNT_LOCKS", "Mount locks", "Off")])
        self.active = TextVector("ACTIVE_DEVICES", "Active devices", OPTIONS, "rw", "Idle", [
            TextMember("ACTIVE_TELESCOPE", "Telescope", defaults.MOUNT),
            TextMember("ACTIVE_DOME", "Dome", defaults.DOME),
            TextMember("ACTIVE_WEATHER", "Weather", defaults.WEATHER),
            TextMember("ACTIVE_CCD", "Camera", ""),
            TextMember("ACTIVE_SEQUENCER", "Sequencer", "Imager Agent"),
            TextMember("ACTIVE_GUIDER", "Guider", "")])
        self.stale = _seconds("WATCHDOG_STALE", "Stale weather", "WATCHDOG_STALE_VALUE", MAIN,
                              120, 10, 3600)
        self.resume = _seconds("WATCHDOG_RESUME", "Safe before resuming",
                               "WATCHDOG_RESUME_VALUE", MAIN, 600, 0, 86400)
        self.status = LightVector("WATCHDOG_STATUS", "Status", STATUS, "Idle", [
            LightMember("WEATHER", "Weather", "Idle"),
            LightMember("CLIENT", "Client heartbeat", "Idle"),
            LightMember("SAFE", "Safe", "Idle")])
        self.cause = TextVector("WATCHDOG_CAUSE", "Cause", STATUS, "ro", "Idle", [
            TextMember("CAUSE", "Why unsafe", "")])
        self.steps = LightVector("WATCHDOG_STEPS", "Shutdown steps", STATUS, "Idle", [
            LightMember(step, STEP_LABELS[step], "Idle") for step in STEPS])
        for vector in (self.server, self.trigger, self.shutdown, self.policy, self.active,
                       self.cause):
            vector.timeout = "60"


def make_vectors(host: str = "localhost", port: int = 7624) -> dict[str, PropertyVector]:
    """Every vector by name, indilib's first in its order; `host`:`port` WATCHDOG_SETTINGS'
    first address."""
    return WatchdogVectors(host, port).by_name()
