"""What each Alpaca device type is driven through once connected, as ConformU drives it.

A short, safe sequence per type -- a focuser moves and halts, a wheel turns, a telescope
unparks, slews, aborts and parks as its Can* allow, a camera takes a short dark frame read as
ImageBytes and as JSON, a rotator turns, a dome slews and aborts -- with the error numbers the
type must answer. Each is a function of the checker (``alpacachecker``) and the device;
`SEQUENCES` names them by URL type name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indipyalpaca.wire.errors import ErrorNumber
from indipyalpaca.wire.imagebytes import ImageBytesError
from indipyalpaca.wire.imagebytes import decode

from .alpacachecker import UTC_DATE
from .alpacachecker import AlpacaChecker
from .alpacachecker import AlpacaTarget
from .alpacachecker import DeviceSequence
from .alpacachecker import answer_text
from .alpacachecker import hex_number

__all__ = ["SEQUENCES"]

#: The camera's dark exposure (seconds): long enough that ImageReady must still be False
#: when read right after StartExposure returns.
EXPOSURE = 1.0

WEATHER_SENSORS = ("cloudcover", "dewpoint", "humidity", "pressure", "rainrate",
                   "skybrightness", "skyquality", "skytemperature", "starfwhm", "temperature",
                   "winddirection", "windgust", "windspeed")


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
        c.failed(t.label, "halt", answer.problem or answer_text(answer))
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
                c.failed(t.label, "imagearray ImageBytes", f"error {hex_number(frame.error_number)}")
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
                                                 f"{answer_text(answer)}")


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
        c.failed(t.label, "halt", answer_text(answer))
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


SEQUENCES: Mapping[str, DeviceSequence] = {
    "focuser": _focuser, "filterwheel": _filterwheel, "telescope": _telescope,
    "camera": _camera, "observingconditions": _weather, "safetymonitor": _safety,
    "rotator": _rotator, "dome": _dome,
}
