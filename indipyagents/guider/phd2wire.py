"""PHD2's event-server interface as pure code: bytes in, requests or error replies out; replies
and events in, bytes out. No asyncio, no sockets (`phd2server` moves the bytes).

PHD2 (``src/event_server.cpp``) speaks JSON-RPC 2.0 over TCP, one JSON value a line, lines
ending CRLF. A request is an object with a string ``method``, optional ``params`` (an array
or an object: positional or named) and an optional ``id``; without an id it is a notification
and gets no reply. An array is a batch, answered by one array of the replies that have ids.
Clients differ: Ekos sends integer ids and ``"jsonrpc": "2.0"``, NINA GUID strings and no
``jsonrpc`` member, so the member is never required. Errors carry PHD2's codes: a line that
is not JSON -32700 (id null), no method or params of the wrong type -32600, an unknown method
-32601, bad parameters -32602, a line past `MAX_LINE` -32603 ("too big"), an operation that
fails 1. Every reply says ``"jsonrpc": "2.0"``; every event has Event, Timestamp, Host and
Inst first.

`LineReader.feed` never raises: any bytes give `Request`s and `ErrorReply`s, the same however
they are split (tests/agents/guider/test_phd2_wire.py proves it with hypothesis). The method
parameter readers (`settle_of`, `guide_params`, `dither_params`...) raise `InvalidParams`
with PHD2's messages.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from typing import Any

from .events import AppStateEvent
from .events import GuideEvent

__all__ = ["INTERNAL_ERROR", "INVALID_PARAMS", "INVALID_REQUEST", "MAX_LINE",
           "METHOD_NOT_FOUND", "OPERATION_FAILED", "PARSE_ERROR", "ErrorReply",
           "InvalidParams", "LineReader", "Request", "RequestBatch", "Settle", "bool_param", "dither_params",
           "encode", "encode_event", "encode_reply", "error_reply", "guide_params", "param",
           "parse_line", "result_reply", "settle_of", "wire"]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: PHD2's code for an operation that was understood but failed ("could not find star").
OPERATION_FAILED = 1
#: The longest line taken (bytes); PHD2's read buffer is smaller, its answer the same.
MAX_LINE = 65536


@dataclass(frozen=True, slots=True)
class Request:
    """One call: `method`, `params` (a list, a dict, or None when absent), and `id` when
    `has_id` (a notification has none and is never answered)."""

    method: str
    params: list[Any] | dict[str, Any] | None = None
    id: Any = None
    has_id: bool = False


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """A line or request refused before any method ran: the error object to send."""

    code: int
    message: str
    id: Any = None

    def encode(self) -> bytes:
        return encode_reply(error_reply(self.id, self.code, self.message))


@dataclass(frozen=True, slots=True)
class RequestBatch:
    """A JSON array of requests: their replies go back as one array."""

    items: tuple[Request | ErrorReply, ...] = field(default_factory=tuple)


Incoming = Request | ErrorReply | RequestBatch


class InvalidParams(Exception):
    """A method's parameters are not what PHD2 takes (-32602 with this message)."""


