"""Issue 81 items 3 and 5, the pure part: PHD2's lines read and written (indipyagents.guider.
phd2wire). Any bytes give requests or JSON-RPC error objects, never an exception, the same
however the bytes are split; PHD2's codes and messages for each refusal; both Ekos's
("jsonrpc": "2.0", integer ids) and NINA's (no jsonrpc, string ids) requests."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.guider import events
from indipyagents.guider.events import Alert
from indipyagents.guider.events import AppStateEvent
from indipyagents.guider.events import Calibrating
from indipyagents.guider.events import GuideStep
from indipyagents.guider.events import SettleDone
from indipyagents.guider.events import StarLost
from indipyagents.guider.phd2wire import INTERNAL_ERROR
from indipyagents.guider.phd2wire import INVALID_REQUEST
from indipyagents.guider.phd2wire import KEYS
from indipyagents.guider.phd2wire import PARSE_ERROR
from indipyagents.guider.phd2wire import ErrorReply
from indipyagents.guider.phd2wire import InvalidParams
from indipyagents.guider.phd2wire import LineReader
from indipyagents.guider.phd2wire import Request
from indipyagents.guider.phd2wire import RequestBatch
from indipyagents.guider.phd2wire import Settle
from indipyagents.guider.phd2wire import dither_params
from indipyagents.guider.phd2wire import encode
from indipyagents.guider.phd2wire import encode_event
from indipyagents.guider.phd2wire import encode_reply
from indipyagents.guider.phd2wire import error_reply
from indipyagents.guider.phd2wire import exposure_param
from indipyagents.guider.phd2wire import guide_params
from indipyagents.guider.phd2wire import wire


def read(data: bytes) -> list[object]:
    return LineReader().feed(data)


def test_ekos_and_nina_requests_both_read() -> None:
    ekos = b'{"jsonrpc":"2.0","method":"get_app_state","id":3}\r\n'
    nina = b'{"method":"guide","params":{"settle":{"pixels":1.5,"time":8,"timeout":40},' \
           b'"recalibrate":false},"id":"7d3f-guid"}\r\n'
    first, second = read(ekos + nina)
    assert first == Request("get_app_state", None, 3, True)
    assert isinstance(second, Request) and second.id == "7d3f-guid"
    assert guide_params(second.params) == (Settle(1.5, 8, 40), False)
    # PHD2's positional form of the same call.
    assert guide_params([{"pixels": 0.5, "time": 6, "timeout": 30}, True]) \
        == (Settle(0.5, 6, 30), True)
    assert read(b'{"method":"loop"}\n') == [Request("loop", None, None, False)]


def test_refusals_carry_phd2s_codes() -> None:
    not_json, = read(b"this is not json\r\n")
    assert isinstance(not_json, ErrorReply) and not_json.code == PARSE_ERROR
    assert not_json.id is None
    assert json.loads(not_json.encode())["error"]["code"] == -32700
    no_method, = read(b'{"id": 4}\n')
    assert no_method == ErrorReply(INVALID_REQUEST, "invalid request - missing method", 0)
    bad_params, = read(b'{"method": "loop", "params": 3, "id": 1}\n')
    assert isinstance(bad_params, ErrorReply) and bad_params.code == INVALID_REQUEST
    with pytest.raises(InvalidParams, match="expected settle object param"):
        guide_params({"settle": 3})
    with pytest.raises(InvalidParams, match="invalid settle params"):
        guide_params({"settle": {"pixels": 1.5, "time": 8}})
    with pytest.raises(InvalidParams, match="expected dither amount param"):
        dither_params({"raOnly": False})
    with pytest.raises(InvalidParams, match="expected dither raOnly param"):
        dither_params([3, "yes", {"pixels": 1, "time": 1, "timeout": 1}])
    assert dither_params([-3, False, {"pixels": 1.5, "time": 8.9, "timeout": 40}]) \
        == (3.0, False, Settle(1.5, 8, 40))
    with pytest.raises(InvalidParams, match="expected exposure param"):
        exposure_param({"exposure": "2000"})
    assert exposure_param([2000]) == 2000


def test_a_batch_and_a_line_too_long() -> None:
    batch, = read(b'[{"method":"get_app_state","id":1},{"method":"loop"},5]\n')
    assert isinstance(batch, RequestBatch) and len(batch.items) == 3
    assert isinstance(batch.items[2], ErrorReply)
    reader = LineReader(limit=100)
    out = reader.feed(b"x" * 150) + reader.feed(b"y" * 150 + b'\n{"method":"loop"}\n')
    assert out == [ErrorReply(INTERNAL_ERROR, "too big", 0), Request("loop")]


def test_events_and_replies_are_phd2s_lines() -> None:
    line = encode_event("GuideStep", {"Frame": 3, "dx": 0.25, "SNR": float("nan")},
                        timestamp=1700000000.12345, host="pi", inst=1)
    assert line.endswith(b"\r\n") and b"\r\n" not in line[:-2]
    event = json.loads(line)
    assert list(event)[:4] == ["Event", "Timestamp", "Host", "Inst"]
    assert event["Timestamp"] == 1700000000.123 and event["SNR"] is None
    reply = json.loads(encode_reply(error_reply(7, -32601, "method not found")))
    assert reply == {"jsonrpc": "2.0", "error": {"code": -32601, "message": "method not found"},
                     "id": 7}


def test_typed_events_become_phd2s_json_only_here() -> None:
    """The guider's events are typed (`events`); `wire` gives PHD2's names and order, a field
    left None left out (a GuideStep with no Dec pulse has no DECDuration, as PHD2's)."""
    step = GuideStep(frame=3, time=1.5, mount="M", dx=0.1, dy=-0.2, ra_distance_raw=0.3,
                     dec_distance_raw=-0.1, ra_distance_guide=-0.25, dec_distance_guide=0.0,
                     ra_duration=120, ra_direction="West", star_mass=900, snr=40.5, hfd=2.1,
                     avg_dist=0.22)
    name, body = wire(step)
    assert name == "GuideStep" and list(body) == [
        "Frame", "Time", "Mount", "dx", "dy", "RADistanceRaw", "DECDistanceRaw",
        "RADistanceGuide", "DECDistanceGuide", "RADuration", "RADirection", "StarMass", "SNR",
        "HFD", "AvgDist"]
    assert body["RADuration"] == 120 and body["RADirection"] == "West"
    assert wire(SettleDone(status=0, total_frames=4, dropped_frames=1)) == (
        "SettleDone", {"Status": 0, "TotalFrames": 4, "DroppedFrames": 1})
    assert wire(SettleDone(status=1, error="lost", total_frames=4, dropped_frames=1))[1] == {
        "Status": 1, "Error": "lost", "TotalFrames": 4, "DroppedFrames": 1}
    assert wire(Calibrating(mount="M", direction="West", dist=1.5, dx=1.0, dy=0.5,
                            pos=(10.0, 20.0), step=2, state="West step 2")) == (
        "Calibrating", {"Mount": "M", "dir": "West", "dist": 1.5, "dx": 1.0, "dy": 0.5,
                        "pos": [10.0, 20.0], "step": 2, "State": "West step 2"})
    assert wire(Alert(msg="hi", level="info")) == ("Alert", {"Msg": "hi", "Type": "info"})
    assert wire(AppStateEvent(state="Guiding")) == ("AppState", {"State": "Guiding"})
    line = json.loads(encode(StarLost(frame=1, time=2.0, star_mass=0, snr=0.0, avg_dist=0.0,
                                      error_code=2, status="gone"), timestamp=5.0, host="pi"))
    assert line == {"Event": "StarLost", "Timestamp": 5.0, "Host": "pi", "Inst": 1,
                    "Frame": 1, "Time": 2.0, "StarMass": 0, "SNR": 0.0, "AvgDist": 0.0,
                    "ErrorCode": 2, "Status": "gone"}
    # Every event's every field has PHD2's name.
    for kind in vars(events).values():
        if isinstance(kind, type) and issubclass(kind, events.GuideEvent):
            assert {f.name for f in dataclasses.fields(kind)} <= set(KEYS), kind


@given(st.binary(max_size=400))
def test_any_bytes_give_requests_or_errors(data: bytes) -> None:
    for item in read(data + b"\n"):
        assert isinstance(item, (Request, ErrorReply, RequestBatch))
        if isinstance(item, ErrorReply):
            json.loads(item.encode())  # always a valid JSON-RPC error line


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8)
requests = st.fixed_dictionaries(
    {"method": st.sampled_from(["guide", "dither", "loop", "nope"])},
    optional={"params": json_values, "id": json_values, "jsonrpc": st.just("2.0")})


@given(st.lists(requests | json_values, max_size=5), st.data())
def test_split_anywhere_reads_the_same(values: list[object], data: st.DataObject) -> None:
    stream = b"".join(json.dumps(value).encode() + b"\r\n" for value in values) + b"}{\n"
    whole = read(stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    reader = LineReader()
    pieces: list[object] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        pieces += reader.feed(stream[start:end])
    assert pieces == whole
    assert len(whole) == len(values) + 1


@given(json_values)
def test_any_params_give_settle_or_invalid_params(value: object) -> None:
    for reader in (guide_params, dither_params, exposure_param):
        try:
            reader(value if isinstance(value, (list, dict)) else [value])  # type: ignore[operator]
        except InvalidParams:
            pass
