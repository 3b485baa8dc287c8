"""An in-process driver hands its sets to the server framed, exactly as the framer would read them.

A set an `IPyDriver` sends through an in-process server goes as a `Frame` built while writing
it (`PropertyVector._set_bytes(attrs=...)`, `InProcessDriverConnection.write_frame`): the
server's framer need not read back what was just written (the `framework` benchmark's hot
path). The router trusts those attributes, so they must be what a framer reads from the same
bytes, whatever the names, message, timeout and state hold; where a value needed escaping the
driver sends bytes as before and the framer reads them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running

from indipycore.protocol.frames import Frame
from indipycore.protocol.framing import Framer
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import LightMember
from indipydriver import LightVector
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipyserver import IPyServer
from indipyserver.drivers.inprocess import InProcessDriverConnection

# Names and texts with what makes framing differ: entities, quotes, spaces at either end, tabs,
# non-ASCII, a control character (sent as U+FFFD).
TEXT = st.text(alphabet=st.sampled_from(list("aZ09 _.-\t&<>\"'é\x01")), min_size=1, max_size=10)


def vector_of(kind: str, name: str) -> Any:
    if kind == "Number":
        return NumberVector(name=name, label="n", group="g", perm="rw", state="Idle",
                            numbermembers=[NumberMember(name="v", membervalue=1)])
    if kind == "Switch":
        return SwitchVector(name=name, label="s", group="g", perm="rw", state="Idle",
                            rule="AnyOfMany", switchmembers=[SwitchMember(name="on")])
    if kind == "Text":
        return TextVector(name=name, label="t", group="g", perm="ro", state="Idle",
                          textmembers=[TextMember(name="t", membervalue="x")])
    return LightVector(name=name, label="l", group="g", state="Idle",
                       lightmembers=[LightMember(name="l")])


@settings(max_examples=200)
@given(st.sampled_from(["Number", "Switch", "Text", "Light"]), TEXT, TEXT,
       st.one_of(st.just(""), TEXT), st.sampled_from(["Idle", "Ok", "Busy", "Alert"]),
       st.one_of(st.just("0"), TEXT))
def test_the_attributes_built_while_writing_are_those_the_framer_reads(
        kind: str, device: str, name: str, message: str, state: str, timeout: str) -> None:
    """Whenever the driver builds the attributes, they equal the framer's reading of the
    same bytes; when it does not (something needed escaping), the framer reads them."""
    try:
        vector = vector_of(kind, name)
        Device(device, [vector])
    except (ValueError, TypeError):
        return  # a name the framework refuses: nothing is sent
    vector.state = state
    vector.timeout = timeout
    attrs: dict[str, str] = {}
    data = vector._set_bytes(list(vector.data.values()), message, None, attrs=attrs)
    (frame,) = Framer().feed(data)
    assert isinstance(frame, Frame) and frame.tag == f"set{kind}Vector"
    if attrs:
        assert attrs == frame.attrs
        assert list(attrs) == list(frame.attrs)  # in the order of the tag, too
    else:
        assert any(c in device + name + message + timeout for c in "&<>\"'\x01")


@asynccontextmanager
async def served(driver: IPyDriver, vector: str) -> AsyncIterator[
        tuple[RawClient, InProcessDriverConnection]]:
    """`driver` in a real server, a raw client that has its definitions (up to `vector`'s),
    and the driver's connection."""
    async with running(IPyServer(driver, host="127.0.0.1", port=0)) as server:
        client = await RawClient.connect(server.port)
        await client.send('<getProperties version="1.7"/>')
        await client.wait_for("defNumberVector", name=vector)
        yield client, next(c for c in server.connections
                           if isinstance(c, InProcessDriverConnection))


async def test_an_in_process_driver_s_sets_reach_a_client_framed_by_the_driver() -> None:
    """Through a real server: the sets arrive whole and in order, and the connection's framer
    read none of them (only the definitions, which still go as bytes)."""
    driver = make_gadget()
    async with served(driver, "VALUE") as (client, conn):
        framed_before = conn._framer.offset
        vector = driver["Gadget"]["VALUE"]
        for value in range(50):
            vector["V"] = value
            await vector.send_setVector(message="tick" if value == 7 else "")
        got = await client.read_until(lambda fs: sum(f.tag == "setNumberVector" for f in fs) >= 50)
        sets = [f for f in got if f.tag == "setNumberVector"]
        values = [float(f.data.split(b'<oneNumber name="V">')[1].split(b"<")[0]) for f in sets]
        assert values == [float(i) for i in range(50)]
        assert sets[7].attrs["message"] == "tick" and "message" not in sets[8].attrs
        assert conn._framer.offset == framed_before, "the sets were read back by the framer"


class _Plain(IPyDriver):
    async def rxevent(self, event: Any) -> None:
        pass


async def test_a_set_whose_names_need_escaping_still_arrives_read_by_the_framer() -> None:
    """A device name with an entity in it: no attributes are built, the bytes go through the
    framer, and the client gets the set with the name decoded."""
    vector = vector_of("Number", "P")
    driver = _Plain(Device("A&B", [vector]))
    async with served(driver, "P") as (client, conn):
        framed_before = conn._framer.offset
        await vector.send_setVector()
        got = await client.read_until(lambda fs: any(f.tag == "setNumberVector" for f in fs))
        (frame,) = [f for f in got if f.tag == "setNumberVector"]
        assert frame.attrs["device"] == "A&B" and b'device="A&amp;B"' in frame.data
        assert conn._framer.offset > framed_before


def test_values_sent_as_replacement_characters_are_read_back_by_the_framer() -> None:
    """A control character in a message or timeout goes out as U+FFFD (XML cannot carry it):
    the attributes a framer reads then differ from the values held, so the driver must not
    build them itself."""
    for message, timeout in (("bad\x01", "0"), ("", "1\x01")):
        vector = vector_of("Number", "P")
        Device("D", [vector])
        vector.timeout = timeout
        attrs: dict[str, str] = {}
        data = vector._set_bytes(list(vector.data.values()), message, None, attrs=attrs)
        (frame,) = Framer().feed(data)
        assert isinstance(frame, Frame) and "\ufffd" in frame.attrs[
            "message" if message else "timeout"]
        assert attrs == {} or attrs == frame.attrs
