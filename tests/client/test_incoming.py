"""The receiving path's burst shortcut changes nothing but the cost (hypothesis, differential):
any stream of definitions, sets (plain, odd and malformed), deletions, messages, pings, BLOBs,
comments and garbage, split into reads anywhere, gives through ``Incoming`` exactly the events,
errors (with their byte offsets) and model that the protocol core's general path gives --
``Framer`` -> ``parse_element`` -> ``Model.apply``, one element at a time, no shapes -- and the
shortcut does take the sets it may."""

from __future__ import annotations

import base64
from datetime import UTC
from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyclient import events
from indipyclient.model.incoming import STREAM_MIN
from indipyclient.model.incoming import Incoming
from indipyclient.model.tree import Model
from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import Number
from indipycore.protocol import ProtocolError
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State
from indipycore.protocol import parse_element
from indipycore.protocol import serialise

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

DEFS = [
    b'<defNumberVector device="Mount" name="EQ" state="Idle" perm="rw"><defNumber name="RA" '
    b'format="%g" min="0" max="24" step="0">1</defNumber><defNumber name="DEC" format="%g" '
    b'min="-90" max="90" step="0">2</defNumber></defNumberVector>',
    b'<defNumberVector device="CCD 2" name="EXTRA_0001" state="Idle" perm="ro"><defNumber '
    b'name="a1" format="%g" min="0" max="0" step="0">0</defNumber></defNumberVector>',
    b'<defTextVector device="Mount" name="INFO" state="Idle" perm="ro"><defText name="t">x'
    b'</defText><defText name="t1">y</defText></defTextVector>',
    b'<defSwitchVector device="Mount" name="SW" state="Idle" perm="rw" rule="OneOfMany">'
    b'<defSwitch name="on">On</defSwitch><defSwitch name="off">Off</defSwitch>'
    b"</defSwitchVector>",
    b'<defLightVector device="CCD 2" name="L" state="Idle"><defLight name="l1">Ok</defLight>'
    b"</defLightVector>",
    b'<defBLOBVector device="CCD 2" name="IMG" state="Idle" perm="ro"><defBLOB name="i"/>'
    b"</defBLOBVector>",
]

# Sets with {} where random digits go; each a burst's element or an odd one.
SETS = [
    '<setNumberVector device="Mount" name="EQ" state="Ok" timestamp="2026-05-0{}T07:{}:{}.{}">'
    '<oneNumber name="RA">{}.{}</oneNumber><oneNumber name="DEC">-{}</oneNumber>'
    "</setNumberVector>",
    '<setNumberVector device="Mount" name="EQ" state="Busy" timeout="{}"><oneNumber name="RA">'
    "{}</oneNumber></setNumberVector>",
    '<setNumberVector device="CCD 2" name="EXTRA_000{}" timestamp="2026-05-06T07:08:{}">\n  '
    '<oneNumber name="a{}">{}</oneNumber>\n</setNumberVector>',
    '<setTextVector device="Mount" name="INFO" message="at {}"><oneText name="t">v{}</oneText>'
    "</setTextVector>",
    # a member named with digits (t1 is known) in a vector named without, a constant message
    '<setTextVector device="Mount" name="INFO" message="done"><oneText name="t{}">v{}</oneText>'
    "</setTextVector>",
    '<setSwitchVector device="Mount" name="SW" state="Ok" timestamp="2026-05-06T07:08:{}.{}">'
    '<oneSwitch name="on">Off</oneSwitch><oneSwitch name="off">On</oneSwitch></setSwitchVector>',
    '<setLightVector device="CCD 2" name="L" timestamp="2026-05-06T07:08:{}"><oneLight name="l1">'
    "Alert</oneLight></setLightVector>",
    # odd: numbers that are not plain decimals, limits, entities, padding, unknown and wrong
    # vectors, a leap second, a month that does not exist, duplicate members
    '<setNumberVector device="Mount" name="EQ"><oneNumber name="RA">{}:{}:{}</oneNumber>'
    "</setNumberVector>",
    '<setNumberVector device="Mount" name="EQ"><oneNumber name="RA">{}e-{}</oneNumber>'
    "</setNumberVector>",
    '<setNumberVector device="Mount" name="EQ"><oneNumber name="RA">bad{}</oneNumber>'
    "</setNumberVector>",
    '<setNumberVector device="Mount" name="EQ"><oneNumber name="RA"> {} </oneNumber>'
    "</setNumberVector>",
    '<setNumberVector device="Mount" name="EQ"><oneNumber name="DEC" min="-{}" max="{}">{}'
    "</oneNumber></setNumberVector>",
    '<setTextVector device="Mount" name="INFO"><oneText name="t">&#4{};{}&amp;</oneText>'
    "</setTextVector>",
    '<setNumberVector device="Nobody" name="EQ"><oneNumber name="RA">{}</oneNumber>'
    "</setNumberVector>",
    '<setTextVector device="Mount" name="EQ"><oneText name="RA">{}</oneText></setTextVector>',
    '<setNumberVector device="Mount" name="EQ" timestamp="2026-05-06T07:08:60.{}">'
    '<oneNumber name="RA">{}</oneNumber></setNumberVector>',
    '<setNumberVector device="Mount" name="EQ" timestamp="2026-1{}-06T07:08:0{}">'
    '<oneNumber name="RA">{}</oneNumber></setNumberVector>',
    '<setNumberVector device="Mount" name="EQ"><oneNumber name="RA">{}</oneNumber>'
    '<oneNumber name="RA">{}</oneNumber><oneNumber name="nope">{}</oneNumber></setNumberVector>',
    '<setNumberVector device="Mount" name="EQ" state="Ok" timestamp="2026-05-0{}T07:{}:{}.{}" >'
    '<oneNumber name="RA">{}.{}</oneNumber><oneNumber name="DEC">-{}</oneNumber>'
    "</setNumberVector >",
    '<setNumberVector device="Mount" name="EQ" state="Weird"><oneNumber name="RA">{}</oneNumber>'
    "</setNumberVector>",
    '<setNumberVector device="Mount" name="EQ" \u00e9="{}"><oneNumber name="RA">{}</oneNumber>'
    "</setNumberVector>",
]

