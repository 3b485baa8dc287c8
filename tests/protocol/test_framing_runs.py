"""A burst framed as `FrameRun`s (``Framer(run_tags=...)``, ``protocol.runs``) holds exactly the
elements a framer without runs finds, each with its own attributes and bytes.

What it protects: a server routes, caches and queues a run as one, on the word of the framer
that its elements are sets of one property differing only in digit values. Whatever the stream
(names with digits, members with digits, digits in markup, quotes, references, elements of
other shapes in between) and wherever the reads split it, expanding every run gives the frames
of the same stream framed one by one, and a run never mixes devices, vectors or members.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol import Number
from indipycore.protocol import SetNumberVector
from indipycore.protocol import SetSwitchVector
from indipycore.protocol import State
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import serialise
from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.frames import Frame
from indipycore.protocol.frames import FrameRun
from indipycore.protocol.framing import INDI_TAGS
from indipycore.protocol.framing import Framer
from indipycore.protocol.runs import MAX_UNIT
from indipycore.protocol.runs import layout_of

RUN_TAGS = frozenset({"setNumberVector", "setTextVector", "setSwitchVector", "setLightVector"})


def framed(stream: bytes, cuts: list[int], runs: bool) -> list[Frame | ProtocolError | FrameRun]:
    framer = Framer(known_tags=INDI_TAGS, run_tags=RUN_TAGS if runs else ())
    out: list[Frame | ProtocolError | FrameRun] = []
    at = 0
    for cut in sorted(set(cuts)) + [len(stream)]:
        if cut > at:
            out.extend(framer.feed(stream[at:cut]))  # type: ignore[arg-type]
            at = cut
    return out


def expanded(items: list[Frame | ProtocolError | FrameRun]) -> list[object]:
    out: list[object] = []
    for item in items:
        if type(item) is FrameRun:
            out.extend((f.tag, f.attrs, f.data) for f in item.frames())
        elif isinstance(item, Frame):
            out.append((item.tag, item.attrs, item.data))
        else:
            out.append(str(item))
    return out


def number_set(value: str, stamp: str = "2026-11-24T10:00:00.00", device: str = "Bench",
               name: str = "NUM", member: str = "v", extra: bytes = b"") -> bytes:
    """A set of one number as `serialise` writes it; `extra` is spliced into its start tag as
    spelt (single quotes, a raw ``>``, a reference: spellings a peer may send)."""
    wire = serialise(SetNumberVector(device, name, (Number(member, value),), state=State.OK,
                                     timestamp=stamp))
    head, rest = wire.split(b">", 1)  # the serialiser escapes ">" in attribute values
    return head + extra + b">" + rest


def switch_set(value: SwitchState, device: str) -> bytes:
    return serialise(SetSwitchVector(device, "S", (Switch("On", value),)))


def test_a_burst_of_one_shape_comes_out_as_one_run_with_the_newest_attributes() -> None:
    burst = b"".join(number_set(str(1000 + i), f"2026-11-24T10:00:{i % 60:02d}.00")
                     for i in range(200))
    items = framed(burst, [], runs=True)
    runs = [i for i in items if type(i) is FrameRun]
    assert len(runs) == 1 and runs[0].count >= 190  # the first one or two go alone
    assert runs[0].attrs["timestamp"] == "2026-11-24T10:00:19.00"  # the 200th, i = 199
    assert expanded(items) == expanded(framed(burst, [], runs=False))
    # The run's bytes are the elements as sent, newlines between them included.
    assert burst.rstrip(b"\n").endswith(runs[0].data)


def test_without_run_tags_nothing_is_framed_as_a_run() -> None:
    burst = b"".join(number_set(str(1000 + i)) for i in range(50))
    assert all(type(i) is Frame for i in Framer().feed(burst))
    defs = burst.replace(b"setNumberVector", b"defNumberVector").replace(b"oneNumber", b"defNumber")
    assert all(type(i) is Frame for i in Framer(run_tags=RUN_TAGS).feed(defs))


def test_a_device_or_vector_or_member_name_with_a_digit_never_joins_a_run_of_another() -> None:
    """``CAM1`` and ``CAM2`` have one shape: each element keeps its own name, and no run holds
    both."""
    for field in ("device", "name", "member"):
        names: list[dict[str, Any]] = [{field: f"X{i % 2}"} for i in range(40)]
        stream = b"".join(number_set(str(10 + i), **names[i]) for i in range(40))
        items = framed(stream, [], runs=True)
        assert expanded(items) == expanded(framed(stream, [], runs=False)), field
        for run in (i for i in items if type(i) is FrameRun):
            assert len({f.attrs.get("device", "") + f.attrs.get("name", "")
                        for f in run.frames()}) == 1
            assert len({f.data.split(b'oneNumber name="')[1][:2] for f in run.frames()}) == 1


def test_layout_refuses_digits_in_markup_and_notes_naming_values_with_digits() -> None:
    assert layout_of(b'<setNumberVector device="D" name="N"><oneNumber name="v">1'
                     b"</oneNumber></setNumberVector>") == ()
    fixed = layout_of(b'<setNumberVector device="D1" name="N"><oneNumber name="v2">1'
                      b"</oneNumber></setNumberVector>")
    assert fixed is not None and len(fixed) == 2
    for refused in (b'<setNumberVector device="D" name="N"><one1 name="v">1</one1>'
                    b"</setNumberVector>",  # a digit in a tag name
                    b'<setNumberVector device="D" a1="x" name="N"></setNumberVector>',
                    b"<setNumberVector device='D' name='N'></setNumberVector>",
                    b'<setNumberVector device="D" name="N" message="a&amp;1"></setNumberVector>',
                    b'<setNumberVector device="D" name="N" message="1>2"></setNumberVector>',
                    b'<setNumberVector device="D" name="N"><!-- 1 --></setNumberVector>',
                    "<setNumberVector device=\"D\u00e9\" name=\"N\"></setNumberVector>".encode()):
        assert layout_of(refused) is None, refused


def test_a_run_is_broken_where_a_digit_count_changes_and_starts_again_after() -> None:
    stream = b"".join(number_set(str(i)) for i in range(5, 15))  # 5..9, then 10..14
    items = framed(stream, [], runs=True)
    assert expanded(items) == expanded(framed(stream, [], runs=False))
    # 5 and 6 are read by the strict pattern (the first with no newline before it), 7 is the
    # first of its start tag's shape and goes alone; a run begins at the next like it.
    assert [i.count for i in items if type(i) is FrameRun] == [2, 4]


def test_no_run_of_an_element_longer_than_max_unit() -> None:
    big = "1" * MAX_UNIT
    stream = b"".join(number_set(big[:-1] + str(i)) for i in range(5))
    assert all(type(i) is Frame for i in framed(stream, [], runs=True))


def test_each_frame_of_a_run_has_a_dict_of_its_own() -> None:
    stream = b"".join(number_set(str(10 + i), f"2026-11-24T10:00:{i:02d}.00") for i in range(9))
    (run,) = [i for i in framed(stream, [], runs=True) if type(i) is FrameRun]
    frames = run.frames()
    frames[0].attrs["state"] = "Alert"
    assert run.frames()[0].attrs["state"] == "Ok" and run.attrs["state"] == "Ok"
    assert run.element(-1).attrs == run.attrs and run.element(-1).attrs is not frames[0].attrs


# Elements a driver may send, several of one shape: the strategies mix runs and what breaks them.
_value = st.one_of(st.integers(0, 99_999).map(str), st.sampled_from(["1.5", "-2", "12:30:00",
                                                                      "nan", "1e5", "  7 "]))
_stamp = st.integers(0, 59).map(lambda s: f"2026-11-24T10:00:{s:02d}.00")
_name = st.sampled_from(["NUM", "N1", "N2", "EQUATORIAL_EOD_COORD"])
_device = st.sampled_from(["Bench", "CAM1", "CAM2"])
_extra = st.sampled_from([b"", b' message="m1"', b" timeout='1'", b' message="a &amp; 1"',
                          b' message="9>8"'])
_element = st.one_of(
    st.builds(number_set, _value, _stamp, _device, _name, st.sampled_from(["v", "v1", "v2"]),
              _extra),
    st.builds(switch_set, st.sampled_from(list(SwitchState)), _device),
    st.sampled_from([b'<message device="Bench" message="hello 1"/>\n', b'<pingRequest uid="1"/>',
                     b'<delProperty device="Bench" name="N1"/>\n', b"garbage 1 <\n",
                     b"<!-- 12 -->\n", b'<oneNumber name="v">1</oneNumber>\n',
                     b'<setNumberVector device="Bench" name="NUM">\n  <one1 name="v">1</one1>\n'
                     b"</setNumberVector>\n"]),
)


@settings(max_examples=300)
@given(st.lists(st.tuples(_element, st.integers(1, 12)), max_size=12),
       st.lists(st.integers(0, 6000), max_size=6))
@example([(number_set("10"), 5), (number_set("10", device="CAM1"), 3)], [])
def test_runs_expand_to_the_frames_of_the_stream_framed_one_by_one(
        parts: list[tuple[bytes, int]], cuts: list[int]) -> None:
    stream = b"".join(element * times for element, times in parts)
    with_runs = framed(stream, cuts, runs=True)
    assert expanded(with_runs) == expanded(framed(stream, cuts, runs=False))
    for run in (i for i in with_runs if type(i) is FrameRun):
        assert run.count >= 2 and run.tag in RUN_TAGS
        assert "message" not in run.attrs or "&" not in run.attrs["message"]
