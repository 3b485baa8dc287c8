"""The elements the server writes itself are the protocol core's writer's.

`routing.serverelements` spells its messages, delProperty, getProperties, enableBLOB and
cut-short BLOB vectors with `indipycore.protocol.serialiser`'s functions. Protects, for any
device, name and message XML can carry (entities included): each is byte for byte what
`serialise` writes for the same event (getProperties, whose version comes last, and the empty
setBLOBVector, written as an empty element, as the server has always written them, parse to the
same event), and its `Frame` carries the attributes a
framer reads from its bytes.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol import events as pe
from indipycore.protocol.enums import BLOBEnable
from indipycore.protocol.enums import State
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.parser import parse_element
from indipycore.protocol.serialiser import serialise
from indipyserver.routing.serverelements import cut_short_frame
from indipyserver.routing.serverelements import del_property_frame
from indipyserver.routing.serverelements import enable_blob_bytes
from indipyserver.routing.serverelements import get_properties_frame
from indipyserver.routing.serverelements import message_frame

#: Any character XML 1.0 carries, without outer whitespace (a framer strips it).
TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\ufffe\uffff"),
               min_size=1, max_size=12).map(str.strip).filter(bool)
STAMP = "2026-11-24T04:40:01"


def _framed_alike(frame: Frame) -> None:
    (read,) = Framer().feed(frame.data)
    assert isinstance(read, Frame) and (read.tag, read.attrs) == (frame.tag, frame.attrs)


@settings(max_examples=200)
@given(device=TEXT, name=TEXT, message=TEXT, with_device=st.booleans())
def test_the_servers_own_elements_are_the_serialisers(device: str, name: str, message: str,
                                                      with_device: bool) -> None:
    frame = message_frame(message, STAMP, device if with_device else None)
    assert frame.data == serialise(pe.Message(device if with_device else None, STAMP, message))
    _framed_alike(frame)

    frame = del_property_frame(device)
    stamp = frame.attrs["timestamp"]
    assert frame.data == serialise(pe.DelProperty(device, timestamp=stamp))
    _framed_alike(frame)

    frame = cut_short_frame(device, name, message)
    stamp = frame.attrs["timestamp"]
    assert parse_element(frame.data) == pe.SetBLOBVector(device, name, (), state=State.ALERT,
                                                         timestamp=stamp, message=message)
    _framed_alike(frame)

    for mode in BLOBEnable:
        assert enable_blob_bytes(device, name, mode) == serialise(pe.EnableBLOB(device, mode, name))
        assert enable_blob_bytes(device, None, mode) == serialise(pe.EnableBLOB(device, mode))

    frame = get_properties_frame(device, name)
    assert parse_element(frame.data) == pe.GetProperties("1.7", device, name)
    _framed_alike(frame)


def test_the_servers_getproperties_puts_its_version_last_as_it_always_did() -> None:
    assert get_properties_frame("D&", "N").data == (
        b'<getProperties device="D&amp;" name="N" version="1.7"/>\n')
    assert get_properties_frame().data == b'<getProperties version="1.7"/>\n'
