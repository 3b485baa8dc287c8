"""Router unit tests: who receives which element, with no sockets and no event loop."""

from __future__ import annotations

import logging

import pytest
from serverdoubles import RecordingClient
from serverdoubles import RecordingDriver
from serverdoubles import frames
from serverdoubles import ready

from indipycore.protocol.enums import BLOBEnable
from indipycore.protocol.events import DefBLOBVector
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import EnableBLOB
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import FrameHead
from indipycore.protocol.framing import Framer
from indipycore.protocol.parser import parse_element
from indipycore.protocol.serialiser import serialise
from indipyserver.routing.router import Router


def member_values(data: bytes) -> dict[str, str]:
    event = parse_element(data)
    return {m.name: m.value for m in event.members}  # type: ignore[union-attr]


class FakeClient(RecordingClient):
    def __init__(self, label: str, log: list[str] | None = None) -> None:
        super().__init__(label)
        self.log = log

    def send_frame(self, frame: Frame) -> None:
        self.got.append(frame.data)
        if self.log is not None:
            self.log.append(f"{self.label}:{frame.tag}")

    def tags(self) -> list[str]:
        return [Framer().feed(d)[0].tag for d in self.got]  # type: ignore[union-attr]

    def text(self) -> str:
        return b"".join(self.got).decode()


class FakeDriver(RecordingDriver):
    def __init__(self, label: str, is_remote: bool = False, log: list[str] | None = None) -> None:
        super().__init__(label, is_remote)
        self.log = log

    def send(self, data: bytes) -> None:
        self.got.append(data)
        if self.log is not None:
            self.log.append(f"{self.label}:{data[:20]!r}")

    def text(self) -> str:
        return b"".join(self.got).decode()


DEF_X_P = (
    '<defNumberVector device="X" name="P" state="Ok" perm="rw">'
    '<defNumber name="a" format="%g" min="0" max="9" step="1">1</defNumber></defNumberVector>'
)
SET_X_P = '<setNumberVector device="X" name="P"><oneNumber name="a">2</oneNumber></setNumberVector>'
DEF_X_Q = (
    '<defTextVector device="X" name="Q" state="Ok" perm="ro">'
    '<defText name="t">hello</defText></defTextVector>'
)
SET_X_Q = '<setTextVector device="X" name="Q"><oneText name="t">bye</oneText></setTextVector>'
DEF_X_B = '<defBLOBVector device="X" name="B" state="Idle" perm="ro"><defBLOB name="b"/></defBLOBVector>'


def blob_def(device: str, *names: str) -> str:
    """defBLOBVectors of `device`, one per property name."""
    return "".join(DEF_X_B.replace('"X"', f'"{device}"').replace('"B"', f'"{n}"') for n in names)


def set_number(name: str, member: str, value: int) -> str:
    """X's setNumberVector `name` of one member."""
    return serialise(SetNumberVector("X", name, (Number(member, str(value)),))).decode()


def enable(device: str, name: str | None, mode: str) -> str:
    """An enableBLOB as our server writes it (and as clients may send it)."""
    return serialise(EnableBLOB(device, BLOBEnable(mode), name)).decode()
SET_X_B = (
    '<setBLOBVector device="X" name="B"><oneBLOB name="b" size="3" format=".raw">'
    "AAAA</oneBLOB></setBLOBVector>"
)
SET_X_B2 = SET_X_B.replace('name="B"', 'name="B2"')
DEF_Y_P = DEF_X_P.replace('device="X"', 'device="Y"')
SET_Y_P = SET_X_P.replace('device="X"', 'device="Y"')
SET_Y_B = SET_X_B.replace('device="X"', 'device="Y"')
NEW_X_P = '<newNumberVector device="X" name="P"><oneNumber name="a">5</oneNumber></newNumberVector>'


@pytest.fixture
def router() -> Router:
    return Router()


def client(router: Router, label: str = "c1", getprops: str | None = "<getProperties/>") -> FakeClient:
    c = FakeClient(label)
    router.add_client(c)
    if getprops:
        router.client_frames(c, frames(getprops))
    return c


# -- drivers starting -------------------------------------------------------------------


def test_driver_ready_asks_for_properties_naming_no_device_with_version_17(router: Router) -> None:
    """A C driver takes its device name from the first getProperties's device (notes 2.2)."""
    d = FakeDriver("d")
    router.driver_ready(d)  # type: ignore[arg-type]
    assert d.got == [b'<getProperties version="1.7"/>\n']


def test_remote_ready_is_asked_for_everything_once_as_a_chained_server(router: Router) -> None:
    """device="*" alone, as indiserver asks: a device-less request after it made the remote
    send every definition twice (a chaos review saw each twice after a reconnect)."""
    r = FakeDriver("r", is_remote=True)
    router.driver_ready(r)  # type: ignore[arg-type]
    assert r.got == [b'<getProperties device="*" version="1.7"/>\n']


# -- client interest ---------------------------------------------------------------------


def test_driver_element_goes_only_to_clients_that_showed_interest(router: Router) -> None:
    d = FakeDriver("d")
    ready(router, d)
    all_ = client(router, "all")
    only_y = client(router, "y", '<getProperties device="Y"/>')
    silent = client(router, "silent", None)
    router.driver_frames(d, frames(DEF_X_P + DEF_Y_P))  # type: ignore[arg-type]
    assert all_.tags() == ["defNumberVector", "defNumberVector"]
    assert only_y.text() == DEF_Y_P
    assert silent.got == []


def test_named_interest_is_not_widened_by_a_later_devicefree_getproperties(router: Router) -> None:
    """indiserver ClInfo: once a client named a device it never becomes 'all devices'."""
    d = FakeDriver("d")
    ready(router, d)
    c = client(router, "c", '<getProperties device="Y"/><getProperties/>')
    router.driver_frames(d, frames(SET_X_P + SET_Y_P))  # type: ignore[arg-type]
    assert c.text() == SET_Y_P


def test_property_interest_from_new_gets_that_property_and_device_level_messages(router: Router) -> None:
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P + DEF_X_Q))  # type: ignore[arg-type]
    c = client(router, "c", NEW_X_P)
    msg = '<message device="X" message="hi"/>'
    router.driver_frames(d, frames(SET_X_P + SET_X_Q + msg))  # type: ignore[arg-type]
    assert c.text() == SET_X_P + msg


def test_devicefree_message_from_a_driver_goes_to_every_client(router: Router) -> None:
    d = FakeDriver("d")
    ready(router, d)
    c1 = client(router, "c1", None)
    c2 = client(router, "c2", '<getProperties device="Z"/>')
    router.driver_frames(d, frames('<message message="server wide"/>'))  # type: ignore[arg-type]
    assert c1.text() == c2.text() == '<message message="server wide"/>'


@pytest.mark.parametrize(("asks", "gets_it"), [
    ('<getProperties device="X"/><enableBLOB device="X">Only</enableBLOB>', False),
    ('<getProperties device="X"/><getProperties device="Y"/>'
     '<enableBLOB device="X">Only</enableBLOB><enableBLOB device="Y">Only</enableBLOB>', False),
    ("<getProperties/><enableBLOB>Only</enableBLOB>", False),
    ('<getProperties device="X"/><getProperties device="Y"/>'
     '<enableBLOB device="X">Only</enableBLOB>', True),  # Y's other traffic wanted
    ('<getProperties/><enableBLOB device="X">Only</enableBLOB>', True),  # all devices
    ('<getProperties device="X"/><enableBLOB device="X" name="B">Only</enableBLOB>', False),
    ('<getProperties device="X"/><enableBLOB device="X">Only</enableBLOB>'
     '<enableBLOB device="X" name="P">Also</enableBLOB>', True),  # X.P's other traffic wanted
])
def test_a_blob_only_connection_gets_no_devicefree_message(
    router: Router, asks: str, gets_it: bool
) -> None:
    """A connection that asked for nothing but BLOBs (KStars' BlobManager: one device watched,
    one of its properties set Only) is not sent device-less messages, which its user already gets on the main
    connection (indiserver sends a connection set to Only nothing but setBLOBVector)."""
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_B))  # type: ignore[arg-type]
    c = client(router, "c", asks)
    c.got.clear()
    router.driver_frames(d, frames('<message message="server wide"/>' + SET_X_B))  # type: ignore[arg-type]
    expected = ('<message message="server wide"/>' if gets_it else "") + SET_X_B
    assert c.text() == expected


def test_forwarded_bytes_are_the_original_bytes_object(router: Router) -> None:
    """Forward, never re-serialise: the same bytes object goes to every client."""
    d = FakeDriver("d")
    ready(router, d)
    c1, c2 = client(router, "c1"), client(router, "c2")
    fs = frames(SET_X_P)
    router.driver_frames(d, fs)  # type: ignore[arg-type]
    assert c1.got[0] is fs[0].data and c2.got[0] is fs[0].data


# -- client to driver ------------------------------------------------------------------