OTHERS = [
    b'<message device="Mount" message="hello 12" timestamp="2026-05-06T07:08:09"/>',
    b'<pingRequest uid="p 7"/>',
    b'<delProperty device="CCD 2" name="L"/>',
    b"<!-- a comment with <tags> -->",
    b'<?xml version="1.0"?>',
    b"garbage text",
    b'<setNumberVector device="Mount" name="EQ"><oneNumber name="RA">1</oneNumber>',  # unclosed
    b'<setNumberVector device="Mount" name="EQ" "broken"><oneNumber name="RA">1</oneNumber>'
    b"</setNumberVector>",
    b"<setBLOBVector device=\"CCD 2\" name=\"IMG\"><oneBLOB name=\"i\" size=\"3\" format=\".b\">"
    + base64.b64encode(b"abc") + b"</oneBLOB></setBLOBVector>",
]

digits = st.text(alphabet="0123456789", min_size=1, max_size=3)


@st.composite
def streams(draw: st.DrawFn) -> list[bytes]:
    """Definitions first (sometimes not all), then runs of sets of one shape with new digits
    (bursts), odd sets and other elements, with or without space between them."""
    out = [d for d in DEFS if draw(st.integers(0, 9))]
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.integers(0, 3)):
            template = draw(st.sampled_from(SETS))
            shape = [len(draw(digits)) for _ in range(template.count("{}"))]
            for _ in range(draw(st.integers(1, 6))):
                runs = [draw(st.text(alphabet="0123456789", min_size=n, max_size=n))
                        for n in shape]
                out.append(template.format(*runs).encode())
        else:
            out.append(draw(st.sampled_from(OTHERS + DEFS)))
    return out


def describe(item: Any) -> Any:
    """What the program (or the connection) sees of one item, comparably."""
    if isinstance(item, ProtocolError):
        return ("error", str(item))
    if isinstance(item, Frame):
        return ("frame", item.tag, dict(item.attrs))
    if isinstance(item, events.VectorEvent):
        extra = tuple(getattr(item, name, None) for name in ("state", "message", "timeout"))
        vector = item.vector
        return (type(item).__name__, item.devicename, item.vectorname, dict(item.data),
                item.timestamp, extra, vector.state, vector.timestamp, dict(vector))
    if isinstance(item, events.Message):
        return ("message", item.devicename, item.message, item.timestamp)
    if isinstance(item, events.delProperty):
        return ("del", item.devicename, item.vectorname, item.message, item.timestamp)
    return (type(item).__name__,)


def model_state(model: Model) -> Any:
    out = {}
    for device in model.values():
        for vector in device.values():
            out[(device.devicename, vector.name)] = (
                type(vector).__name__, vector.state, vector.timeout, vector.timestamp,
                vector.message, vector.message_timestamp, vector.perm, vector.rule,
                [(n, m.value, getattr(m, "min", None), getattr(m, "max", None),
                  getattr(m, "step", None)) for n, m in vector.members_.items()])
    return out, list(model.messages), [list(d.messages) for d in model.values()]


