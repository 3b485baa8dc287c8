"""Start tags read by shape (`starttags`) give exactly what reading them afresh gives.

The framer remembers start tags it matched and reads a later tag of the same shape (same bytes
but for its digits) from the remembered one. These tests protect the reasoning that makes that
safe: whatever came before on the connection, every frame's tag, attributes and bytes are those
a framer that never saw the stream before finds in the element alone.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol import Message
from indipycore.protocol import Number
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State
from indipycore.protocol import serialise
from indipycore.protocol.frames import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.starttags import MAX_SHAPES


def fresh(element: bytes) -> Frame:
    """The frame of `element` read by a framer that knows no shape."""
    (frame,) = Framer().feed(element)
    assert isinstance(frame, Frame)
    return frame


def frames_in_one_stream(elements: list[bytes]) -> list[Frame]:
    framer = Framer()
    out = []
    for element in elements:
        out.extend(framer.feed(element))
    assert all(isinstance(f, Frame) for f in out)
    return out  # type: ignore[return-value]


def set_vector(stamp: str, value: str, name: str = "NUM") -> bytes:
    return serialise(SetNumberVector("Bench", name, (Number("v", value),), state=State.OK,
                                     timestamp=stamp))


def test_a_burst_of_sets_differing_in_digits_keeps_each_sets_own_values() -> None:
    """The common case: only the timestamp (and a digit in the name) changes."""
    elements = [set_vector(f"2026-11-23T06:33:42.{i:03d}", str(i), name=f"N{i % 7}")
                for i in range(50)]
    got = frames_in_one_stream(elements)
    assert [f.attrs for f in got] == [fresh(e).attrs for e in elements]
    assert [f.data + b"\n" for f in got] == elements
    assert got[13].attrs == {"device": "Bench", "name": "N6", "state": "Ok",
                             "timestamp": "2026-11-23T06:33:42.013"}


def test_the_attributes_of_a_frame_are_its_own_not_shared_with_the_next() -> None:
    """Each frame gets a new dict: changing one (a router might) changes no later frame."""
    a, b = frames_in_one_stream([set_vector("2026-01-01T00:00:01", "1"),
                                 set_vector("2026-01-01T00:00:02", "2")])
    a.attrs["state"] = "Alert"
    c = frames_in_one_stream([set_vector("2026-01-01T00:00:01", "1")] * 3)[2]
    assert b.attrs["state"] == c.attrs["state"] == "Ok"


def test_values_with_spaces_around_their_digits_are_stripped_as_decode_attrs_strips_them() -> None:
    elements = [serialise(Message("D", f"  2026-01-01T00:00:0{i} \t", f" {i} "))
                for i in range(1, 4)]
    assert [f.attrs for f in frames_in_one_stream(elements)] == [fresh(e).attrs for e in elements]
    assert frames_in_one_stream(elements)[2].attrs["message"] == "3"


def test_an_attribute_name_with_a_digit_is_never_read_from_another_tag() -> None:
    """`a1` and `a2` have one shape; the second must not come out as `a1`."""
    elements = [b'<message a1="x"/>', b'<message a2="x"/>', b'<message a3="y"/>']
    assert [f.attrs for f in frames_in_one_stream(elements)] == [
        {"a1": "x"}, {"a2": "x"}, {"a3": "y"}]


def test_a_gt_inside_a_value_is_not_mistaken_for_the_end_of_a_remembered_tag() -> None:
    """The head is cut at the first `>`: inside a quote it matches no remembered shape."""
    elements = [b'<message device="D" message="1"/>', b'<message device="D" message="1>2"/>',
                b'<message device="D" message="3"/>']
    got = frames_in_one_stream(elements)
    assert [f.attrs["message"] for f in got] == ["1", "1>2", "3"]
    assert [f.data for f in got] == elements


def test_entities_single_quotes_and_non_ascii_are_read_afresh_each_time() -> None:
    elements = [
        b'<message device="D" message="a &amp; 1"/>', b'<message device="D" message="a &amp; 2"/>',
        b"<message device='D' message='1'/>", b"<message device='D' message='2'/>",
        '<message device="Dé" message="1"/>'.encode(), '<message device="Dé" message="2"/>'.encode(),
    ]
    assert [f.attrs for f in frames_in_one_stream(elements)] == [fresh(e).attrs for e in elements]


def test_empty_and_non_empty_elements_of_one_tag_stay_apart() -> None:
    elements = [b'<getProperties version="1.7"/>', b'<getProperties version="1.7"></getProperties>',
                b'<getProperties version="1.7" device="D1"/>',
                b'<getProperties version="1.7"></getProperties>']
    got = frames_in_one_stream(elements)
    assert [f.data for f in got] == elements
    assert [f.attrs for f in got] == [fresh(e).attrs for e in elements]


def test_many_shapes_are_remembered_within_a_bound_and_still_read_right() -> None:
    """A peer that never repeats a shape: the memory stays bounded, the frames right."""
    elements = [serialise(Message("k" * (i + 1), message="v1")) for i in range(3 * MAX_SHAPES)]
    framer = Framer()
    for element in elements:
        (frame,) = framer.feed(element)
        assert isinstance(frame, Frame) and frame.attrs == fresh(element).attrs
        assert len(framer._shapes._known) <= MAX_SHAPES


_VALUE = st.text(alphabet=" \t\n0123456789aZ.:-_>&'\"é", max_size=8)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(["message", "setTextVector", "getProperties"]),
                          st.lists(st.tuples(st.sampled_from(["device", "name", "a1", "a2", "t"]),
                                             _VALUE), max_size=4),
                          st.booleans()),
                min_size=1, max_size=12))
def test_any_sequence_of_start_tags_frames_as_each_alone(
        tags: list[tuple[str, list[tuple[str, str]], bool]]) -> None:
    """Random tags, with digits, spaces, entities, quotes and `>` in their values: in one
    stream, each frames as it does alone (or fails alone, if it is not well formed)."""
    elements = []
    for tag, attributes, empty in tags:
        text = "".join(f' {k}="{v.replace(chr(34), "&quot;")}"' for k, v in attributes)
        if len({k for k, _ in attributes}) != len(attributes):
            continue  # a repeated attribute: not XML
        elements.append((f"<{tag}{text}/>" if empty else f"<{tag}{text}></{tag}>").encode())
    elements = [e for e in elements if isinstance(Framer().feed(e)[0], Frame)]
    # each twice, with its digits changed the second time, to make shapes meet
    stream = [x for e in elements for x in (e, e.translate(bytes.maketrans(b"0123456789",
                                                                         b"9876543210")))]
    got = frames_in_one_stream(stream)
    assert [(f.tag, f.attrs, f.data) for f in got] == [
        (f.tag, f.attrs, f.data) for f in map(fresh, stream)]