def _request_of(value: Any) -> Request | ErrorReply:
    if not isinstance(value, dict):
        return ErrorReply(INVALID_REQUEST, "invalid request - missing method", 0)
    method = value.get("method")
    if not isinstance(method, str):
        return ErrorReply(INVALID_REQUEST, "invalid request - missing method", 0)
    params = value.get("params")
    if "params" in value and not isinstance(params, (list, dict)):
        return ErrorReply(INVALID_REQUEST,
                          "invalid request - params must be an array or object", 0)
    return Request(method, params, value.get("id"), "id" in value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_line(line: bytes) -> Incoming | None:
    """One line (no line end) read: a `Request`, a `RequestBatch`, an `ErrorReply`, or None for a
    blank line."""
    text = line.strip()
    if not text:
        return None
    try:
        value = json.loads(text.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return ErrorReply(PARSE_ERROR, f"invalid JSON request: {reason}", None)
    if isinstance(value, list):
        if not value:
            return ErrorReply(INVALID_REQUEST, "invalid request - empty batch", None)
        return RequestBatch(tuple(_request_of(item) for item in value))
    return _request_of(value)


class LineReader:
    """Bytes from one client in, what they ask out, line by line (LF ends a line; a CR before
    it is dropped). A line longer than `limit` is answered -32603 "too big" and skipped up to
    its end, so memory stays bounded whatever a client sends."""

    def __init__(self, limit: int = MAX_LINE) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[Incoming]:
        out: list[Incoming] = []
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > self.limit:
                    if not self._skipping:
                        out.append(ErrorReply(INTERNAL_ERROR, "too big", 0))
                    self._skipping = True
                    self._buffer.clear()
                return out
            line = bytes(self._buffer[:end])
            del self._buffer[:end + 1]
            if self._skipping:  # the tail of a line already refused
                self._skipping = False
                continue
            if len(line) > self.limit:
                out.append(ErrorReply(INTERNAL_ERROR, "too big", 0))
                continue
            parsed = parse_line(line)
            if parsed is not None:
                out.append(parsed)


# -- replies and events ------------------------------------------------------------------


def result_reply(id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "result": result, "id": id}


def error_reply(id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id}


def encode_reply(reply: dict[str, Any] | list[dict[str, Any]]) -> bytes:
    """A reply (or a batch's array of them) as one CRLF line."""
    return json.dumps(reply, separators=(",", ":"), allow_nan=False).encode() + b"\r\n"


def encode_event(name: str, fields: Mapping[str, Any], *, timestamp: float, host: str,
                 inst: int = 1) -> bytes:
    """An event as PHD2 writes it: Event, Timestamp (Unix seconds, 3 decimals), Host, Inst,
    then its own fields, one CRLF line. A field that is not a finite number is written null
    (JSON has no NaN)."""
    body: dict[str, Any] = {"Event": name, "Timestamp": round(timestamp, 3), "Host": host,
                            "Inst": inst}
    for key, value in fields.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        body[key] = value
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode() + b"\r\n"


#: The events' field names (`events`) as PHD2's event server docs spell them.
KEYS = {
    "phd_version": "PHDVersion", "phd_subver": "PHDSubver", "overlap_support": "OverlapSupport",
    "msg_version": "MsgVersion", "state": "State", "msg": "Msg", "level": "Type",
    "frame": "Frame", "time": "Time", "mount": "Mount", "dx": "dx", "dy": "dy",
    "ra_distance_raw": "RADistanceRaw", "dec_distance_raw": "DECDistanceRaw",
    "ra_distance_guide": "RADistanceGuide", "dec_distance_guide": "DECDistanceGuide",
    "ra_duration": "RADuration", "ra_direction": "RADirection",
    "dec_duration": "DECDuration", "dec_direction": "DECDirection",
    "star_mass": "StarMass", "snr": "SNR", "hfd": "HFD", "avg_dist": "AvgDist",
    "error_code": "ErrorCode", "status": "Status", "error": "Error",
    "total_frames": "TotalFrames", "dropped_frames": "DroppedFrames",
    "distance": "Distance", "settle_time": "SettleTime", "star_locked": "StarLocked",
    "x": "X", "y": "Y", "reason": "Reason", "direction": "dir", "dist": "dist",
    "pos": "pos", "step": "step", "success": "Success", "path": "Path",
}
#: The events whose PHD2 name is not their class's.
NAMES: dict[type[GuideEvent], str] = {AppStateEvent: "AppState"}


def wire(event: GuideEvent) -> tuple[str, dict[str, Any]]:
    """`event` as PHD2 names it: its Event name and its fields in PHD2's order, those left
    None left out (PHD2 writes RADuration only when it pulsed RA)."""
    body: dict[str, Any] = {}
    for item in fields(event):
        value = getattr(event, item.name)
        if value is not None:
            body[KEYS[item.name]] = list(value) if isinstance(value, tuple) else value
    return NAMES.get(type(event), type(event).__name__), body


def encode(event: GuideEvent, *, timestamp: float, host: str, inst: int = 1) -> bytes:
    """`event` as PHD2 writes it (`encode_event`)."""
    name, body = wire(event)
    return encode_event(name, body, timestamp=timestamp, host=host, inst=inst)


# -- parameters --------------------------------------------------------------------------


def param(params: list[Any] | dict[str, Any] | None, names: Sequence[str], name: str) -> Any:
    """The parameter `name` (the `names` of the method in PHD2's order, for positional
    params), None when absent."""
    if isinstance(params, dict):
        return params.get(name)
    if isinstance(params, list):
        index = names.index(name)
        return params[index] if index < len(params) else None
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def bool_param(value: Any, message: str) -> bool:
    """A JSON boolean (PHD2 takes integers too), else `InvalidParams(message)`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    raise InvalidParams(message)


@dataclass(frozen=True, slots=True)
class Settle:
    """PHD2's settle: within `pixels` of the lock for `time` seconds, giving up after
    `timeout` seconds (whole seconds, floored, as PHD2 reads them)."""

    pixels: float = 1.5
    time: int = 10
    timeout: int = 60


def settle_of(value: Any) -> Settle:
    """The settle object, or `InvalidParams` with PHD2's message."""
    if not isinstance(value, dict):
        raise InvalidParams("expected settle object param")
    pixels, time, timeout = (_number(value.get(key)) for key in ("pixels", "time", "timeout"))
    if pixels is None or time is None or timeout is None or pixels < 0 or time < 0 \
            or timeout < 0 or max(time, timeout) > 1e9:
        raise InvalidParams("invalid settle params")
    return Settle(pixels, math.floor(time), math.floor(timeout))


def guide_params(params: list[Any] | dict[str, Any] | None) -> tuple[Settle, bool]:
    """``guide``'s settle and recalibrate (roi is taken and ignored: the whole frame)."""
    names = ("settle", "recalibrate", "roi")
    settle = settle_of(param(params, names, "settle"))
    recalibrate = param(params, names, "recalibrate")
    return settle, (False if recalibrate is None
                    else bool_param(recalibrate, "expected bool value for recalibrate"))


def dither_params(params: list[Any] | dict[str, Any] | None) -> tuple[float, bool, Settle]:
    """``dither``'s amount (pixels, its absolute value), raOnly and settle."""
    names = ("amount", "raOnly", "settle")
    amount = _number(param(params, names, "amount"))
    if amount is None:
        raise InvalidParams("expected dither amount param")
    ra_only = param(params, names, "raOnly")
    only = False if ra_only is None else bool_param(ra_only, "expected dither raOnly param")
    return abs(amount), only, settle_of(param(params, names, "settle"))


def exposure_param(params: list[Any] | dict[str, Any] | None) -> int:
    """``set_exposure``'s milliseconds."""
    value = _number(param(params, ("exposure",), "exposure"))
    if value is None or not 0 < value <= 3_600_000:
        raise InvalidParams("expected exposure param")
    return int(value)