def general_path(reads: list[bytes]) -> tuple[list[Any], Model]:
    """The protocol core alone: the framer, the core parser for each element, the model."""
    model = Model(now=lambda: NOW)
    framer = Framer(max_element_size=Incoming(model).framer.max_element_size,
                    stream_tags={"setBLOBVector"}, stream_min=STREAM_MIN)
    seen = []
    for data in reads:
        for item in framer.feed(data):
            if isinstance(item, Frame) and item.tag != "pingRequest":
                try:
                    event = parse_element(item.data)
                except ProtocolError as exc:
                    seen.append(describe(exc))
                    continue
                change = None if event is None else model.apply(event)
                if change is not None:
                    seen.append(describe(change))
            else:
                seen.append(describe(item))
    return seen, model


def incoming_path(reads: list[bytes]) -> tuple[list[Any], Model, int]:
    model = Model(now=lambda: NOW)
    incoming = Incoming(model)
    # Each item described as it is handed out: the model must then be as that element left it.
    seen = [describe(item) for data in reads for item in incoming.feed(data)]
    return seen, model, incoming.shortcut


@settings(max_examples=400)
@given(streams(), st.lists(st.integers(1, 4000), max_size=6), st.sampled_from(["", "\n", " \n "]))
def test_the_shortcut_gives_the_general_paths_events_errors_and_model(
        elements: list[bytes], cuts: list[int], between: str) -> None:
    stream = between.encode().join(elements)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    reads = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    reads = [r for r in reads if r]
    expected, reference = general_path(reads)
    got, model, _ = incoming_path(reads)
    assert got == expected
    assert model_state(model) == model_state(reference)


def test_a_burst_takes_the_shortcut_and_a_new_shape_in_a_read_joins_it() -> None:
    """Whole reads of sets of known shapes go straight to the model; a set of a new shape in
    the middle of a read is learnt alone, and the shortcut goes on after it."""
    burst = b"".join(serialise(SetNumberVector("Mount", "EQ", (Number("RA", str(i)),),
                                               state=State.OK)) for i in range(5, 2000))
    reads = [DEFS[0], burst]
    expected, _ = general_path(reads)
    got, _, shortcut = incoming_path(reads)
    assert got == expected and len(got) == 1 + 1995
    # The first set of each digit count (1, 2, 3, 4) is learnt through the framer.
    assert shortcut == 1995 - 4


def test_a_set_the_model_cannot_take_leaves_the_shortcut_to_the_general_path() -> None:
    """A set for a vector not (or no longer) known, or known as another kind, is not taken:
    the general path ignores it (and logs why) as it would have anyway."""
    sets = [serialise(SetNumberVector("Mount", "EQ", (Number("RA", str(i)),)))
            for i in range(10, 20)]
    delete = b'<delProperty device="Mount" name="EQ"/>'
    wrong = b'<defTextVector device="Mount" name="EQ" state="Idle" perm="ro"><defText name="RA">' \
            b"x</defText></defTextVector>"
    reads = [DEFS[0] + b"".join(sets[:4]) + delete + b"".join(sets[4:7]) + wrong
             + b"".join(sets[7:])]
    expected, reference = general_path(reads)
    got, model, shortcut = incoming_path(reads)
    assert got == expected and model_state(model) == model_state(reference)
    assert len([g for g in got if g[0] == "setNumberVector"]) == 4 and shortcut == 3


def test_a_run_of_one_shape_meeting_an_unknown_vector_leaves_it_to_the_general_path() -> None:
    """Sets of one shape naming their vectors with digits (EXTRA_0001, EXTRA_0002...) are
    checked together; the first naming a vector the model does not know ends the shortcut
    there, and the general path ignores it, as it would have anyway."""
    one = '<setNumberVector device="CCD 2" name="EXTRA_000{}"><oneNumber name="a1">{}' \
          "</oneNumber></setNumberVector>"
    reads = [DEFS[1] + "".join(one.format(n, v) for n, v in ((1, 5), (1, 6), (1, 7), (2, 8),
                                                             (1, 9))).encode()]
    expected, reference = general_path(reads)
    got, model, shortcut = incoming_path(reads)
    assert got == expected and model_state(model) == model_state(reference)
    assert len([g for g in got if g[0] == "setNumberVector"]) == 4 and shortcut == 3
