"""``indipy-conform --alpaca URL``: an ASCOM Alpaca server checked the way ConformU checks one.

First the management API (apiversions, description, configureddevices), then for each device
the protocol rules sent raw -- lower-case paths, a 4xx for an unknown type, number or member,
GET keys in any casing, PUT keys exactly cased with HTTP 400 and a reason for a mis-cased,
missing or unparseable one, ClientTransactionID echoed (0 for a mis-cased PUT key),
ServerTransactionID from 1 and increasing, the JSON envelope's exact keys -- and then the
device driven: connected, its common members read, a short safe sequence per type (a focuser
moves and halts, a wheel turns, a telescope unparks, slews, aborts and parks as its Can*
allow, a camera takes a short dark frame read as ImageBytes and as JSON), the error numbers
it answers (0x401 for a value out of range, 0x407 when disconnected) and its connection put
back as found. One `Check` per rule or member; a server's deviation is a FAIL naming the rule.

Synchronous on purpose: each request is bounded (``http_timeout``), each wait for a
completion property by ``step_timeout``; `check_alpaca` runs in a thread of its own when an
event loop must go on.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.devicetypes import device_type_from_name
from indipyalpaca.wire.devicetypes import device_type_from_url
from indipyalpaca.wire.errors import ErrorNumber
from indipyalpaca.wire.imagebytes import ImageBytesError
from indipyalpaca.wire.imagebytes import decode

from .alpacawire import AlpacaHttp
from .alpacawire import Reply
from .report import Check
from .report import Level

__all__ = ["AlpacaTarget", "check_alpaca", "parse_target"]

log = logging.getLogger(__name__)

SERVER = "server"
ENVELOPE_KEYS = ("ClientTransactionID", "ServerTransactionID", "ErrorNumber", "ErrorMessage")
UTC_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

#: The DeviceState names ConformU expects per type (anything else is an issue there).
DEVICE_STATE = {
    "camera": {"CameraState", "CCDTemperature", "CoolerPower", "HeatSinkTemperature",
               "ImageReady", "IsPulseGuiding", "PercentCompleted"},
    "telescope": {"Altitude", "AtHome", "AtPark", "Azimuth", "Declination", "IsPulseGuiding",
                  "RightAscension", "SideOfPier", "SiderealTime", "Slewing", "Tracking",
                  "UTCDate"},
    "focuser": {"IsMoving", "Position", "Temperature"},
    "filterwheel": {"Position"},
    "rotator": {"IsMoving", "MechanicalPosition", "Position"},
    "dome": {"Altitude", "AtHome", "AtPark", "Azimuth", "ShutterStatus", "Slewing"},
    "observingconditions": {"CloudCover", "DewPoint", "Humidity", "Pressure", "RainRate",
                            "SkyBrightness", "SkyQuality", "SkyTemperature", "StarFWHM",
                            "Temperature", "WindDirection", "WindGust", "WindSpeed"},
    "safetymonitor": {"IsSafe"},
    "covercalibrator": {"Brightness", "CalibratorState", "CoverState", "CalibratorChanging",
                        "CoverMoving"},
    "switch": set(),
}

#: A member of each type that needs the device connected (read to see 0x407 once it is not).
NEEDS_CONNECTION = {"camera": "camerastate", "telescope": "rightascension",
                    "focuser": "position", "filterwheel": "position", "rotator": "position",
                    "dome": "slewing", "observingconditions": "averageperiod",
                    "covercalibrator": "coverstate", "switch": "maxswitch"}

#: The camera's dark exposure (seconds): long enough that ImageReady must still be False
#: when read right after StartExposure returns.
EXPOSURE = 1.0

#: The asynchronous initiators ConformU times against 1 s.
ASYNC_INITIATORS = frozenset({"connect", "disconnect", "move", "moveabsolute", "startexposure",
                              "slewtocoordinatesasync", "slewtoazimuth", "park", "unpark"})
INITIATOR_SECONDS = 1.0

WEATHER_SENSORS = ("cloudcover", "dewpoint", "humidity", "pressure", "rainrate",
                   "skybrightness", "skyquality", "skytemperature", "starfwhm", "temperature",
                   "winddirection", "windgust", "windspeed")


@dataclass(frozen=True)
class AlpacaTarget:
    """One device to check: its URL type name, number, and (from the management API) name."""

    type_name: str
    number: int
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.type_name}/{self.number}"


def parse_target(text: str) -> AlpacaTarget:
    """``TYPE/NUMBER`` (``camera/0``) as a target; ValueError saying why for anything else."""
    kind, _, number = text.strip().partition("/")
    if device_type_from_url(kind.lower()) is None or not number.isdigit():
        raise ValueError(f"{text!r} is not TYPE/NUMBER (e.g. camera/0, telescope/0); types: "
                         + ", ".join(t.url_name for t in DeviceType))
    return AlpacaTarget(kind.lower(), int(number))


@dataclass
class Answer:
    """A member's reply once its envelope was checked: ``problem`` says what broke the rules
    (already reported), else ``number``/``message`` the Alpaca error and ``value`` the Value."""

    value: Any = None
    number: int = 0
    message: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and self.number == 0


def _hex(number: int) -> str:
    return f"0x{number:X}"


class AlpacaChecker:
    """The checks of one server, appended to ``out`` as they are made."""

    def __init__(self, http: AlpacaHttp, out: list[Check], step_timeout: float) -> None:
        self.http = http
        self.out = out
        self.step_timeout = step_timeout
        self.transaction = 0
        self.server_ids: list[int] = []

    # -- reporting ---------------------------------------------------------------------------

    def add(self, level: Level, device: str, prop: str, detail: str) -> None:
        self.out.append(Check(level, device, prop, detail))

    def passed(self, device: str, prop: str, detail: str) -> None:
        self.add(Level.PASS, device, prop, detail)

    def failed(self, device: str, prop: str, detail: str) -> None:
        self.add(Level.FAIL, device, prop, detail)

    def warned(self, device: str, prop: str, detail: str) -> None:
        self.add(Level.WARN, device, prop, detail)

    # -- requests ----------------------------------------------------------------------------

    def next_id(self) -> int:
        self.transaction += 1
        return self.transaction

    @staticmethod
    def path(target: AlpacaTarget, member: str) -> str:
        return f"/api/v1/{target.type_name}/{target.number}/{member}"

    def envelope_problem(self, reply: Reply, sent_id: int | None, value: bool) -> str:
        """What breaks the JSON envelope rules in ``reply`` ("" when nothing does)."""
        if reply.error:
            return reply.error
        if reply.status != 200:
            return f"expected HTTP 200, got {reply.describe()}"
        if not reply.is_json or not isinstance(reply.json, dict):
            return f"expected a JSON object with Content-Type application/json, got " \
                   f"{reply.describe()}"
        body = reply.json
        missing = [key for key in ENVELOPE_KEYS if key not in body]
        if missing:
            return f"the reply lacks {', '.join(missing)} (keys are exactly cased): {body!r:.160}"
        server_id = body["ServerTransactionID"]
        if not isinstance(server_id, int) or isinstance(server_id, bool):
            return f"ServerTransactionID {server_id!r} is not an integer"
        self.server_ids.append(server_id)
        number, message = body["ErrorNumber"], body["ErrorMessage"]
        if not isinstance(number, int) or not isinstance(message, str):
            return f"ErrorNumber {number!r} / ErrorMessage {message!r}: int and string expected"
        if bool(number) != bool(message):
            return f"ErrorNumber {number} with ErrorMessage {message!r}: a message when, and " \
                   f"only when, there is an error"
        if sent_id is not None and body["ClientTransactionID"] != sent_id:
            return f"ClientTransactionID {sent_id} sent, {body['ClientTransactionID']!r} echoed"
        if value and "Value" not in body:
            return "a GET reply without Value"
        return ""

    def answer(self, reply: Reply, sent_id: int | None, value: bool) -> Answer:
        problem = self.envelope_problem(reply, sent_id, value)
        if problem and not problem.startswith("ClientTransactionID"):
            return Answer(problem=problem)
        body = reply.json
        if problem:  # only the echo is wrong: keep what the reply says, and that too
            return Answer(body.get("Value"), body["ErrorNumber"], body["ErrorMessage"], problem)
        return Answer(body.get("Value"), body["ErrorNumber"], body["ErrorMessage"])

    def get(self, target: AlpacaTarget, member: str, query: str = "") -> Answer:
        ident = self.next_id()
        extra = f"&{query}" if query else ""
        reply = self.http.get(self.path(target, member),
                              f"ClientID=1&ClientTransactionID={ident}{extra}")
        return self.answer(reply, ident, True)

    def put(self, target: AlpacaTarget, member: str, form: str = "",
            timeout: float | None = None) -> Answer:
        ident = self.next_id()
        extra = f"&{form}" if form else ""
        reply = self.http.put(self.path(target, member),
                              f"ClientID=1&ClientTransactionID={ident}{extra}", timeout=timeout)
        return self.answer(reply, ident, False)

    def read(self, target: AlpacaTarget, member: str, *, kind: type | tuple[type, ...] = object,
             optional: bool = False, report: bool = True,
             check: Callable[[Any], str] | None = None) -> Answer:
        """GET ``member`` and say so: PASS with its value, FAIL on a broken reply, a value of
        the wrong kind, what ``check`` objects to, or an error (0x400 PASSes when
        ``optional``)."""
        answer = self.get(target, member)
        label = target.label
        if answer.problem:
            self.failed(label, member, answer.problem)
        elif answer.number == ErrorNumber.NOT_IMPLEMENTED and optional:
            if report:
                self.passed(label, member, "not implemented (0x400), allowed")
        elif answer.number:
            self.failed(label, member, f"error {_hex(answer.number)}: {answer.message}")
        elif kind is not object and (not isinstance(answer.value, kind) or (
                isinstance(answer.value, bool) and kind in (int, float, (int, float)))):
            self.failed(label, member, f"Value {answer.value!r} is not {_kind_name(kind)}")
            answer.problem = "wrong kind"
        elif check is not None and (why := check(answer.value)):
            self.failed(label, member, f"Value {answer.value!r}: {why}")
            answer.problem = why
        elif report:
            self.passed(label, member, f"= {_short(answer.value)}")
        return answer

    def command(self, target: AlpacaTarget, member: str, form: str, what: str,
                timeout: float | None = None) -> bool:
        """PUT ``member`` expecting success; a FAIL naming ``what`` otherwise. An
        asynchronous initiator that takes more than ConformU's 1 s to answer is a WARN."""
        began = time.monotonic()
        answer = self.put(target, member, form, timeout=timeout)
        took = time.monotonic() - began
        if answer.ok and member in ASYNC_INITIATORS and took > INITIATOR_SECONDS:
            self.warned(target.label, member, f"{what} took {took:.1f} s to answer: an "
                        f"asynchronous initiator returns within {INITIATOR_SECONDS:g} s")
        if answer.problem:
            self.failed(target.label, member, f"{what}: {answer.problem}")
        elif answer.number:
            self.failed(target.label, member, f"{what}: error {_hex(answer.number)}: "
                                              f"{answer.message}")
        return answer.ok

    def wait(self, target: AlpacaTarget, member: str, done: Callable[[Any], bool],
             timeout: float) -> tuple[bool, Any]:
        """Poll ``member`` until ``done`` says so, at most ``timeout`` seconds: (done?, last
        value or the error that ended it)."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            answer = self.get(target, member)
            if not answer.ok:
                return False, answer.problem or f"error {_hex(answer.number)}: {answer.message}"
            last = answer.value
            if done(last):
                return True, last
            if time.monotonic() >= deadline:
                return False, last
            time.sleep(0.2)

    # -- the management API -----------------------------------------------------------------

    def management(self) -> list[AlpacaTarget] | None:
        """The management API checked; the configured devices, None when it has none."""
        ident = self.next_id()
        reply = self.http.get("/management/apiversions", f"ClientTransactionID={ident}")
        if reply.status != 200 or not isinstance(reply.value("Value"), list):
            self.failed(SERVER, "management/apiversions",
                        f"no management API: {reply.describe()}")
            return None
        if 1 in reply.value("Value"):
            self.passed(SERVER, "management/apiversions", f"= {reply.value('Value')}")
        else:
            self.failed(SERVER, "management/apiversions",
                        f"{reply.value('Value')!r} does not list version 1")
        reply = self.http.get("/management/v1/description", "ClientTransactionID=2")
        value = reply.value("Value")
        keys = ("ServerName", "Manufacturer", "ManufacturerVersion", "Location")
        if reply.status != 200 or not isinstance(value, dict):
            self.failed(SERVER, "management/v1/description", reply.describe())
        elif missing := [key for key in keys if not isinstance(value.get(key), str)]:
            self.failed(SERVER, "management/v1/description",
                        f"lacks {', '.join(missing)} (strings, exactly cased): {value!r:.160}")
        else:
            self.passed(SERVER, "management/v1/description", f"ServerName {value['ServerName']!r}")
        reply = self.http.get("/management/v1/configureddevices", "ClientTransactionID=3")
        value = reply.value("Value")
        if reply.status != 200 or not isinstance(value, list):
            self.failed(SERVER, "management/v1/configureddevices", reply.describe())
            return None
        targets: list[AlpacaTarget] = []
        keys = ("DeviceName", "DeviceType", "DeviceNumber", "UniqueID")
        for entry in value:
            missing = [k for k in keys if not isinstance(entry, dict) or k not in entry]
            kind = None if missing else device_type_from_name(str(entry["DeviceType"]))
            if missing or kind is None or not isinstance(entry["DeviceNumber"], int):
                self.failed(SERVER, "management/v1/configureddevices",
                            f"a malformed entry (DeviceName, DeviceType in PascalCase, "
                            f"DeviceNumber, UniqueID): {entry!r:.160}")
                continue
            targets.append(AlpacaTarget(kind.url_name, entry["DeviceNumber"],
                                        str(entry["DeviceName"])))
        unique = [e.get("UniqueID") for e in value if isinstance(e, dict)]
        if len(set(map(str, unique))) != len(unique):
            self.failed(SERVER, "management/v1/configureddevices", f"UniqueIDs repeat: {unique}")
        self.passed(SERVER, "management/v1/configureddevices",
                    f"{len(targets)} devices: {', '.join(t.label for t in targets) or 'none'}")
        return targets

    # -- the protocol rules, per device -------------------------------------------------------

    def expect_4xx(self, target: AlpacaTarget, rule: str, path: str) -> None:
        reply = self.http.get(path, "ClientID=1&ClientTransactionID=1")
        if 400 <= reply.status < 500:
            self.passed(target.label, rule, f"GET {path}: HTTP {reply.status}")
        else:
            self.failed(target.label, rule, f"GET {path} must be a 4xx (400), got "
                                            f"{reply.describe()}")

    def expect_400(self, target: AlpacaTarget, rule: str, form: str,
                   or_invalid_value: bool = False) -> None:
        """PUT ``connected`` with ``form`` verbatim: HTTP 400 with a reason expected."""
        path = self.path(target, "connected")
        reply = self.http.put(path, form)
        if reply.status == 400 and reply.body.strip():
            self.passed(target.label, rule, f"PUT connected {form!r}: 400 "
                                            f"{reply.body[:80].decode('utf-8', 'replace')!r}")
        elif reply.status == 400:
            self.failed(target.label, rule, f"PUT connected {form!r}: 400 without a reason")
        elif (or_invalid_value and reply.status == 200 and isinstance(reply.json, dict)
              and reply.json.get("ErrorNumber") == ErrorNumber.INVALID_VALUE):
            self.passed(target.label, rule, f"PUT connected {form!r}: 200 with 0x401")
        else:
            self.failed(target.label, rule, f"PUT connected {form!r} must be HTTP 400 with "
                                            f"a reason, got {reply.describe()}")

    def protocol(self, target: AlpacaTarget) -> bool:
        """The protocol rules on one device; False when the device does not answer at all."""
        label = target.label
        path = self.path(target, "interfaceversion")
        reply = self.http.get(path, "ClientID=1&ClientTransactionID=4711")
        problem = self.envelope_problem(reply, 4711, True)
        if problem:
            self.failed(label, "envelope", f"GET interfaceversion: {problem}")
            if reply.error or reply.status != 200:
                return False
        else:
            self.passed(label, "envelope", "JSON with ClientTransactionID echoed, "
                                           "ServerTransactionID, ErrorNumber, ErrorMessage, Value")
        reply = self.http.get(path, "clientid=1&clienttransactionid=4321")
        echoed = reply.value("ClientTransactionID")
        if reply.status == 200 and echoed == 4321:
            self.passed(label, "GET key casing", "clienttransactionid=4321 echoed")
        else:
            self.failed(label, "GET key casing", f"GET keys are case-insensitive: "
                        f"clienttransactionid=4321 sent, "
                        f"{echoed if reply.status == 200 else reply.describe()!r} back")
        reply = self.http.get(path, "ClientTransactionID=12&UnknownKey=1")
        if reply.status == 200 and reply.value("ErrorNumber") == 0:
            self.passed(label, "extra GET key", "an unknown key is ignored")
        else:
            self.failed(label, "extra GET key", f"an unknown key must be ignored, got "
                                                f"{reply.describe()}")
        for text in ("abc", "-5"):
            reply = self.http.get(path, f"ClientTransactionID={text}")
            echoed = reply.value("ClientTransactionID")
            if reply.status == 400:
                self.passed(label, "bad ClientTransactionID", f"{text!r}: 400")
            elif reply.status == 200 and echoed == 0:
                self.warned(label, "bad ClientTransactionID", f"{text!r}: 200 echoing 0 "
                                                              f"(ConformU's tolerant mode)")
            else:
                self.failed(label, "bad ClientTransactionID", f"{text!r} must be 400 (or 200 "
                            f"echoing 0): got {reply.describe()}")
        self.expect_4xx(target, "path casing",
                        f"/api/v1/{target.type_name.capitalize()}/{target.number}/interfaceversion")
        self.expect_4xx(target, "path casing", self.path(target, "InterfaceVersion"))
        self.expect_4xx(target, "unknown device number",
                        f"/api/v1/{target.type_name}/99999/interfaceversion")
        self.expect_4xx(target, "bad device number",
                        f"/api/v1/{target.type_name}/A/interfaceversion")
        self.expect_4xx(target, "unknown member", self.path(target, "nosuchmember"))
        self.expect_400(target, "PUT key casing", "connected=true&ClientID=1&ClientTransactionID=1")
        self.expect_400(target, "PUT key missing", "ClientID=1&ClientTransactionID=1")
        self.expect_400(target, "PUT value", "Connected=asdqwe&ClientID=1&ClientTransactionID=1",
                        or_invalid_value=True)
        now = self.get(target, "connected")
        state = "true" if now.value is True else "false"
        reply = self.http.put(self.path(target, "connected"),
                              f"Connected={state}&ClientID=1&clienttransactionid=5")
        if reply.status == 200 and reply.value("ClientTransactionID") == 0:
            self.passed(label, "PUT ClientTransactionID casing",
                        "clienttransactionid=5 (mis-cased) answered 200 echoing 0")
        else:
            self.failed(label, "PUT ClientTransactionID casing",
                        f"a mis-cased clienttransactionid must be 200 echoing 0, got "
                        f"{reply.describe()}")
        answer = self.put(target, "connected", f"Connected={state}")
        if answer.problem:
            self.failed(label, "PUT envelope", f"PUT connected: {answer.problem}")
        else:
            self.passed(label, "PUT envelope", "ClientTransactionID echoed on PUT")
        return True

    # -- a device driven ---------------------------------------------------------------------

    def device(self, target: AlpacaTarget) -> None:
        label = target.label
        if not self.protocol(target):
            self.failed(label, "device", "not driven: it does not answer")
            return
        version = self.read(target, "interfaceversion", kind=int)
        kind = device_type_from_url(target.type_name)
        p7 = kind is not None and isinstance(version.value, int) and \
            version.value >= kind.interface_version
        if kind is not None and version.ok and not p7:
            self.warned(label, "interfaceversion", f"{version.value} is older than Platform 7's "
                                                   f"{kind.interface_version}")
        was = self.get(target, "connected").value is True
        if not self.connect(target, p7):
            return
        for member in ("name", "description", "driverinfo", "driverversion"):
            self.read(target, member, kind=str)
        self.read(target, "supportedactions", kind=list)
        if p7:
            self.read(target, "connecting", kind=bool, check=lambda v: "" if v is False else
                      "Connecting while connected")
            self.read(target, "devicestate", kind=list,
                      check=lambda v: _device_state_problem(target.type_name, v))
        sequence = SEQUENCES.get(target.type_name)
        if sequence is not None:
            try:
                sequence(self, target)
            except Exception as exc:  # one sequence's surprise: FAIL, the rest goes on
                log.debug("sequence of %s", label, exc_info=True)
                self.failed(label, target.type_name, f"the sequence stopped on an error: "
                                                     f"{type(exc).__name__}: {exc}")
        self.disconnect_and_restore(target, p7, was)

    def connect(self, target: AlpacaTarget, p7: bool) -> bool:
        label = target.label
        if p7:
            if not self.command(target, "connect", "", "Connect"):
                return False
            done, last = self.wait(target, "connecting", lambda v: v is False,
                                   self.step_timeout)
            if not done:
                self.failed(label, "connecting", f"still connecting after "
                                                 f"{self.step_timeout:g} s: {last!r}")
                return False
        elif not self.command(target, "connected", "Connected=true", "Connected=true"):
            return False
        answer = self.get(target, "connected")
        if answer.value is True:
            self.passed(label, "connect", "Connect" if p7 else "Connected=true")
            return True
        self.failed(label, "connected", f"not connected after "
                                        f"{'Connect' if p7 else 'Connected=true'}: "
                                        f"{answer.problem or answer.value!r}")
        return False

    def disconnect_and_restore(self, target: AlpacaTarget, p7: bool, was: bool) -> None:
        label = target.label
        if p7:
            ok = self.command(target, "disconnect", "", "Disconnect") and self.wait(
                target, "connecting", lambda v: v is False, self.step_timeout)[0]
        else:
            ok = self.command(target, "connected", "Connected=false", "Connected=false")
        if not ok:
            return
        if self.get(target, "connected").value is not False:
            self.failed(label, "connected", "still true after disconnecting")
            return
        member = NEEDS_CONNECTION.get(target.type_name)
        if member:
            answer = self.get(target, member)
            if answer.number == ErrorNumber.NOT_CONNECTED:
                self.passed(label, "NotConnected", f"{member} while disconnected: 0x407")
            elif answer.number == ErrorNumber.NOT_IMPLEMENTED:
                self.passed(label, "NotConnected", f"{member} is not implemented")
            else:
                self.failed(label, "NotConnected", f"{member} while disconnected must be "
                            f"0x407, got {_answer_text(answer)}")
        # ConformU reconnects at once with the parameters in another order
        ident = self.next_id()
        reply = self.http.put(self.path(target, "connected"),
                              f"ClientTransactionID={ident}&Connected=true&ClientID=1")
        answer = self.answer(reply, ident, False)
        done, last = (self.wait(target, "connected", lambda v: v is True, self.step_timeout)
                      if answer.ok else (False, _answer_text(answer)))
        if done:
            self.passed(label, "reconnect", "Connected=true with the parameters reordered")
        else:
            self.failed(label, "reconnect", f"Connected=true with the parameters reordered: "
                                            f"{answer.problem or last!r}")
        if not was:
            self.command(target, "connected", "Connected=false", "Connected=false (as found)")

    def invalid_value(self, target: AlpacaTarget, member: str, form: str) -> None:
        """PUT ``member`` with ``form`` out of range: 0x401 (InvalidValue) expected."""
        self.expect_error(target, self.put(target, member, form), ErrorNumber.INVALID_VALUE,
                          "InvalidValue", f"PUT {member} {form}")

    def expect_error(self, target: AlpacaTarget, answer: Answer, number: ErrorNumber,
                     rule: str, what: str) -> None:
        """``answer`` (to ``what`` was sent) must carry error ``number`` in a sound
        envelope: a PASS or FAIL of ``rule`` (the exception's name)."""
        code = _hex(number)
        if answer.number == number and not answer.problem:
            self.passed(target.label, rule, f"{what}: {code}")
        elif answer.number == number:
            self.failed(target.label, rule, f"{what}: {code}, but {answer.problem}")
        else:
            self.failed(target.label, rule, f"{what} must be {code}, got {_answer_text(answer)}")


# -- per type --------------------------------------------------------------------------------


def _focuser(c: AlpacaChecker, t: AlpacaTarget) -> None:
    absolute = c.read(t, "absolute", kind=bool)
    maximum = c.read(t, "maxstep", kind=int, check=lambda v: "" if v > 0 else "must be > 0")
    c.read(t, "maxincrement", kind=int)
    c.read(t, "temperature", kind=(int, float), optional=True)
    c.read(t, "tempcompavailable", kind=bool)
    start = c.read(t, "position", kind=int, optional=not absolute.value)
    if not (absolute.value is True and maximum.ok and start.ok):
        c.warned(t.label, "move", "not driven: not an absolute focuser with a position")
        return
    top, here = int(maximum.value), int(start.value)
    step = max(1, min(100, top // 10))
    target = here + step if here + step <= top else here - step
    if not c.command(t, "move", f"Position={target}", f"Move to {target}"):
        return
    done, last = c.wait(t, "ismoving", lambda v: v is False, c.step_timeout)
    position = c.get(t, "position").value
    if done and position == target:
        c.passed(t.label, "move", f"{here} -> {target}, IsMoving went False")
    else:
        c.failed(t.label, "move", f"to {target}: IsMoving {last!r}, Position {position!r} "
                                  f"after {c.step_timeout:g} s")
    c.command(t, "move", f"Position={here}", f"Move back to {here}")
    answer = c.put(t, "halt")
    if answer.number == ErrorNumber.NOT_IMPLEMENTED:
        c.passed(t.label, "halt", "not implemented (0x400), allowed")
    elif not answer.ok:
        c.failed(t.label, "halt", answer.problem or _answer_text(answer))
    else:
        done, last = c.wait(t, "ismoving", lambda v: v is False, c.step_timeout)
        if done:
            c.passed(t.label, "halt", "IsMoving False after Halt")
        else:
            c.failed(t.label, "halt", f"IsMoving {last!r} {c.step_timeout:g} s after Halt")
    c.wait(t, "ismoving", lambda v: v is False, c.step_timeout)
    c.command(t, "move", f"Position={here}", f"Move back to {here}")
    c.wait(t, "ismoving", lambda v: v is False, c.step_timeout)


def _filterwheel(c: AlpacaChecker, t: AlpacaTarget) -> None:
    names = c.read(t, "names", kind=list, check=lambda v: "" if v and all(
        isinstance(n, str) and n for n in v) else "a list of non-empty names expected")
    offsets = c.read(t, "focusoffsets", kind=list)
    if names.ok and offsets.ok and len(names.value) != len(offsets.value):
        c.failed(t.label, "focusoffsets", f"{len(offsets.value)} offsets for "
                                          f"{len(names.value)} names")
    start = c.read(t, "position", kind=int)
    if not (names.ok and start.ok) or not names.value:
        return
    count, here = len(names.value), int(start.value)
    target = (here + 1) % count
    if c.command(t, "position", f"Position={target}", f"Position={target}"):
        done, last = c.wait(t, "position", lambda v: v == target, c.step_timeout)
        if done:
            c.passed(t.label, "position", f"{here} -> {target}")
        else:
            c.failed(t.label, "position", f"not at {target} after {c.step_timeout:g} s: {last!r}")
    c.invalid_value(t, "position", f"Position={count}")
    if c.command(t, "position", f"Position={here}", f"back to {here}"):
        c.wait(t, "position", lambda v: v == here, c.step_timeout)


def _telescope(c: AlpacaChecker, t: AlpacaTarget) -> None:
    can = {name: c.read(t, name, kind=bool).value is True
           for name in ("canpark", "canunpark", "canslewasync", "canslew", "cansettracking",
                        "cansync")}
    c.read(t, "rightascension", kind=(int, float),
           check=lambda v: "" if 0 <= v < 24 else "hours, 0 to 24")
    c.read(t, "declination", kind=(int, float),
           check=lambda v: "" if -90 <= v <= 90 else "degrees, -90 to 90")
    c.read(t, "altitude", kind=(int, float), optional=True)
    c.read(t, "azimuth", kind=(int, float), optional=True)
    sidereal = c.read(t, "siderealtime", kind=(int, float))
    c.read(t, "equatorialsystem", kind=int)
    latitude = c.read(t, "sitelatitude", kind=(int, float), optional=True,
                      check=lambda v: "" if -90 <= v <= 90 else "degrees, -90 to 90")
    c.read(t, "sitelongitude", kind=(int, float), optional=True,
           check=lambda v: "" if -180 <= v <= 180 else "degrees east, -180 to 180")
    c.read(t, "utcdate", kind=str, check=lambda v: "" if UTC_DATE.match(v) else
           "ISO 8601 UTC ending in Z expected")
    c.invalid_value(t, "sitelatitude", "SiteLatitude=100")
    parked = c.read(t, "atpark", kind=bool)
    if can["canslewasync"] != can["canslew"]:
        c.warned(t.label, "canslew", "CanSlew and CanSlewAsync differ")
    if parked.value is True and not can["canunpark"]:
        c.warned(t.label, "slew", "not driven: parked and CanUnpark is False")
        return
    if parked.value is True and c.command(t, "unpark", "", "Unpark"):
        done, _ = c.wait(t, "atpark", lambda v: v is False, c.step_timeout)
        (c.passed if done else c.failed)(t.label, "unpark", "AtPark False" if done else
                                         "AtPark still True")
    if can["cansettracking"]:
        c.command(t, "tracking", "Tracking=true", "Tracking=true")
    if can["canslewasync"] and sidereal.ok:
        ra = (float(sidereal.value) - 1.0) % 24.0
        north = not isinstance(latitude.value, (int, float)) or latitude.value >= 0
        dec = 45.0 if north else -45.0
        if c.command(t, "slewtocoordinatesasync", f"RightAscension={ra:.6f}&Declination={dec}",
                     "SlewToCoordinatesAsync"):
            c.passed(t.label, "slewtocoordinatesasync", f"RA {ra:.4f} h Dec {dec} accepted")
            if c.command(t, "abortslew", "", "AbortSlew"):
                done, last = c.wait(t, "slewing", lambda v: v is False, c.step_timeout)
                (c.passed if done else c.failed)(
                    t.label, "abortslew", "Slewing False after AbortSlew" if done else
                    f"Slewing {last!r} {c.step_timeout:g} s after AbortSlew")
    else:
        c.warned(t.label, "slewtocoordinatesasync", "not driven: CanSlewAsync is False")
    for axis in (0, 1):
        _move_axis(c, t, axis)
    if can["canpark"]:
        if c.command(t, "park", "", "Park"):
            done, last = c.wait(t, "atpark", lambda v: v is True, c.step_timeout)
            (c.passed if done else c.failed)(
                t.label, "park", "AtPark True" if done else
                f"AtPark {last!r} {c.step_timeout:g} s after Park")
            if done:
                answer = c.put(t, "slewtocoordinatesasync", "RightAscension=1&Declination=45")
                c.expect_error(t, answer, ErrorNumber.INVALID_WHILE_PARKED, "InvalidWhileParked",
                               "a slew while parked")
        if parked.value is False and can["canunpark"]:
            c.command(t, "unpark", "", "Unpark (as found)")
            c.wait(t, "atpark", lambda v: v is False, c.step_timeout)


def _move_axis(c: AlpacaChecker, t: AlpacaTarget, axis: int) -> None:
    """CanMoveAxis and AxisRates agree; where it can, MoveAxis at the fastest rate listed
    makes Slewing True, Rate 0 makes it False, and twice that rate is InvalidValue; where it
    cannot, MoveAxis is not implemented (0x400)."""
    can = c.get(t, "canmoveaxis", f"Axis={axis}")
    rates = c.get(t, "axisrates", f"Axis={axis}")
    member = f"moveaxis({axis})"
    if not (can.ok and isinstance(can.value, bool) and rates.ok
            and isinstance(rates.value, list)):
        c.failed(t.label, member, f"CanMoveAxis {can.value!r}, AxisRates {rates.value!r}")
        return
    ranges = [r for r in rates.value if isinstance(r, dict)
              and isinstance(r.get("Minimum"), (int, float))
              and isinstance(r.get("Maximum"), (int, float)) and r["Minimum"] <= r["Maximum"]]
    if len(ranges) != len(rates.value) or bool(ranges) != can.value:
        c.failed(t.label, member, f"CanMoveAxis {can.value} with AxisRates {rates.value!r}")
        return
    if not can.value:
        c.expect_error(t, c.put(t, "moveaxis", f"Axis={axis}&Rate=1"),
                       ErrorNumber.NOT_IMPLEMENTED, "NotImplemented", f"MoveAxis axis {axis}")
        return
    fastest = max(float(r["Maximum"]) for r in ranges)
    if c.command(t, "moveaxis", f"Axis={axis}&Rate={fastest!r}", f"MoveAxis {fastest:g}"):
        moving, last = c.wait(t, "slewing", lambda v: v is True, c.step_timeout)
        stopped = c.command(t, "moveaxis", f"Axis={axis}&Rate=0", "MoveAxis 0") and c.wait(
            t, "slewing", lambda v: v is False, c.step_timeout)[0]
        if moving and stopped:
            c.passed(t.label, member, f"Slewing at {fastest:g} degrees/s, stopped at 0")
        else:
            c.failed(t.label, member, f"Slewing {last!r} after MoveAxis {fastest:g}, "
                                      f"{'stopped' if stopped else 'not stopped'} at 0")
    c.invalid_value(t, "moveaxis", f"Axis={axis}&Rate={2 * fastest + 1:g}")


def _camera(c: AlpacaChecker, t: AlpacaTarget) -> None:
    def positive(v: Any) -> str:
        return "" if v > 0 else "must be > 0"

    width = c.read(t, "cameraxsize", kind=int, check=positive)
    height = c.read(t, "cameraysize", kind=int, check=positive)
    c.read(t, "maxadu", kind=int, check=lambda v: "" if v >= 1 else "must be >= 1")
    c.read(t, "pixelsizex", kind=(int, float), check=positive)
    c.read(t, "pixelsizey", kind=(int, float), check=positive)
    c.read(t, "sensortype", kind=int)
    c.read(t, "canabortexposure", kind=bool)
    c.read(t, "camerastate", kind=int)
    c.read(t, "ccdtemperature", kind=(int, float), optional=True)
    c.invalid_value(t, "binx", "BinX=0")
    binx = c.read(t, "binx", kind=int)
    if not (width.ok and height.ok and binx.ok):
        return
    c.command(t, "startx", "StartX=0", "StartX=0")
    c.command(t, "starty", "StartY=0", "StartY=0")
    c.command(t, "numx", f"NumX={width.value // binx.value}", "NumX")
    c.command(t, "numy", f"NumY={height.value // binx.value}", "NumY")
    minimum = c.get(t, "exposuremin")
    duration = max(EXPOSURE, float(minimum.value) if minimum.ok and isinstance(
        minimum.value, (int, float)) else EXPOSURE)
    if not c.command(t, "startexposure", f"Duration={duration}&Light=false",
                     f"StartExposure {duration} s dark"):
        return
    c.passed(t.label, "startexposure", f"{duration:g} s dark frame started")
    early = c.get(t, "imageready")
    if early.ok and early.value is True:
        c.failed(t.label, "imageready", "True right after StartExposure: a client would read "
                                        "the previous image as this one's")
    elif early.ok:
        c.passed(t.label, "imageready", "False right after StartExposure")
    done, last = c.wait(t, "imageready", lambda v: v is True, duration + c.step_timeout)
    if not done:
        state = c.get(t, "camerastate").value
        c.failed(t.label, "imageready", f"not True {duration + c.step_timeout:g} s after a "
                                        f"{duration:g} s exposure: {last!r} (CameraState "
                                        f"{state!r})")
        return
    c.passed(t.label, "imageready", "True")
    numx, numy = c.get(t, "numx").value, c.get(t, "numy").value
    _image_bytes(c, t, numx, numy)


def _image_bytes(c: AlpacaChecker, t: AlpacaTarget, numx: Any, numy: Any) -> None:
    path = c.path(t, "imagearray")
    reply = c.http.get(path, "ClientID=1&ClientTransactionID=321",
                       accept="application/imagebytes", timeout=max(60.0, c.http.timeout))
    pixels: list[int] | None = None
    if reply.content_type.split(";")[0].strip().lower() != "application/imagebytes":
        c.failed(t.label, "imagearray ImageBytes", f"Accept: application/imagebytes answered "
                                                   f"{reply.describe()}")
    else:
        try:
            frame = decode(reply.body)
        except ImageBytesError as exc:
            c.failed(t.label, "imagearray ImageBytes", f"undecodable: {exc}")
        else:
            dims = frame.dimensions[:2]
            if frame.error_number:
                c.failed(t.label, "imagearray ImageBytes", f"error {_hex(frame.error_number)}")
            elif dims != (numx, numy):
                c.failed(t.label, "imagearray ImageBytes", f"{dims} for NumX, NumY "
                                                           f"{(numx, numy)}")
            elif frame.client_transaction_id != 321:
                c.failed(t.label, "imagearray ImageBytes", f"ClientTransactionID 321 sent, "
                         f"{frame.client_transaction_id} in the header")
            else:
                pixels = [int(v) for v in frame.values()[:16]]
                c.passed(t.label, "imagearray ImageBytes", f"{dims[0]}x{dims[1]} rank "
                         f"{frame.rank}, transmitted as type {frame.transmission_element_type}")
    reply = c.http.get(path, "ClientID=1&ClientTransactionID=322", accept="application/json",
                       timeout=max(120.0, c.http.timeout))
    if not reply.is_json or not isinstance(reply.json, dict):
        c.failed(t.label, "imagearray JSON", f"Accept: application/json answered "
                                             f"{reply.describe()}")
        return
    body = reply.json
    value = body.get("Value")
    if body.get("Type") != 2 or body.get("Rank") not in (2, 3) or not isinstance(value, list):
        c.failed(t.label, "imagearray JSON", f"Type 2, Rank 2 or 3 and a Value array expected: "
                 f"Type {body.get('Type')!r} Rank {body.get('Rank')!r}")
        return
    if len(value) != numx or not value or len(value[0]) != numy:
        c.failed(t.label, "imagearray JSON", f"{len(value)} columns for NumX {numx}")
        return
    first = [int(v) for v in value[0][:16]] if body["Rank"] == 2 else None
    if pixels is not None and first is not None and first != pixels:
        c.failed(t.label, "imagearray JSON", f"the first column differs from ImageBytes': "
                                             f"{first[:4]} vs {pixels[:4]}")
        return
    c.passed(t.label, "imagearray JSON", f"{numx}x{numy}, the same pixels as ImageBytes"
             if pixels is not None else f"{numx}x{numy}")


def _weather(c: AlpacaChecker, t: AlpacaTarget) -> None:
    c.read(t, "averageperiod", kind=(int, float))
    for sensor in WEATHER_SENSORS:
        c.read(t, sensor, kind=(int, float), optional=True)
    answer = c.get(t, "timesincelastupdate", "SensorName=")
    if answer.ok and isinstance(answer.value, (int, float)):
        c.passed(t.label, "timesincelastupdate", f"SensorName '': {answer.value:g} s")
    else:
        c.failed(t.label, "timesincelastupdate", f"SensorName '' is mandatory: "
                                                 f"{_answer_text(answer)}")


def _safety(c: AlpacaChecker, t: AlpacaTarget) -> None:
    c.read(t, "issafe", kind=bool)


def _angle_apart(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def _turn(c: AlpacaChecker, t: AlpacaTarget, here: float, move: str, angle: str, busy: str,
          tolerance: float) -> None:
    """PUT `move` (MoveAbsolute, SlewToAzimuth) with `angle` 10 degrees on from `here`: `busy`
    (IsMoving, Slewing) must go False with `angle` there within `tolerance` degrees; an angle
    of 400 must be InvalidValue."""
    member = move.lower()
    target = (here + 10.0) % 360.0
    if c.command(t, member, f"{angle}={target:g}", f"{move} {target:g}"):
        done, last = c.wait(t, busy.lower(), lambda v: v is False, c.step_timeout)
        now = c.get(t, angle.lower()).value
        if done and isinstance(now, (int, float)) and _angle_apart(now, target) < tolerance:
            c.passed(t.label, member, f"{here:g} -> {now:g}, {busy} went False")
        else:
            c.failed(t.label, member, f"to {target:g}: {busy} {last!r}, {angle} {now!r} after "
                                      f"{c.step_timeout:g} s")
    c.invalid_value(t, member, f"{angle}=400")


def _rotator(c: AlpacaChecker, t: AlpacaTarget) -> None:
    c.read(t, "canreverse", kind=bool)
    c.read(t, "mechanicalposition", kind=(int, float),
           check=lambda v: "" if 0 <= v < 360 else "degrees, 0 to 360")
    start = c.read(t, "position", kind=(int, float),
                   check=lambda v: "" if 0 <= v < 360 else "degrees, 0 to 360")
    if not start.ok:
        return
    here = float(start.value)
    _turn(c, t, here, "MoveAbsolute", "Position", "IsMoving", 0.5)
    answer = c.put(t, "halt")
    if answer.number == ErrorNumber.NOT_IMPLEMENTED:
        c.passed(t.label, "halt", "not implemented (0x400), allowed")
    elif answer.ok:
        c.passed(t.label, "halt", "accepted")
    else:
        c.failed(t.label, "halt", _answer_text(answer))
    if c.command(t, "moveabsolute", f"Position={here:g}", f"back to {here:g}"):
        c.wait(t, "ismoving", lambda v: v is False, c.step_timeout)


def _dome(c: AlpacaChecker, t: AlpacaTarget) -> None:
    can = {name: c.read(t, name, kind=bool).value is True
           for name in ("cansetazimuth", "canpark", "cansetshutter", "canfindhome")}
    c.read(t, "shutterstatus", kind=int, optional=True,
           check=lambda v: "" if 0 <= v <= 4 else "0 to 4 (Open ... Error)")
    c.read(t, "athome", kind=bool)
    c.read(t, "atpark", kind=bool)
    c.read(t, "slewing", kind=bool)
    start = c.read(t, "azimuth", kind=(int, float), optional=not can["cansetazimuth"])
    if not (can["cansetazimuth"] and start.ok):
        c.warned(t.label, "slewtoazimuth", "not driven: CanSetAzimuth is False")
        return
    here = float(start.value)
    _turn(c, t, here, "SlewToAzimuth", "Azimuth", "Slewing", 1.0)
    if c.command(t, "slewtoazimuth", f"Azimuth={here:g}", f"back to {here:g}"):
        c.command(t, "abortslew", "", "AbortSlew")
        done, last = c.wait(t, "slewing", lambda v: v is False, c.step_timeout)
        (c.passed if done else c.failed)(
            t.label, "abortslew", "Slewing False after AbortSlew" if done else
            f"Slewing {last!r} {c.step_timeout:g} s after AbortSlew")
        c.command(t, "slewtoazimuth", f"Azimuth={here:g}", f"back to {here:g}")
        c.wait(t, "slewing", lambda v: v is False, c.step_timeout)


SEQUENCES: dict[str, Callable[[AlpacaChecker, AlpacaTarget], None]] = {
    "focuser": _focuser, "filterwheel": _filterwheel, "telescope": _telescope,
    "camera": _camera, "observingconditions": _weather, "safetymonitor": _safety,
    "rotator": _rotator, "dome": _dome,
}


# -- helpers ---------------------------------------------------------------------------------


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({int: "an integer", float: "a number", bool: "a boolean",
                        str: "a string", list: "an array"}.get(k, k.__name__) for k in kinds)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _answer_text(answer: Answer) -> str:
    text = f"error {_hex(answer.number)}: {answer.message}" if answer.number else \
        f"success (Value {_short(answer.value)})"
    return f"{text}; {answer.problem}" if answer.problem else text


def _device_state_problem(type_name: str, value: Any) -> str:
    allowed = DEVICE_STATE.get(type_name, set())
    for entry in value:
        if not isinstance(entry, dict) or set(entry) - {"Name", "Value"} or "Name" not in entry:
            return f"entries are {{Name, Value}} exactly cased: {entry!r:.80}"
        if allowed and entry["Name"] not in allowed and entry["Name"] != "TimeStamp":
            return f"{entry['Name']!r} is not a {type_name} DeviceState name"
        if isinstance(entry.get("Value"), float) and not math.isfinite(entry["Value"]):
            return f"{entry['Name']} is not a finite number"
    return ""


def check_alpaca(url: str, targets: list[AlpacaTarget] | None = None, *,
                 http_timeout: float = 10.0, step_timeout: float = 30.0,
                 out: list[Check] | None = None) -> list[Check]:
    """Every check of the Alpaca server at ``url`` (``http://HOST:PORT``): its management API,
    then each device of ``targets`` (all it configures when None), appended to ``out`` as they
    are made. ValueError for a malformed url; an unreachable server is a FAIL."""
    from .alpacawire import split_url

    host, port = split_url(url)
    checks: list[Check] = [] if out is None else out
    checker = AlpacaChecker(AlpacaHttp(host, port, http_timeout), checks, step_timeout)
    probe = checker.http.get("/management/apiversions")
    if probe.error:
        checker.failed(SERVER, "reach", f"{url}: {probe.error}")
        return checks
    listed = checker.management()
    chosen = targets if targets else listed or []
    if not chosen:
        checker.failed(SERVER, "devices", "no device to check: the server lists none; name "
                                          "them as TYPE/NUMBER (camera/0)")
    by_label = {t.label: t for t in listed or []}
    for target in chosen:
        target = by_label.get(target.label, target)
        try:
            checker.device(target)
        except Exception as exc:  # an unforeseen error: FAIL, next device
            log.debug("checking %s", target.label, exc_info=True)
            checker.failed(target.label, "device", f"the checks stopped on an error: "
                                                   f"{type(exc).__name__}: {exc}")
    ids = checker.server_ids
    if ids:
        backwards = [(a, b) for a, b in itertools.pairwise(ids) if b <= a]
        if min(ids) < 1:
            checker.failed(SERVER, "ServerTransactionID", f"{min(ids)} seen: counts from 1")
        elif backwards:
            checker.failed(SERVER, "ServerTransactionID", f"not increasing: {backwards[0][0]} "
                           f"then {backwards[0][1]} ({len(backwards)} times)")
        else:
            checker.passed(SERVER, "ServerTransactionID", f"from {ids[0]} to {ids[-1]}, "
                                                          f"increasing, over {len(ids)} replies")
    return checks