def test_client_new_goes_only_to_the_owner_and_is_echoed_to_other_interested_clients(
    router: Router,
) -> None:
    dx, dy = FakeDriver("dx"), FakeDriver("dy")
    ready(router, dx, dy)
    router.driver_frames(dx, frames(DEF_X_P))  # type: ignore[arg-type]
    router.driver_frames(dy, frames(DEF_Y_P))  # type: ignore[arg-type]
    sender, watcher = client(router, "sender"), client(router, "watcher")
    other_dev = client(router, "other", '<getProperties device="Y"/>')
    for c in (sender, watcher, other_dev):
        c.got.clear()
    router.client_frames(sender, frames(NEW_X_P))  # type: ignore[arg-type]
    assert dx.text() == NEW_X_P
    assert dy.got == []
    assert watcher.text() == NEW_X_P
    assert sender.got == [] and other_dev.got == []


@pytest.mark.parametrize("bad", [
    NEW_X_P.replace('name="a">5', 'name="a" name="b">5'),  # duplicate attribute
    NEW_X_P.replace(">5<", ">&undefined;<"),
    NEW_X_P.replace("</oneNumber>", "</oneText><getProperties/>"),  # runs on, a request inside
])
def test_malformed_client_new_reaches_neither_driver_nor_clients(
    router: Router, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A client's new*Vector is passed on as its bytes: one that is not well-formed XML would
    break the driver's and the other clients' parsers (and a version-less getProperties
    carried inside makes a C driver exit), so it is dropped with a warning; the client's next
    request goes through."""
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P))  # type: ignore[arg-type]
    sender, watcher = client(router, "sender"), client(router, "watcher")
    watcher.got.clear()
    with caplog.at_level(logging.WARNING, logger="indipyserver.router"):
        router.client_frames(sender, frames(bad))  # type: ignore[arg-type]
    assert d.got == [] and watcher.got == []
    assert "client sender sent a malformed <newNumberVector>" in caplog.text
    router.client_frames(sender, frames(NEW_X_P))  # type: ignore[arg-type]
    assert d.text() == NEW_X_P and watcher.text() == NEW_X_P


@pytest.mark.parametrize("quote", ["'", '"'])
def test_a_blob_attached_with_no_descriptor_reaches_no_client(
    router: Router, quote: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``<oneBLOB ... attached='true'/>`` reaching the router had no shared buffer put in
    (a pipe driver cannot pass one): a client would get an empty image, so the vector is dropped
    with an error naming the driver, and its next BLOB goes through."""
    d, c = blob_setup(router, '<enableBLOB device="X">Also</enableBLOB>')
    c.got.clear()
    attached = SET_X_B.replace('format=".raw">AAAA</oneBLOB>',
                               f"format=\".raw\" attached={quote}true{quote}/>")
    with caplog.at_level(logging.ERROR, logger="indipyserver.router"):
        router.driver_frames(d, frames(attached + SET_X_B))  # type: ignore[arg-type]
    assert c.text() == SET_X_B
    assert "d sent a BLOB attached='true' with no shared buffer" in caplog.text


def test_a_large_client_new_goes_to_its_driver_only(router: Router) -> None:
    """The echo of a new*Vector to the other clients is a courtesy; one client's upload of
    hundreds of MB filled every other client's queue past its limit and got them all
    disconnected. Past MAX_ECHO_BYTES it goes to the driver alone."""
    from indipyserver.routing.router import MAX_ECHO_BYTES

    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P))  # type: ignore[arg-type]
    sender, watcher = client(router, "sender"), client(router, "watcher")
    watcher.got.clear()
    big = NEW_X_P.replace(">5<", ">" + " " * MAX_ECHO_BYTES + "5<")
    router.client_frames(sender, frames(big))  # type: ignore[arg-type]
    assert d.text() == big and watcher.got == []
    d.got.clear()
    router.client_frames(sender, frames(NEW_X_P))  # type: ignore[arg-type]
    assert d.text() == watcher.text() == NEW_X_P


def test_a_client_new_without_a_name_reaches_nobody(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P))  # type: ignore[arg-type]
    sender, watcher = client(router, "sender"), client(router, "watcher")
    watcher.got.clear()
    d.got.clear()
    router.client_frames(sender, frames(NEW_X_P.replace(' name="P"', "")))  # type: ignore[arg-type]
    assert d.got == [] and watcher.got == []
    assert "client sender sent <newNumberVector> for 'X' without a name: dropped" in caplog.text


def test_client_new_for_unknown_device_is_dropped(router: Router, caplog: pytest.LogCaptureFixture) -> None:
    """Dropped with a warning that says why (a chaos review of chains: a request to a device
    whose remote was down vanished without a word, as it does in indiserver); a client that
    goes on sending them does not flood the log."""
    d = FakeDriver("d")
    ready(router, d)
    c = client(router)
    d.got.clear()
    with caplog.at_level(logging.WARNING, logger="indipyserver.router"):
        for _ in range(50):
            router.client_frames(c, frames(NEW_X_P))  # type: ignore[arg-type]
    assert d.got == []
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings[0].startswith("client ") and warnings[0].endswith(
        " sent <newNumberVector> for device 'X', which nothing here serves (its driver or remote "
        "gone?): dropped")
    assert len(warnings) < 50


def test_client_getproperties_is_answered_from_the_cache(router: Router) -> None:
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P + SET_X_P + DEF_X_Q))  # type: ignore[arg-type]
    c = client(router)
    # One def per property, carrying the latest value: indi_getprop takes the first it sees.
    assert c.tags() == ["defNumberVector", "defTextVector"]
    assert member_values(c.got[0]) == {"a": "2"}
    assert c.got[1] == DEF_X_Q.encode()
    assert d.got == []  # the driver is not made to redefine everything for everyone


def test_devicefree_getproperties_is_answered_to_clients_of_named_devices_too(
    router: Router,
) -> None:
    """An indiserver chaining our devices one connection each (``"X"@host``, ``"Y"@host``)
    passes its clients' device-less getProperties to one of those connections only and learns
    the other device from its other connection: as an indiserver's drivers would, the cache
    answers every client that wants named devices only, each with its own devices. A client of
    every device is not sent everything again because another client asked."""
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P + DEF_Y_P))  # type: ignore[arg-type]
    x_conn = client(router, "x", '<getProperties device="X"/>')
    y_conn = client(router, "y", '<getProperties device="Y"/>')
    gui = client(router, "gui")
    for c in (x_conn, y_conn, gui):
        c.got.clear()
    router.client_frames(x_conn, frames("<getProperties/>"))  # type: ignore[arg-type]
    assert x_conn.text() == DEF_X_P
    assert y_conn.text() == DEF_Y_P
    assert gui.got == []
    router.client_frames(gui, frames("<getProperties/>"))  # type: ignore[arg-type]
    assert gui.text() == DEF_X_P + DEF_Y_P
    assert x_conn.text() == DEF_X_P * 2 and y_conn.text() == DEF_Y_P * 2
    # A named getProperties is answered to the asker only.
    router.client_frames(gui, frames('<getProperties device="Y"/>'))  # type: ignore[arg-type]
    assert y_conn.text() == DEF_Y_P * 2
    assert d.got == []


def test_client_getproperties_reaches_a_driver_not_heard_from(router: Router) -> None:
    d = FakeDriver("d")
    ready(router, d)
    client(router, "c", '<getProperties version="2.0"/>')
    assert d.got == [b'<getProperties version="1.7"/>\n']


def test_named_getproperties_not_in_cache_goes_to_owner_with_version_17(router: Router) -> None:
    """C drivers exit on getProperties without version or newer than 1.7 (notes 2.8)."""
    dx, dy = FakeDriver("dx"), FakeDriver("dy")
    ready(router, dx, dy)
    router.driver_frames(dx, frames(DEF_X_P))  # type: ignore[arg-type]
    client(router, "c", '<getProperties version="2.0" switch="2.0" device="X" name="Z"/>')
    assert dx.got == [b'<getProperties device="X" name="Z" version="1.7"/>\n']
    assert dy.got == []


def test_star_getproperties_asks_local_drivers_only_and_marks_client_chained(router: Router) -> None:
    """Loop guard: device="*" is never passed on to our remotes (two servers that are each
    other's remote bounced it forever); a remote was asked when it connected."""
    d, r = FakeDriver("d"), FakeDriver("r", is_remote=True)
    ready(router, d, r)
    c = client(router, "up", '<getProperties device="*" version="1.7"/>')
    assert d.got == [b'<getProperties version="1.7"/>\n']
    assert r.got == []
    router.driver_frames(d, frames(SET_X_P))  # type: ignore[arg-type]
    assert c.text() == SET_X_P
    assert router.tables.clients[c].chained  # type: ignore[index]


# -- enableBLOB --------------------------------------------------------------------------


def blob_setup(router: Router, enable: str) -> tuple[FakeDriver, FakeClient]:
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P + DEF_X_B + DEF_Y_P))  # type: ignore[arg-type]
    c = client(router, "c", "<getProperties/>" + enable)
    c.got.clear()
    router.driver_frames(d, frames(SET_X_P + SET_X_B + SET_X_B2 + SET_Y_B + SET_Y_P))  # type: ignore[arg-type]
    return d, c


def test_blobs_are_never_sent_by_default(router: Router) -> None:
    _, c = blob_setup(router, "")
    assert c.text() == SET_X_P + SET_Y_P


def test_enableblob_also_adds_that_devices_blobs_only(router: Router) -> None:
    _, c = blob_setup(router, '<enableBLOB device="X">Also</enableBLOB>')
    assert c.text() == SET_X_P + SET_X_B + SET_X_B2 + SET_Y_P


