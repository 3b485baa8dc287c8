"""The Alpaca conformance checker's instrument: one server's checks made and reported.

`AlpacaChecker` sends each request (``alpacawire``), checks its JSON envelope and transaction
IDs, and appends a `Check` per rule or member; it holds the management API's checks, the
protocol rules sent raw for one device, and a device connected, read and given back as found.
What each device type is then driven through is ``alpacadevices``; the order of it all and the
server-wide checks are ``alpacachecks``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.devicetypes import device_type_from_name
from indipyalpaca.wire.devicetypes import device_type_from_url
from indipyalpaca.wire.errors import ErrorNumber

from .alpacawire import AlpacaHttp
from .alpacawire import Reply
from .report import Check
from .report import Level

__all__ = ["AlpacaChecker", "AlpacaTarget", "Answer", "DeviceSequence", "parse_target"]

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

#: The asynchronous initiators ConformU times against 1 s.
ASYNC_INITIATORS = frozenset({"connect", "disconnect", "move", "moveabsolute", "startexposure",
                              "slewtocoordinatesasync", "slewtoazimuth", "park", "unpark"})
INITIATOR_SECONDS = 1.0


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


def hex_number(number: int) -> str:
    return f"0x{number:X}"


#: How one device type is driven once connected: the checker and the device.
DeviceSequence = Callable[["AlpacaChecker", AlpacaTarget], None]


class AlpacaChecker:
    """The checks of one server, appended to ``out`` as they are made."""

    def __init__(self, http: AlpacaHttp, out: list[Check], step_timeout: float,
                 sequences: Mapping[str, DeviceSequence] | None = None) -> None:
        """`sequences`: what each device type is driven through once connected (by URL type
        name; ``alpacadevices.SEQUENCES``), none when not given."""
        self.http = http
        self.sequences: Mapping[str, DeviceSequence] = sequences or {}
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
            self.failed(label, member, f"error {hex_number(answer.number)}: {answer.message}")
        elif kind is not object and (not isinstance(answer.value, kind) or (
                isinstance(answer.value, bool) and kind in (int, float, (int, float)))):
            self.failed(label, member, f"Value {answer.value!r} is not {kind_name(kind)}")
            answer.problem = "wrong kind"
        elif check is not None and (why := check(answer.value)):
            self.failed(label, member, f"Value {answer.value!r}: {why}")
            answer.problem = why
        elif report:
            self.passed(label, member, f"= {short(answer.value)}")
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
            self.failed(target.label, member, f"{what}: error {hex_number(answer.number)}: "
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
                return False, answer.problem or f"error {hex_number(answer.number)}: {answer.message}"
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
                      check=lambda v: device_state_problem(target.type_name, v))
        sequence = self.sequences.get(target.type_name)
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
                            f"0x407, got {answer_text(answer)}")
        # ConformU reconnects at once with the parameters in another order
        ident = self.next_id()
        reply = self.http.put(self.path(target, "connected"),
                              f"ClientTransactionID={ident}&Connected=true&ClientID=1")
        answer = self.answer(reply, ident, False)
        done, last = (self.wait(target, "connected", lambda v: v is True, self.step_timeout)
                      if answer.ok else (False, answer_text(answer)))
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
        code = hex_number(number)
        if answer.number == number and not answer.problem:
            self.passed(target.label, rule, f"{what}: {code}")
        elif answer.number == number:
            self.failed(target.label, rule, f"{what}: {code}, but {answer.problem}")
        else:
            self.failed(target.label, rule, f"{what} must be {code}, got {answer_text(answer)}")



# -- helpers the sequences share ---------------------------------------------------------------------------------


def kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({int: "an integer", float: "a number", bool: "a boolean",
                        str: "a string", list: "an array"}.get(k, k.__name__) for k in kinds)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def answer_text(answer: Answer) -> str:
    text = f"error {hex_number(answer.number)}: {answer.message}" if answer.number else \
        f"success (Value {short(answer.value)})"
    return f"{text}; {answer.problem}" if answer.problem else text


def device_state_problem(type_name: str, value: Any) -> str:
    allowed = DEVICE_STATE.get(type_name, set())
    for entry in value:
        if not isinstance(entry, dict) or set(entry) - {"Name", "Value"} or "Name" not in entry:
            return f"entries are {{Name, Value}} exactly cased: {entry!r:.80}"
        if allowed and entry["Name"] not in allowed and entry["Name"] != "TimeStamp":
            return f"{entry['Name']!r} is not a {type_name} DeviceState name"
        if isinstance(entry.get("Value"), float) and not math.isfinite(entry["Value"]):
            return f"{entry['Name']} is not a finite number"
    return ""