def test_enableblob_only_sends_nothing_but_that_devices_blobs(router: Router) -> None:
    _, c = blob_setup(router, '<enableBLOB device="X">Only</enableBLOB>')
    assert c.text() == SET_X_B + SET_X_B2 + SET_Y_P


def test_a_property_set_only_still_gets_its_definition_and_its_devices_other_traffic(
        router: Router) -> None:
    """KStars' BlobManager watches one device and sets its image property Only as soon as it
    sees the device; the property may be defined later (a camera defines its image when
    connected). As indiserver 1.9.9 does, that definition (and the device's other traffic)
    is still sent to it: only a device or a connection set Only gets nothing but BLOBs. Without
    it, its libindi client had no such property and dropped the image (Ekos' capture hung)."""
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P))  # type: ignore[arg-type]
    c = client(router, "c", '<getProperties device="X"/><enableBLOB device="X" name="B">Only'
                            "</enableBLOB>")
    c.got.clear()
    router.driver_frames(d, frames(DEF_X_B + SET_X_P + SET_X_B + SET_X_B2))  # type: ignore[arg-type]
    assert c.text() == DEF_X_B + SET_X_P + SET_X_B


def test_a_device_set_only_gets_no_definition(router: Router) -> None:
    """Set Only for the whole device, a connection gets its setBLOBVectors and nothing else,
    not even a BLOB property's definition (indiserver 1.9.9 does the same)."""
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P))  # type: ignore[arg-type]
    c = client(router, "c", '<getProperties device="X"/><enableBLOB device="X">Only</enableBLOB>')
    c.got.clear()
    router.driver_frames(d, frames(DEF_X_B + SET_X_P + SET_X_B))  # type: ignore[arg-type]
    assert c.text() == SET_X_B


def test_named_enableblob_overrides_the_device_wide_mode_for_that_property(router: Router) -> None:
    _, c = blob_setup(
        router, '<enableBLOB device="X">Also</enableBLOB><enableBLOB device="X" name="B2">Never</enableBLOB>'
    )
    assert c.text() == SET_X_P + SET_X_B + SET_Y_P


def test_enableblob_never_after_also_stops_blobs(router: Router) -> None:
    _, c = blob_setup(
        router, '<enableBLOB device="X">Also</enableBLOB><enableBLOB device="X">Never</enableBLOB>'
    )
    assert c.text() == SET_X_P + SET_Y_P


def test_enableblob_is_forwarded_only_to_a_remote_owner(router: Router) -> None:
    d, r = FakeDriver("d"), FakeDriver("r", is_remote=True)
    ready(router, d, r)
    router.driver_frames(d, frames(DEF_X_B))  # type: ignore[arg-type]
    router.driver_frames(r, frames(DEF_Y_P + blob_def("Y", "B")))  # type: ignore[arg-type]
    c = client(router)
    router.client_frames(c, frames('<enableBLOB device="X">Also</enableBLOB><enableBLOB device="Y">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert d.got == []
    assert r.text() == '<enableBLOB device="Y" name="B">Also</enableBLOB>\n'


# -- snooping ----------------------------------------------------------------------------


def test_snoop_registers_and_forwards_to_owner_with_version(router: Router) -> None:
    """A snoop the cache cannot answer is asked of the owner (with version="1.7"); one it can
    answer is not: the owner's answer would reach every client of the device again (a snooper
    repeats its request when it hears nothing for a while)."""
    owner, snooper = FakeDriver("owner"), FakeDriver("snooper")
    ready(router, owner, snooper)
    router.driver_frames(owner, frames(DEF_X_Q))  # type: ignore[arg-type]  # X is the owner's
    watcher = client(router, "watcher")
    snooper.got.clear()
    router.driver_frames(snooper, frames('<getProperties device="X" name="P"/>'))  # type: ignore[arg-type]
    assert owner.got == [b'<getProperties device="X" name="P" version="1.7"/>\n']
    assert snooper.got == []  # nothing cached for X.P
    owner.got.clear()
    watcher.got.clear()
    router.driver_frames(owner, frames(DEF_X_P))  # type: ignore[arg-type]
    assert snooper.text() == watcher.text() == DEF_X_P
    snooper.got.clear()
    watcher.got.clear()
    for again, cached in (('<getProperties device="X" name="P"/>', DEF_X_P),
                          ('<getProperties device="X"/>', DEF_X_Q + DEF_X_P)):
        router.driver_frames(snooper, frames(again))  # type: ignore[arg-type]
        assert owner.got == [] and watcher.got == []
        assert snooper.text() == cached  # replayed from the cache
        snooper.got.clear()
    router.driver_frames(owner, frames(SET_X_P + SET_X_Q + '<message device="X" message="m"/>'))  # type: ignore[arg-type]
    assert snooper.text() == SET_X_P + SET_X_Q + '<message device="X" message="m"/>'


def test_a_snoop_the_cache_holds_only_a_set_for_is_asked_of_the_owner(router: Router) -> None:
    """A set cached with no definition (sent before it, or after a delProperty) is replayed,
    and the owner is asked too, so that its definition follows."""
    owner, snooper = FakeDriver("owner"), FakeDriver("snooper")
    ready(router, owner, snooper)
    router.driver_frames(owner, frames(DEF_X_Q + SET_X_P))  # type: ignore[arg-type]
    snooper.got.clear()
    router.driver_frames(snooper, frames('<getProperties device="X" name="P"/>'))  # type: ignore[arg-type]
    assert owner.got == [b'<getProperties device="X" name="P" version="1.7"/>\n']
    owner.got.clear()
    router.driver_frames(snooper, frames('<getProperties device="X"/>'))  # type: ignore[arg-type]
    assert owner.got == [b'<getProperties device="X" version="1.7"/>\n']


def test_late_snooper_gets_static_values_with_the_latest_set_merged(router: Router) -> None:
    """indi_pylibcamera#31: static values sent before snooping started were never seen."""
    owner, late = FakeDriver("owner"), FakeDriver("late")
    ready(router, owner, late)
    newer = SET_X_P.replace(">2<", ">3<").replace('name="P"', 'name="P" state="Busy"')
    router.driver_frames(owner, frames(DEF_X_P + SET_X_P + newer + DEF_X_Q))  # type: ignore[arg-type]
    router.driver_frames(late, frames('<getProperties device="X"/>'))  # type: ignore[arg-type]
    assert len(late.got) == 2
    merged = parse_element(late.got[0])
    assert isinstance(merged, DefNumberVector)
    assert merged.state == "Busy" and merged["a"].value == "3" and merged["a"].max == "9"
    assert late.got[1] == DEF_X_Q.encode()


def test_a_merged_replay_keeps_labels_as_the_driver_sent_them(router: Router) -> None:
    """A sweep of indilib's drivers: a label 'Left ' came back as 'Left' from the merge of a
    set into its definition (indiserver replays the driver's own bytes)."""
    owner, late = FakeDriver("owner"), FakeDriver("late")
    ready(router, owner, late)
    spaced = DEF_X_P.replace('name="P"', 'name="P" label="Left " group=" G"', 1)
    assert spaced != DEF_X_P
    router.driver_frames(owner, frames(spaced + SET_X_P.replace(">2<", ">3<")))  # type: ignore[arg-type]
    router.driver_frames(late, frames('<getProperties device="X" name="P"/>'))  # type: ignore[arg-type]
    merged = parse_element(late.got[0])
    assert isinstance(merged, DefNumberVector)
    assert (merged.label, merged.group, merged["a"].value) == ("Left ", " G", "3")


def test_new_def_replaces_the_cached_set(router: Router) -> None:
    owner = FakeDriver("owner")
    ready(router, owner)
    redefined = DEF_X_P.replace(">1<", ">7<")
    router.driver_frames(owner, frames(DEF_X_P + SET_X_P + redefined))  # type: ignore[arg-type]
    assert router.cached("X", "P") == (frames(redefined)[0], None)
    assert client(router).text() == redefined


def test_oneNumber_limits_in_a_set_update_the_replayed_definition(router: Router) -> None:
    """indilib IUUpdateMinMax sends new min/max/step inside oneNumber."""
    owner = FakeDriver("owner")
    ready(router, owner)
    limits = SET_X_P.replace('<oneNumber name="a">', '<oneNumber name="a" min="-5" max="50">')
    router.driver_frames(owner, frames(DEF_X_P + limits))  # type: ignore[arg-type]
    merged = parse_element(client(router).got[0])
    assert isinstance(merged, DefNumberVector)
    assert (merged["a"].min, merged["a"].max, merged["a"].step) == ("-5", "50", "1")


def test_limits_from_an_older_set_survive_a_newer_set_without_them(router: Router) -> None:
    """A sweep of indilib's drivers: the CCD simulator sends CCD_FRAME's limits in one set
    (IUUpdateMinMax), then its values in another; a client connecting later was replayed
    min=max=0 (the definition's), where indiserver, asking the driver, gave the limits."""
    owner = FakeDriver("owner")
    late = FakeDriver("late")
    ready(router, owner, late)
    limits = SET_X_P.replace('<oneNumber name="a">', '<oneNumber name="a" min="-5" max="50">')
    one_limit = SET_X_P.replace('<oneNumber name="a">', '<oneNumber name="a" max="60">')
    values = SET_X_P.replace(">2<", ">3<")
    router.driver_frames(owner, frames(DEF_X_P + limits + values))  # type: ignore[arg-type]
    router.driver_frames(late, frames('<getProperties device="X" name="P"/>'))  # type: ignore[arg-type]
    merged = parse_element(late.got[0])
    assert isinstance(merged, DefNumberVector)
    assert (merged["a"].value, merged["a"].min, merged["a"].max) == ("3", "-5", "50")
    router.driver_frames(owner, frames(one_limit + values))  # type: ignore[arg-type]
    router.driver_frames(late, frames('<getProperties device="X" name="P"/>'))  # type: ignore[arg-type]
    merged = parse_element([g for g in late.got if g.startswith(b"<defNumberVector")][-1])
    assert isinstance(merged, DefNumberVector)
    assert (merged["a"].min, merged["a"].max) == ("-5", "60")  # one limit alone is kept too


def test_partial_sets_of_different_members_are_all_replayed(router: Router) -> None:
    """Sets may carry only the members that changed: each one's values reach the replay,
    as do the state and timestamp of a set the next one does not repeat."""
    owner = FakeDriver("owner")
    late = FakeDriver("late")
    ready(router, owner, late)
    two = ('<defNumberVector device="X" name="R" state="Idle" perm="ro">'
           '<defNumber name="a" format="%g" min="0" max="0" step="0">0</defNumber>'
           '<defNumber name="b" format="%g" min="0" max="0" step="0">0</defNumber>'
           '</defNumberVector>')
    only_a = ('<setNumberVector device="X" name="R" state="Busy" timestamp="2026-11-23T05:00:00">'
              '<oneNumber name="a">1</oneNumber></setNumberVector>')
    only_b = '<setNumberVector device="X" name="R"><oneNumber name="b">2</oneNumber></setNumberVector>'
    router.driver_frames(owner, frames(two + only_a + only_b))  # type: ignore[arg-type]
    router.driver_frames(late, frames('<getProperties device="X" name="R"/>'))  # type: ignore[arg-type]
    merged = parse_element(late.got[0])
    assert isinstance(merged, DefNumberVector)
    assert (merged["a"].value, merged["b"].value) == ("1", "2")
    assert merged.state == "Busy" and merged.timestamp == "2026-11-23T05:00:00"


def test_a_stream_of_partial_sets_is_merged_in_batches_and_replayed_right() -> None:
    """A driver sending only what changed (send_setVector(allvalues=False)) gives a set
    per member: the cache keeps the uncovered ones and merges them FOLD_EVERY at a time, so
    memory stays bounded and every member's latest value is replayed."""
    from indipyserver.routing import propertycache
    from indipyserver.routing.propertycache import PropertyCache

    cache = PropertyCache()
    two = ('<defNumberVector device="X" name="R" state="Idle" perm="ro">'
           '<defNumber name="a" format="%g" min="0" max="0" step="0">0</defNumber>'
           '<defNumber name="b" format="%g" min="0" max="0" step="0">0</defNumber>'
           '</defNumberVector>')
    cache.define("X", "R", frames(two)[0])
    for i in range(1, 101):
        member = "ab"[i % 2]
        cache.update("X", "R", frames(set_number("R", member, i))[0])
        assert len(cache._devices["X"]["R"].pending or ()) < propertycache.FOLD_EVERY
    ((_, _, (merged_frame,)),) = cache.replay("X", "R")
    merged = parse_element(merged_frame.data)
    assert isinstance(merged, DefNumberVector)
    assert (merged["a"].value, merged["b"].value) == ("100", "99")

    # A set that is well-formed but not valid INDI (a state that does not exist) is left out
    # of the merge; the sets around it are not lost with it.
    cache.update("X", "R", frames('<setNumberVector device="X" name="R" state="Ok">'
                                  '<oneNumber name="b">7</oneNumber></setNumberVector>')[0])
    cache.update("X", "R", frames('<setNumberVector device="X" name="R" state="Bogus">'
                                  '<oneNumber name="b">8</oneNumber></setNumberVector>')[0])
    for i in range(40):
        cache.update("X", "R", frames(set_number("R", "a", i))[0])
    ((_, _, (merged_frame,)),) = cache.replay("X", "R")
    merged = parse_element(merged_frame.data)
    assert isinstance(merged, DefNumberVector)
    assert (merged["a"].value, merged["b"].value, merged.state) == ("39", "7", "Ok")


def test_a_set_that_says_all_the_older_one_did_replaces_it_without_a_merge(router: Router) -> None:
    """The usual stream (every member, same attributes, no limits) costs no parse per set:
    the cache keeps the definition as received and only the newest set."""
    owner = FakeDriver("owner")
    ready(router, owner)
    newer = SET_X_P.replace(">2<", ">3<")
    router.driver_frames(owner, frames(DEF_X_P + SET_X_P + newer))  # type: ignore[arg-type]
    assert router.cached("X", "P") == (frames(DEF_X_P)[0], frames(newer)[0])


def test_a_blob_sets_state_is_carried_by_the_replayed_definition(router: Router) -> None:
    """Found with KStars (scripts/check-kstars): after an exposure the CCD's own defBLOBVector
    says state Ok, and indiserver, which asks the driver, shows a reconnecting client Ok. The
    BLOB itself is never cached, but its state, timeout and timestamp must reach the replay;
    the replayed definition still carries no data."""
    owner = FakeDriver("owner")
    ready(router, owner)
    done = SET_X_B.replace('name="B">', 'name="B" state="Ok" timeout="5" timestamp="2024-01-02T03:04:05">')
    router.driver_frames(owner, frames(DEF_X_B + done))  # type: ignore[arg-type]
    replayed = client(router).got
    assert len(replayed) == 1
    merged = parse_element(replayed[0])
    assert isinstance(merged, DefBLOBVector)
    assert (merged.state, merged.timeout, merged.timestamp) == ("Ok", "5", "2024-01-02T03:04:05")
    assert b"AAAA" not in replayed[0] and b"oneBLOB" not in replayed[0]
    # a later set without a state keeps the state; a new definition starts afresh
    router.driver_frames(owner, frames(SET_X_B))  # type: ignore[arg-type]
    assert parse_element(client(router, "c2").got[0]).state == "Ok"  # type: ignore[union-attr]
    router.driver_frames(owner, frames(DEF_X_B))  # type: ignore[arg-type]
    assert client(router, "c3").got == [DEF_X_B.encode()]


def test_a_cut_through_blobs_state_is_carried_by_the_replayed_definition(router: Router) -> None:
    """The same for a BLOB forwarded while it is still arriving (only its head is routed)."""
    owner = FakeDriver("owner")
    ready(router, owner)
    router.driver_frames(owner, frames(DEF_X_B))  # type: ignore[arg-type]
    head = FrameHead("setBLOBVector", {"device": "X", "name": "B", "state": "Busy"}, b"<setBLOBVector")
    router.route_head(owner, head)  # type: ignore[arg-type]
    merged = parse_element(client(router).got[0])
    assert isinstance(merged, DefBLOBVector) and merged.state == "Busy"


def test_delproperty_clears_the_cache_and_reaches_snoopers(router: Router) -> None:
    owner, snooper = FakeDriver("owner"), FakeDriver("snooper")
    ready(router, owner, snooper)
    router.driver_frames(owner, frames(DEF_X_P + DEF_X_Q))  # type: ignore[arg-type]
    router.driver_frames(snooper, frames('<getProperties device="X"/>'))  # type: ignore[arg-type]
    snooper.got.clear()
    router.driver_frames(owner, frames('<delProperty device="X" name="P"/>'))  # type: ignore[arg-type]
    assert snooper.text() == '<delProperty device="X" name="P"/>'
    assert router.cached("X", "P") == (None, None)
    assert router.cached("X", "Q")[0] is not None
    late = client(router)
    assert late.text() == DEF_X_Q


def test_blobs_reach_a_snooping_driver_only_after_its_enableblob(router: Router) -> None:
    owner, snooper = FakeDriver("owner"), FakeDriver("snooper")
    ready(router, owner, snooper)
    router.driver_frames(owner, frames(DEF_X_B))  # type: ignore[arg-type]
    router.driver_frames(snooper, frames('<getProperties device="X"/>'))  # type: ignore[arg-type]
    snooper.got.clear()
    router.driver_frames(owner, frames(SET_X_B))  # type: ignore[arg-type]
    assert snooper.got == []
    router.driver_frames(snooper, frames('<enableBLOB device="X" name="B">Also</enableBLOB>'))  # type: ignore[arg-type]
    router.driver_frames(owner, frames(SET_X_B + SET_X_B2))  # type: ignore[arg-type]
    assert snooper.text() == SET_X_B
    assert owner.got == []  # enableBLOB not forwarded (and the snoop answered from the cache)


def test_a_blob_streams_past_a_snooper_that_never_enabled_blobs(router: Router) -> None:
    """A driver that snoops a camera but never enabled its BLOBs gets none of them, so the
    camera's BLOB is still routed from its head (cut through, and for an attached image
    not encoded when no client takes it); once the snooper enables BLOBs, the BLOB is
    assembled and routed whole, so that the snooper gets it."""
    owner, snooper = FakeDriver("owner"), FakeDriver("snooper")
    ready(router, owner, snooper)
    router.driver_frames(owner, frames(DEF_X_B))  # type: ignore[arg-type]
    router.driver_frames(snooper, frames('<getProperties device="X"/>'))  # type: ignore[arg-type]
    head = FrameHead("setBLOBVector", {"device": "X", "name": "B"}, b"<setBLOBVector")
    assert router.route_head(owner, head) == []  # type: ignore[arg-type]
    router.driver_frames(snooper, frames('<enableBLOB device="X" name="B">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert router.route_head(owner, head) is None  # type: ignore[arg-type]


def test_snoop_of_unknown_device_goes_to_remotes_and_starts_when_device_appears(router: Router) -> None:
    local, snooper, remote = FakeDriver("local"), FakeDriver("snooper"), FakeDriver("r", is_remote=True)
    ready(router, local, snooper, remote)
    router.driver_frames(snooper, frames('<getProperties device="X"/>'))  # type: ignore[arg-type]
    assert remote.got == [b'<getProperties device="X" version="1.7"/>\n']
    assert local.got == []
    router.driver_frames(remote, frames(DEF_X_P))  # type: ignore[arg-type]
    assert snooper.text() == DEF_X_P


def test_set_from_a_client_reaches_snooping_drivers_only(router: Router) -> None:
    snooper = FakeDriver("snooper")
    ready(router, snooper)
    router.driver_frames(snooper, frames('<getProperties device="X"/>'))  # type: ignore[arg-type]
    c, other = client(router, "down"), client(router, "other")
    snooper.got.clear()
    router.client_frames(c, frames(SET_X_P))  # type: ignore[arg-type]
    assert snooper.text() == SET_X_P
    assert other.got == []


def test_snoop_all_devices_gets_everything_but_its_own(router: Router) -> None:
    a, b = FakeDriver("a"), FakeDriver("b")
    ready(router, a, b)
    router.driver_frames(a, frames(DEF_X_P))  # type: ignore[arg-type]
    router.driver_frames(b, frames(DEF_Y_P + "<getProperties/>"))  # type: ignore[arg-type]
    assert b.text() == DEF_X_P
    router.driver_frames(a, frames(SET_X_P))  # type: ignore[arg-type]
    router.driver_frames(b, frames(SET_Y_P))  # type: ignore[arg-type]
    assert b.text() == DEF_X_P + SET_X_P


# -- pings --------------------------------------------------------------------------------


def test_client_ping_is_answered_on_that_client_only(router: Router) -> None:
    d = FakeDriver("d")
    ready(router, d)
    c, other = client(router, "c", None), client(router, "o")
    d.got.clear()
    router.client_frames(c, frames('<pingRequest uid="7"/>'))  # type: ignore[arg-type]
    assert c.got == [b'<pingReply uid="7"/>']
    assert other.got == [] and d.got == []


def test_driver_ping_after_blob_is_answered_after_the_blob_is_queued(router: Router) -> None:
    """indilib >= 1.9.7 drivers wait for this reply before the next BLOB (notes 2.7)."""
    log: list[str] = []
    d = FakeDriver("d", log=log)
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_B))  # type: ignore[arg-type]
    c = FakeClient("c", log)
    router.add_client(c)
    router.client_frames(c, frames('<enableBLOB device="X">Also</enableBLOB><getProperties/>'))  # type: ignore[arg-type]
    log.clear()
    router.driver_frames(d, frames(SET_X_B + '<pingRequest uid="SetBLOB/1"></pingRequest>'))  # type: ignore[arg-type]
    assert log == ["c:setBLOBVector", "d:b'<pingReply uid=\"SetB'"]
    assert d.got == [b'<pingReply uid="SetBLOB/1"></pingReply>']
    assert c.tags() == ["defBLOBVector", "setBLOBVector"]


# -- ownership ---------------------------------------------------------------------------


def test_duplicate_device_is_refused_and_clients_are_told(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = FakeDriver("first"), FakeDriver("second")
    ready(router, first, second)
    c = client(router)
    router.driver_frames(first, frames(DEF_X_P))  # type: ignore[arg-type]
    c.got.clear()
    with caplog.at_level(logging.ERROR):
        router.driver_frames(second, frames(DEF_X_Q + SET_X_Q))  # type: ignore[arg-type]
    assert len(c.got) == 1 and c.got[0].startswith(b"<message ")
    assert b"already provided by first" in c.got[0] and b'device=' not in c.got[0]
    assert "refused" in caplog.text
    assert router.owner("X") is first
    first.got.clear()
    second.got.clear()
    router.client_frames(c, frames(NEW_X_P))  # type: ignore[arg-type]
    assert first.text() == NEW_X_P and second.got == []


def test_chain_loop_traffic_for_a_local_device_is_not_circulated(router: Router) -> None:
    local, remote = FakeDriver("local"), FakeDriver("r", is_remote=True)
    ready(router, local, remote)
    c = client(router)
    router.driver_frames(local, frames(SET_X_P))  # type: ignore[arg-type]
    router.driver_frames(remote, frames(SET_X_P))  # type: ignore[arg-type]
    assert c.tags() == ["setNumberVector", "message"]


def test_lost_driver_deletes_its_devices_and_frees_the_names(router: Router) -> None:
    d, d2 = FakeDriver("d"), FakeDriver("d2")
    ready(router, d, d2)
    c = client(router)
    router.driver_frames(d, frames(DEF_X_P + DEF_Y_P))  # type: ignore[arg-type]
    c.got.clear()
    router.driver_lost(d)  # type: ignore[arg-type]
    assert c.tags() == ["delProperty", "delProperty"]
    assert b'device="X"' in c.got[0] and b'device="Y"' in c.got[1]
    assert router.cached("X", "P") == (None, None) and router.owner("X") is None
    router.driver_frames(d2, frames(DEF_X_P))  # type: ignore[arg-type]
    assert router.owner("X") is d2


def test_send_message_reaches_all_clients_with_escaped_text(router: Router) -> None:
    c1, c2 = client(router, "c1", None), client(router, "c2")
    router.send_message('a <b> & "c"', timestamp="2024-01-01T00:00:00")
    expected = '<message timestamp="2024-01-01T00:00:00" message="a &lt;b&gt; &amp; &quot;c&quot;"/>\n'
    assert c1.text() == c2.text() == expected


# -- loop guard: rules, not a repeat filter ---------------------------------------------------

REMOTE_DEF_Y = DEF_Y_P


def test_newxxx_echo_from_a_remote_for_a_device_it_does_not_own_is_dropped(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """A chained server echoes our own newXXX back to us in a loop: it must stop here."""
    local, remote = FakeDriver("local"), FakeDriver("r", is_remote=True)
    ready(router, local, remote)
    router.driver_frames(local, frames(DEF_X_P))  # type: ignore[arg-type]
    router.driver_frames(remote, frames(DEF_Y_P))  # type: ignore[arg-type]
    c = client(router)
    c.got.clear()
    with caplog.at_level(logging.DEBUG, logger="indipyserver.router"):
        router.driver_frames(remote, frames(NEW_X_P))  # type: ignore[arg-type]
    assert c.got == [] and local.got == []
    assert "not its device" in caplog.text
    # ...while an echo about the remote's own device still reaches our clients (notes 1.5.3).
    new_y = NEW_X_P.replace('device="X"', 'device="Y"')
    router.driver_frames(remote, frames(new_y))  # type: ignore[arg-type]
    assert c.text() == new_y


def test_a_refused_device_stays_refused_for_that_source_after_the_owner_is_lost(router: Router) -> None:
    """An in-flight copy coming round a loop must not claim a device whose owner just died."""
    owner, remote = FakeDriver("owner"), FakeDriver("r", is_remote=True)
    ready(router, owner, remote)
    c = client(router)
    router.driver_frames(owner, frames(DEF_X_P))  # type: ignore[arg-type]
    router.driver_frames(remote, frames(DEF_X_P))  # type: ignore[arg-type]  # refused
    router.driver_lost(owner)  # type: ignore[arg-type]
    c.got.clear()
    router.driver_frames(remote, frames(SET_X_P + DEF_X_P))  # type: ignore[arg-type]
    assert c.got == [] and router.owner("X") is None
    router.driver_ready(owner)  # type: ignore[arg-type]
    router.driver_frames(owner, frames(DEF_X_P))  # type: ignore[arg-type]
    assert router.owner("X") is owner
    # A new session of the refused source starts with a clean slate.
    router.driver_lost(owner)  # type: ignore[arg-type]
    router.driver_ready(remote)  # type: ignore[arg-type]
    router.driver_frames(remote, frames(DEF_X_P))  # type: ignore[arg-type]
    assert router.owner("X") is remote


def test_devicewide_delproperty_frees_the_name_and_never_claims_it(router: Router) -> None:
    a, b = FakeDriver("a"), FakeDriver("b")
    ready(router, a, b)
    c = client(router)
    router.driver_frames(b, frames('<delProperty device="X"/>'))  # type: ignore[arg-type]
    assert router.owner("X") is None and c.got == []
    router.driver_frames(a, frames(DEF_X_P + '<delProperty device="X"/>'))  # type: ignore[arg-type]
    assert router.owner("X") is None
    router.driver_frames(b, frames(DEF_X_P))  # type: ignore[arg-type]
    assert router.owner("X") is b


def test_devicefree_message_from_a_remote_is_not_passed_up_to_chained_servers(router: Router) -> None:
    """Nothing ties it to an owner, so up a loop it would come back for ever."""
    remote, local = FakeDriver("r", is_remote=True), FakeDriver("local")
    ready(router, remote, local)
    user, up = client(router, "user"), client(router, "up", '<getProperties device="*"/>')
    router.driver_frames(remote, frames('<message message="from below"/>'))  # type: ignore[arg-type]
    assert user.text() == '<message message="from below"/>' and up.got == []
    router.driver_frames(local, frames('<message message="ours"/>'))  # type: ignore[arg-type]
    assert up.text() == '<message message="ours"/>'


def test_enableblob_reaches_only_the_owning_remote_as_also_or_never(router: Router) -> None:
    """A remote gets enableBLOB only for its own devices; Only is never passed on (it would
    starve the cache of sets), a device-less one is expanded per device, repeats are not sent."""
    r1, r2, local = FakeDriver("r1", is_remote=True), FakeDriver("r2", is_remote=True), FakeDriver("l")
    ready(router, r1, r2, local)
    router.driver_frames(r1, frames(DEF_X_B))  # type: ignore[arg-type]
    router.driver_frames(r2, frames(DEF_Y_P + blob_def("Y", "B")))  # type: ignore[arg-type]
    router.driver_frames(local, frames(blob_def("Z", "B")))  # type: ignore[arg-type]
    blob_only, other = client(router, "blobs"), client(router, "other")
    router.client_frames(blob_only, frames('<enableBLOB device="X">Only</enableBLOB>'))  # type: ignore[arg-type]
    assert r1.text() == enable("X", "B", "Also") and r2.got == [] and local.got == []
    r1.got.clear()
    router.client_frames(other, frames("<enableBLOB>Also</enableBLOB>"))  # type: ignore[arg-type]
    assert r1.got == []  # X's B already Also
    assert r2.text() == enable("Y", "B", "Also")
    r2.got.clear()
    router.client_frames(other, frames("<enableBLOB>Never</enableBLOB>"))  # type: ignore[arg-type]
    assert r1.got == []  # blob_only still wants X's BLOBs
    assert r2.text() == enable("Y", "B", "Never")
    assert local.got == []


def test_a_remote_is_told_never_once_the_last_client_wanting_its_blobs_is_gone(router: Router) -> None:
    """BLOBs cross a chain only while someone here wants them: when the clients that asked
    disconnect, each property told Also is told Never, not left sending."""
    r = FakeDriver("r", is_remote=True)
    ready(router, r)
    router.driver_frames(r, frames(blob_def("X", "B", "B2")))  # type: ignore[arg-type]
    a, b, c = client(router, "a"), client(router, "b"), client(router, "c")
    router.client_frames(a, frames('<enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
    router.client_frames(b, frames('<enableBLOB device="X">Only</enableBLOB>'))  # type: ignore[arg-type]
    router.client_frames(c, frames('<enableBLOB device="X" name="B">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Also") + enable("X", "B2", "Also")
    r.got.clear()
    router.client_lost(a)  # type: ignore[arg-type]
    assert r.got == []  # b (Only) still wants all of X's BLOBs
    router.client_lost(b)  # type: ignore[arg-type]
    assert r.text() == enable("X", "B2", "Never")  # c still wants property B's
    r.got.clear()
    router.client_lost(c)  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Never")
    r.got.clear()
    router.client_lost(client(router, "d"))  # type: ignore[arg-type]
    assert r.got == []  # nothing left to lower: nothing re-sent


def test_a_remote_is_told_never_when_the_driver_snooping_its_blobs_is_gone(router: Router) -> None:
    """A local driver that snooped a remote camera's BLOBs dies: the remote stops sending them."""
    r, snooper = FakeDriver("r", is_remote=True), FakeDriver("s")
    ready(router, r, snooper)
    router.driver_frames(r, frames(DEF_X_B))  # type: ignore[arg-type]
    router.driver_frames(snooper, frames('<getProperties device="X"/><enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert r.text().endswith(enable("X", "B", "Also"))
    r.got.clear()
    router.driver_lost(snooper)  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Never")


def test_unknown_device_is_asked_of_each_remote_once_and_never_of_its_source(router: Router) -> None:
    r1, r2 = FakeDriver("r1", is_remote=True), FakeDriver("r2", is_remote=True)
    ready(router, r1, r2)
    c = client(router, "c", '<getProperties device="Q"/><getProperties device="Q"/>')
    assert r1.got == r2.got == [b'<getProperties device="Q" version="1.7"/>\n']
    r1.got.clear()
    r2.got.clear()
    # r1's own driver snoops W (passed up to us): asked of r2 only.
    router.driver_frames(r1, frames('<getProperties device="W"/>'))  # type: ignore[arg-type]
    assert r1.got == [] and r2.got == [b'<getProperties device="W" version="1.7"/>\n']
    assert c.got == []


def test_pinned_remote_is_preregistered_and_asked_for_its_device_only(router: Router) -> None:
    """dev@host: indiserver pre-registers dev and sends getProperties device='dev' (notes 2.2)."""
    r = FakeDriver("r", is_remote=True)
    r.device = "X"  # type: ignore[attr-defined]
    router.driver_ready(r)  # type: ignore[arg-type]
    assert r.got == [b'<getProperties device="X" version="1.7"/>\n']
    assert router.owner("X") is r
    r.got.clear()
    c = client(router, "c", '<getProperties device="X"/>')
    assert r.got == [b'<getProperties device="X" version="1.7"/>\n']  # routed before any def
    client(router, "c2", '<getProperties device="Other"/>')
    assert len(r.got) == 1  # a pinned remote is never asked for other devices
    router.driver_frames(r, frames(DEF_X_P))  # type: ignore[arg-type]
    assert c.text() == DEF_X_P


def test_pinned_remote_for_a_device_already_owned_is_refused(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    local, r = FakeDriver("local"), FakeDriver("r", is_remote=True)
    r.device = "X"  # type: ignore[attr-defined]
    ready(router, local)
    router.driver_frames(local, frames(DEF_X_P))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        router.driver_ready(r)  # type: ignore[arg-type]
    assert "refused" in caplog.text and router.owner("X") is local


class Wire:
    """Two routers joined like two servers: deliveries queued, so a loop shows as a count."""

    def __init__(self) -> None:
        self.queue: list[tuple[object, ...]] = []
        self.delivered = 0

    def pump(self, limit: int = 20000) -> int:
        """Deliver until nothing moves (or `limit`, which means traffic circulates)."""
        count = 0
        while self.queue and count < limit:
            target, method, conn, frs = self.queue.pop(0)
            getattr(target, method)(conn, frs)
            count += 1
        self.delivered += count
        return count


class LinkRemote(FakeDriver):
    """Server X's remote connection to server Y: what X sends, Y reads from a client."""

    def __init__(self, wire: Wire, label: str) -> None:
        super().__init__(label, is_remote=True)
        self.wire = wire
        self.peer: Router | None = None
        self.peer_client: LinkClient | None = None

    def send(self, data: bytes) -> None:
        super().send(data)
        self.wire.queue.append((self.peer, "client_frames", self.peer_client, frames(data.decode())))


class LinkClient(FakeClient):
    """That connection seen from server Y: what Y sends it, X reads from its remote."""

    def __init__(self, wire: Wire, label: str, router: Router, remote: LinkRemote) -> None:
        super().__init__(label)
        self.wire, self.router, self.remote = wire, router, remote

    def send_frame(self, frame: Frame) -> None:
        super().send_frame(frame)
        self.wire.queue.append((self.router, "driver_frames", self.remote, [frame]))


def connect(wire: Wire, lower: Router, upper: Router, label: str) -> LinkRemote:
    """`upper` takes `lower` as a remote (upper's RemoteConnection is lower's client)."""
    remote = LinkRemote(wire, label)
    peer_client = LinkClient(wire, label, upper, remote)
    remote.peer, remote.peer_client = lower, peer_client
    lower.add_client(peer_client)
    upper.driver_ready(remote)  # type: ignore[arg-type]
    return remote


def test_two_routers_that_are_each_others_remote_go_quiet_after_every_kind_of_request() -> None:
    """The loop of two servers that circulated ~46,000 elements in 3 s: every request and echo
    now stops after a bounded number of hops, by ownership and once-per-connection rules."""
    wire = Wire()
    a, b = Router(), Router()
    thermo, dome = FakeDriver("thermo"), FakeDriver("dome")
    a.driver_ready(thermo)  # type: ignore[arg-type]
    b.driver_ready(dome)  # type: ignore[arg-type]
    a_to_b = connect(wire, b, a, "A->B")
    b_to_a = connect(wire, a, b, "B->A")
    assert wire.pump() < 50
    a.driver_frames(thermo, frames(DEF_Y_P))  # type: ignore[arg-type]
    b.driver_frames(dome, frames(DEF_X_P + DEF_X_B))  # type: ignore[arg-type]
    assert wire.pump() < 50
    assert a.owner("X") is a_to_b and b.owner("X") is dome
    assert b.owner("Y") is b_to_a and a.owner("Y") is thermo

    user = client(a, "user")
    assert any(b'defNumberVector device="X"' in g for g in user.got)  # B's device, through the chain
    dome.got.clear()
    thermo.got.clear()
    steps = [
        (a, NEW_X_P),  # a newXXX for the remote's device, echoed to B's and back
        (a, NEW_X_P.replace('device="X"', 'device="Y"')),  # for our own device
        (a, "<getProperties/>"),
        (a, '<getProperties device="*" version="1.7"/>'),
        (a, '<getProperties device="Nowhere"/>'),
        (a, "<enableBLOB>Also</enableBLOB>"),
        (a, '<enableBLOB device="X">Only</enableBLOB>'),
    ]
    for router, xml in steps:
        router.client_frames(user, frames(xml))
        moved = wire.pump()
        assert moved < 50, f"{moved} deliveries after {xml}: traffic circulates"
    # Drivers' own traffic: a snoop of an unknown device, device-less and device messages.
    for router, driver, xml in [
        (a, thermo, '<getProperties device="Ghost"/>'),
        (a, thermo, '<message message="site wide"/>'),
        (b, dome, '<message device="X" message="dome says"/>'),
        (b, dome, SET_X_P),
    ]:
        router.driver_frames(driver, frames(xml))
        moved = wire.pump()
        assert moved < 50, f"{moved} deliveries after {xml}: traffic circulates"
    # The real work still happens exactly once.
    assert dome.got.count(NEW_X_P.encode()) == 1
    assert thermo.got.count(NEW_X_P.replace('device="X"', 'device="Y"').encode()) == 1
    # Ownership held on both sides throughout.
    assert a.owner("X") is a_to_b and b.owner("X") is dome
    assert b.owner("Y") is b_to_a and a.owner("Y") is thermo


def test_a_property_never_after_device_also_is_passed_to_the_remote(router: Router) -> None:
    """A client's Never for one property after its Also for the whole device: that property
    alone is lowered at the remote."""
    r = FakeDriver("r", is_remote=True)
    ready(router, r)
    router.driver_frames(r, frames(blob_def("X", "B", "B2")))  # type: ignore[arg-type]
    c = client(router)
    router.client_frames(c, frames('<enableBLOB device="X">Also</enableBLOB>'  # type: ignore[arg-type]
                                   '<enableBLOB device="X" name="B">Never</enableBLOB>'))
    assert r.text() == enable("X", "B", "Also") + enable("X", "B2", "Also") + enable("X", "B", "Never")


def test_blob_modes_asked_before_a_remote_device_appears_reach_it_as_asked(router: Router) -> None:
    """A client's enableBLOB for a remote device not yet known is passed on as the device's BLOB
    properties are defined, as scoped as the client asked: one property's Also stays one
    property's, and a device-wide Also with one property Never asks for the others only."""
    r = FakeDriver("r", is_remote=True)
    ready(router, r)
    c = client(router)
    router.client_frames(c, frames('<enableBLOB device="X" name="B">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert r.got == []  # X unknown yet: nothing to tell
    router.driver_frames(r, frames(blob_def("X", "B", "B2")))  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Also")
    r.got.clear()
    router.client_lost(c)  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Never")

    d = client(router, "d")
    router.client_frames(d, frames('<enableBLOB device="Y">Also</enableBLOB>'  # type: ignore[arg-type]
                                   '<enableBLOB device="Y" name="B">Never</enableBLOB>'))
    r.got.clear()
    router.driver_frames(r, frames(blob_def("Y", "B", "B2")))  # type: ignore[arg-type]
    assert r.text() == enable("Y", "B2", "Also")


def remote_with(router: Router, defs: str, label: str = "r") -> FakeDriver:
    """A remote server connection that has sent `defs`; what it was sent is cleared."""
    r = FakeDriver(label, is_remote=True)
    ready(router, r)
    router.driver_frames(r, frames(defs))  # type: ignore[arg-type]
    r.got.clear()
    return r


def test_a_device_wide_also_asks_the_remote_per_property_for_each_blob_it_defined(router: Router) -> None:
    """indiserver (1.9.9) applies an enableBLOB without a property name to every device of the
    connection (tests/interop/test_remote_blob_modes.py), so a remote is never told one: a client
    asking for a device's BLOBs (or every device's) gives one Also per BLOB property that device
    defined, none for its other properties, none for other devices' unless asked for."""
    r = remote_with(router, DEF_X_P + blob_def("X", "B", "B2") + blob_def("Y", "B"))
    c = client(router)
    router.client_frames(c, frames('<enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Also") + enable("X", "B2", "Also")
    r.got.clear()
    router.client_frames(c, frames("<enableBLOB>Also</enableBLOB>"))  # type: ignore[arg-type]
    assert r.text() == enable("Y", "B", "Also")  # X's already are
    r.got.clear()
    router.client_frames(c, frames('<enableBLOB device="Y">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert r.got == []  # only changes are sent
    router.client_frames(c, frames('<enableBLOB name="B">Never</enableBLOB>'))  # type: ignore[arg-type]
    assert r.text() == (enable("X", "B", "Never") + enable("X", "B2", "Never")
                        + enable("Y", "B", "Never"))  # no device: the client's default, all
    assert "<enableBLOB device=\"X\">" not in r.text()


def test_a_wanted_devices_new_blob_property_is_asked_for_as_its_def_arrives(router: Router) -> None:
    """The Also goes while the def is handled, so before the remote can send that BLOB; for a
    device asked for by name and for one asked for with every device alike."""
    log: list[str] = []
    r = FakeDriver("r", is_remote=True, log=log)
    ready(router, r)
    router.driver_frames(r, frames(DEF_X_P))  # type: ignore[arg-type]
    named, everything = client(router, "named"), client(router, "all")
    named.log = everything.log = log
    router.client_frames(named, frames('<enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
    router.client_frames(everything, frames("<enableBLOB>Also</enableBLOB>"))  # type: ignore[arg-type]
    assert r.got == []  # no BLOB property defined yet: nothing to ask for
    log.clear()
    router.driver_frames(r, frames(DEF_X_B + SET_X_B))  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Also")
    assert log[0].startswith("r:b'<enableBLOB") and "named:setBLOBVector" in log
    r.got.clear()
    router.driver_frames(r, frames(blob_def("Z", "C")))  # type: ignore[arg-type]
    assert r.text() == enable("Z", "C", "Also")  # wanted by the client asking for every device
    r.got.clear()
    router.driver_frames(r, frames(DEF_X_B))  # type: ignore[arg-type]
    assert r.got == []  # defined again: the remote still holds Also


def test_the_last_client_gone_lowers_each_property_and_nothing_device_wide(router: Router) -> None:
    r = remote_with(router, blob_def("X", "B", "B2") + blob_def("Y", "B"))
    a, b = client(router, "a"), client(router, "b")
    router.client_frames(a, frames('<enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
    router.client_frames(b, frames("<enableBLOB>Also</enableBLOB>"))  # type: ignore[arg-type]
    r.got.clear()
    router.client_lost(a)  # type: ignore[arg-type]
    assert r.got == []  # b wants every device's BLOBs
    router.client_lost(b)  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Never") + enable("X", "B2", "Never") + enable("Y", "B", "Never")


def test_two_clients_wanting_different_cameras_one_leaves_only_its_camera_is_lowered(router: Router) -> None:
    """The bandwidth fix: the Never for the camera nobody wants any more names its properties,
    so indiserver stops sending them while the other camera's properties are not touched
    (a device-wide Never followed by Alsos again used to leave indiserver sending both)."""
    r = remote_with(router, blob_def("Cam1", "IMG", "GUIDE") + blob_def("Cam2", "IMG"))
    wants1, wants2 = client(router, "1"), client(router, "2")
    router.client_frames(wants1, frames('<enableBLOB device="Cam1">Also</enableBLOB>'))  # type: ignore[arg-type]
    router.client_frames(wants2, frames('<enableBLOB device="Cam2">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert r.text() == (enable("Cam1", "GUIDE", "Also") + enable("Cam1", "IMG", "Also")
                        + enable("Cam2", "IMG", "Also"))
    r.got.clear()
    router.client_lost(wants1)  # type: ignore[arg-type]
    assert r.text() == enable("Cam1", "GUIDE", "Never") + enable("Cam1", "IMG", "Never")
    r.got.clear()
    router.driver_frames(r, frames(SET_X_B.replace('"X"', '"Cam2"').replace('"B"', '"IMG"')))  # type: ignore[arg-type]
    assert wants2.tags()[-1] == "setBLOBVector"
    router.client_lost(wants2)  # type: ignore[arg-type]
    assert r.text() == enable("Cam2", "IMG", "Never")


def test_a_deleted_blob_property_is_forgotten_but_an_also_it_holds_is_still_lowered(router: Router) -> None:
    """delProperty: the property is no longer asked for; but indiserver keeps a connection's
    per-property mode across a driver's delProperty (a CCD driver deletes its image property on
    disconnect, defines it again on connect), so an Also the remote holds is still lowered once
    nobody wants it, then forgotten. Defined again while wanted: asked for again only if lowered."""
    r = remote_with(router, blob_def("X", "B", "B2") + blob_def("Y", "B"))
    c = client(router)
    router.client_frames(c, frames('<enableBLOB device="Y">Also</enableBLOB>'))  # type: ignore[arg-type]
    router.driver_frames(r, frames('<delProperty device="X" name="B"/><delProperty device="Y"/>'))  # type: ignore[arg-type]
    r.got.clear()
    router.client_frames(c, frames('<enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert r.text() == enable("X", "B2", "Also")  # not B: deleted before it was wanted
    r.got.clear()
    router.client_frames(c, frames("<enableBLOB>Never</enableBLOB>"))  # type: ignore[arg-type]
    assert r.text() == enable("X", "B2", "Never") + enable("Y", "B", "Never")  # Y's Also was held
    r.got.clear()
    router.client_frames(c, frames('<enableBLOB device="Y">Also</enableBLOB>'))  # type: ignore[arg-type]
    router.client_lost(c)  # type: ignore[arg-type]
    assert r.got == []  # Y's B forgotten once lowered
    d = client(router, "d")
    router.client_frames(d, frames('<enableBLOB device="Y">Also</enableBLOB>'))  # type: ignore[arg-type]
    router.driver_frames(r, frames(blob_def("Y", "B")))  # type: ignore[arg-type]
    assert r.text() == enable("Y", "B", "Also")  # defined again, wanted: asked for again


def test_a_snooping_driver_wanting_a_remotes_blobs_asks_for_them_per_property(router: Router) -> None:
    """A local driver snooping a remote camera: its enableBLOB (for one property, or the device)
    is what it wants, even before the camera's def comes; the Alsos go when it dies."""
    r = FakeDriver("r", is_remote=True)
    one, whole = FakeDriver("one"), FakeDriver("whole")
    ready(router, r, one, whole)
    router.driver_frames(one, frames('<getProperties device="X"/><enableBLOB device="X" name="B">Also</enableBLOB>'))  # type: ignore[arg-type]
    r.got.clear()
    router.driver_frames(r, frames(blob_def("X", "B", "B2")))  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Also")
    r.got.clear()
    router.driver_frames(whole, frames('<getProperties device="X"/><enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert r.text().endswith(enable("X", "B2", "Also")) and "B\">Also" not in r.text()
    r.got.clear()
    router.driver_lost(whole)  # type: ignore[arg-type]
    assert r.text() == enable("X", "B2", "Never")
    r.got.clear()
    router.driver_lost(one)  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Never")


def test_a_reconnected_remote_is_asked_again_as_its_defs_arrive(router: Router) -> None:
    r = remote_with(router, blob_def("X", "B"))
    c = client(router)
    router.client_frames(c, frames('<enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Also")
    router.driver_lost(r)  # type: ignore[arg-type]
    router.driver_ready(r)  # type: ignore[arg-type]
    r.got.clear()
    router.client_lost(client(router, "other"))  # type: ignore[arg-type]
    assert r.got == []  # a new session: nothing told, nothing to lower
    router.driver_frames(r, frames(blob_def("X", "B")))  # type: ignore[arg-type]
    assert r.text() == enable("X", "B", "Also")


def test_a_remote_with_blob_enable_is_told_nothing_here(router: Router) -> None:
    """blob_enable (--remote-blobs): the connection asks for every BLOB itself, device-wide."""
    r = FakeDriver("r", is_remote=True)
    r.blob_enable = True  # type: ignore[attr-defined]
    ready(router, r)
    router.driver_frames(r, frames(blob_def("X", "B")))  # type: ignore[arg-type]
    c = client(router)
    router.client_frames(c, frames('<enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
    router.client_lost(c)  # type: ignore[arg-type]
    assert r.got == []


def test_a_client_naming_endless_devices_is_widened_to_all_not_grown_without_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Memory stays bounded whatever a client names: past MAX_NAMED_ENTRIES its interest becomes
    'all devices' (it gets more, never less) with one warning; repeats of one name never count."""
    from indipyserver.routing.interests import MAX_NAMED_ENTRIES
    from indipyserver.routing.interests import ClientState

    class Sink:
        label = "client 1"

        def send_frame(self, frame: object) -> None:
            pass

    state = ClientState(Sink())  # type: ignore[arg-type]
    for _ in range(3 * MAX_NAMED_ENTRIES):
        state.add_interest("Scope", "COORD", False)  # one real interest, repeated
    assert not state.all_devices and state.interested("Scope", "COORD")
    assert not state.interested("Other", None)
    with caplog.at_level("WARNING", logger="indipyserver.router"):
        for i in range(MAX_NAMED_ENTRIES + 100):
            state.add_interest(f"bogus{i}", None, False)
    assert state.all_devices and state.interested("Other", None)
    assert len(state.interests) <= MAX_NAMED_ENTRIES
    assert sum("now gets all devices" in r.message for r in caplog.records) == 1


def test_named_blob_modes_are_capped_per_connection(caplog: pytest.LogCaptureFixture) -> None:
    """enableBLOB naming ever new properties is ignored past the cap (logged); known ones still change."""
    from indipycore.protocol import BLOBEnable
    from indipyserver.routing.interests import MAX_NAMED_ENTRIES
    from indipyserver.routing.interests import BlobModes

    modes = BlobModes()
    with caplog.at_level("WARNING", logger="indipyserver.router"):
        for i in range(MAX_NAMED_ENTRIES + 50):
            modes.set("Cam", f"P{i}", BLOBEnable.ALSO)
    assert len(modes.props) == MAX_NAMED_ENTRIES
    assert any("ignored" in r.message for r in caplog.records)
    modes.set("Cam", "P0", BLOBEnable.NEVER)  # an existing entry may still change
    assert modes.mode("Cam", "P0") is BLOBEnable.NEVER


# -- video stream frames (indiserver -d) ---------------------------------------------------

SET_X_STREAM = SET_X_B.replace('format=".raw"', 'format=".stream_jpg"')


def test_a_stream_frame_is_not_given_to_a_client_too_far_behind() -> None:
    """As indiserver's -d: a client with more than stream_drop_bytes queued gets no video
    stream frames (format containing 'stream'), while one that keeps up gets every frame;
    other BLOBs (exposures) still reach both. 0 drops none."""
    for limit in (1000, 0):
        router = Router(stream_drop_bytes=limit)
        d = FakeDriver("d")
        ready(router, d)
        router.driver_frames(d, frames(DEF_X_B))  # type: ignore[arg-type]
        behind, keeping_up = client(router, "behind"), client(router, "up")
        for c in (behind, keeping_up):
            router.client_frames(c, frames('<enableBLOB device="X">Also</enableBLOB>'))  # type: ignore[arg-type]
            c.got.clear()
        behind.queued_bytes = 5000  # type: ignore[attr-defined]
        keeping_up.queued_bytes = 0  # type: ignore[attr-defined]
        router.driver_frames(d, frames(SET_X_STREAM + SET_X_B))  # type: ignore[arg-type]
        assert keeping_up.tags() == ["setBLOBVector", "setBLOBVector"]
        if limit:
            assert behind.got == [SET_X_B.encode()]  # the exposure, not the stream frame
        else:
            assert behind.tags() == ["setBLOBVector", "setBLOBVector"]
        # Cut through (a frame still arriving): the same choice from its head.
        head = FrameHead("setBLOBVector", {"device": "X", "name": "B"}, SET_X_STREAM.encode()[:90])
        routed = router.route_head(d, head)  # type: ignore[arg-type]
        assert routed == ([keeping_up] if limit else [behind, keeping_up])


def test_a_flood_of_bad_enableblobs_gives_a_bounded_number_of_short_warnings(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """100,000 bad enableBLOBs gave 100,000 warning lines in a chaos run: now a burst of
    them, each cut short, and the count of those left out comes with the next one."""
    c = client(router)
    bad = frames('<enableBLOB device="' + "X" * 5000 + '">Sometimes</enableBLOB>')
    with caplog.at_level(logging.WARNING, logger="indipyserver.router"):
        for _ in range(1000):
            router.client_frames(c, bad)  # type: ignore[arg-type]
    lines = [r.getMessage() for r in caplog.records if "bad enableBLOB" in r.getMessage()]
    assert 1 <= len(lines) <= 20
    assert max(len(line) for line in lines) < 400


def test_getproperties_for_a_device_nothing_serves_is_logged_with_the_devices_there(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """indiserver drops it without a word; an indi_getprop with a typo in the device name then
    looks like a server that never answers. With a remote to ask, the remote may serve it:
    nothing is logged above debug."""
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P + DEF_Y_P))  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="indipyserver.router"):
        c = client(router, "c", '<getProperties version="1.7" device="Nope"/>')
    assert c.got == [] and d.got == []
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert lines == ["client c asked for device 'Nope', which nothing here serves (devices: "
                     "'X', 'Y'): it gets the device if it appears"]
    caplog.clear()
    r = FakeDriver("r", is_remote=True)
    ready(router, r)
    with caplog.at_level(logging.INFO, logger="indipyserver.router"):
        client(router, "c2", '<getProperties version="1.7" device="Nope"/>')
    assert r.got == [b'<getProperties device="Nope" version="1.7"/>\n']
    assert not [rec for rec in caplog.records if rec.levelno >= logging.INFO]
