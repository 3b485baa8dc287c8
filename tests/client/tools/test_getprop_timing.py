"""indipy-getprop's end-of-answer rule and early request, which make its whole run short.

indi_getprop parses bytes as they come, so its ``-t`` quiet period runs from the arrival of the
last matching definition. Ours loads the protocol core after sending its request and parses in
chunks, so it counts from when the bytes arrived (the kernel's receive timestamp on Linux), not
from when Python got round to them. The request it sends before loading the core must be the
bytes the core's serialiser writes.
"""

from __future__ import annotations

import fcntl
import select
import socket
import struct
import termios
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from waiting import wait_for

from indipyclient.frontends.tools.blockingconnection import _KERNEL_TIMESTAMPS
from indipyclient.frontends.tools.blockingconnection import _SO_TIMESTAMPNS
from indipyclient.frontends.tools.blockingconnection import _TIMESPEC
from indipyclient.frontends.tools.blockingconnection import Connection
from indipyclient.frontends.tools.getprop import early_request
from indipyclient.frontends.tools.getpropquery import GetpropQuery
from indipyclient.frontends.tools.specs import SpecError
from indipyclient.frontends.tools.specs import parse_get_spec
from indipycore.protocol import serialise

DEF = (b'<defNumberVector device="D" name="P" state="Ok" perm="ro">'
       b'<defNumber name="A" format="%g" min="0" max="0" step="0">1</defNumber>'
       b"</defNumberVector>\n")


@pytest.mark.parametrize("specs", [
    ["*.*.*"], ["Telescope Simulator.EQUATORIAL_EOD_COORD.RA"], ["A.x.y", "B.x.y"],
    ["A.x.y", "A.*.*"], ["*.x.y", "A.x.y"],
])
def test_the_early_request_is_what_the_core_would_send(specs: list[str]) -> None:
    """Sent before the protocol core loads, it must equal ``serialise(get_properties())``."""
    parsed = [parse_get_spec(text) for text in specs]
    assert early_request(parsed) == serialise(GetpropQuery(parsed).get_properties())


@given(st.text(min_size=1, max_size=20).filter(lambda s: "." not in s and "*" not in s))
def test_any_device_name_is_sent_as_the_core_writes_it_or_left_to_it(device: str) -> None:
    """A name needing escaping is not sent early (None); any other is the core's exact bytes."""
    try:
        parsed = [parse_get_spec(f"{device}.P.E")]
    except SpecError:
        return
    early = early_request(parsed)
    if early is not None:
        assert early == serialise(GetpropQuery(parsed).get_properties())
    else:
        assert any(c in device for c in "&<>\"'") or not device.isprintable()


def _unread(sock: socket.socket) -> int:
    """Bytes waiting in ``sock``'s receive queue, not yet read (SIOCINQ)."""
    return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0])


def _stamped_on_arrival(sender: socket.socket, stamped: socket.socket) -> bool:
    """Send a byte and read it once it is there: True when the kernel dated it no later than
    it was seen to be readable (stamped on arrival), False when dated at the read."""
    sender.send(b"x")
    select.select([stamped], [], [], 5)
    seen = time.time_ns()
    _data, ancillary, _flags, _address = stamped.recvmsg(1, socket.CMSG_SPACE(_TIMESPEC.size))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESPEC.unpack(payload[: _TIMESPEC.size])
            return bool(seconds * 1_000_000_000 + nanoseconds <= seen)
    return False


@pytest.fixture
def stamping() -> Iterator[None]:
    """Linux stamps packets only while some socket asks for it, and turns that on a moment after
    the first one does: a socket asking from the start keeps it on for the test, once a byte it
    receives is seen dated on arrival (the tool itself uses recv's return time for bytes that
    came unstamped, which is never too early, but is the time of reading, not of arrival)."""
    if not _KERNEL_TIMESTAMPS:
        yield
        return
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sender = socket.create_connection(listener.getsockname())
        keeper, _ = listener.accept()
        with sender, keeper:
            keeper.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            wait_for(lambda: _stamped_on_arrival(sender, keeper), what="packets stamped on arrival")
            yield


def test_arrival_time_is_when_the_bytes_came_not_when_they_were_read(stamping: None) -> None:
    """A definition read after it was seen waiting in the socket reports its arrival (Linux),
    not the later read; never a time before it was sent."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        conn = Connection.open("127.0.0.1", port)
        server, _ = listener.accept()
        with server:
            sent = time.monotonic()
            server.sendall(DEF)
            wait_for(lambda: _unread(conn.sock) == len(DEF), what="the definition, unread")
            seen = time.monotonic()  # it had arrived by now; the tool reads only after
            event = conn.next_event(time.monotonic() + 5)
            read = time.monotonic()
            conn.close()
    assert event is not None
    assert sent - 0.01 <= conn.arrived <= read  # 0.01: the stamp's conversion to monotonic
    if _KERNEL_TIMESTAMPS:
        assert conn.arrived <= seen


def test_what_the_socket_holds_is_read_before_any_of_it_is_parsed() -> None:
    """The first read takes everything the socket holds already (each read keeping its own
    arrival time): a server's long answer is never held up by a full receive buffer while the
    tool parses, which would push back the arrival that starts the quiet period."""
    ours, server = socket.socketpair()
    try:
        connection = Connection(ours, "test")
        answer = DEF * 5000  # about 1 MB: more than one read
        server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
        server.setblocking(False)
        sent = 0
        while sent < len(answer):
            try:
                sent += server.send(answer[sent:sent + 65536])
            except BlockingIOError:
                break
        assert connection.next_event(time.monotonic() + 5) is not None
        ours.setblocking(False)
        with pytest.raises(BlockingIOError):  # nothing left unread in the socket
            ours.recv(1)
        count = 1
        while not connection.idle():  # the rest, parsed from what was read already
            assert connection.next_event(None) is not None
            count += 1
        assert sent > 300_000 and count == sent // len(DEF)
    finally:
        ours.close()
        server.close()


def test_a_thousand_vector_answer_arrives_whole_while_the_tool_is_not_reading(
        stamping: None) -> None:
    """The tool asks for a receive buffer before connecting (`RECEIVE_BUFFER`), so a server can
    send a 1000-vector getProperties answer (about 350 KB) whole while the tool loads the
    protocol core: its last bytes arrive at once, not when the tool gets round to reading. With
    the default buffer they arrived only then (bench/getprop_vs_indi.py: 27-29 ms late in every
    run), and so did the start of the quiet period."""
    from indipyclient.frontends.tools.blockingconnection import RECEIVE_BUFFER

    with open("/proc/sys/net/core/rmem_max") as limit:  # the kernel caps what is asked for
        room = min(RECEIVE_BUFFER, int(limit.read()))
    answer = DEF * (min(room, 350_000) // len(DEF))
    with socket.create_server(("127.0.0.1", 0)) as server:
        conn = Connection.open("127.0.0.1", server.getsockname()[1])
        peer, _ = server.accept()
        with peer:
            peer.settimeout(5)
            peer.sendall(answer)  # the tool does not read meanwhile
            wait_for(lambda: _unread(conn.sock) == len(answer),
                     what=lambda: f"the whole answer in the tool's buffer: {_unread(conn.sock)} "
                                  f"of {len(answer)} bytes")
            seen = time.monotonic()  # all of it had arrived, unread: the server waited for nothing
            got = 0
            while got < answer.count(b"<defNumberVector"):
                assert conn.next_event(time.monotonic() + 5) is not None
                got += 1
        conn.close()
    if _KERNEL_TIMESTAMPS:  # and the last definition is dated from its arrival, before the read
        assert conn.arrived <= seen


@pytest.mark.skipif(not _KERNEL_TIMESTAMPS, reason="packet timestamps (Linux)")
def test_an_answer_that_came_in_time_counts_when_the_tool_reads_it_late(stamping: None) -> None:
    """A tool that a busy machine lets run only after its deadline still takes what had arrived
    by then (indi_getprop's select() would have seen it), and only that: bytes that came after
    the deadline end the wait and are kept for a later call. Before, any read after the
    deadline returned nothing, and indipy-getprop printed "No ..." beside indi_getprop's value
    on a loaded machine."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        conn = Connection.open("127.0.0.1", listener.getsockname()[1])
        peer, _ = listener.accept()
        with peer:
            peer.sendall(DEF)
            assert select.select([conn.sock], [], [], 5)[0], "the definition never came"
            deadline = time.monotonic()  # passed before the tool reads: it came before it
            assert conn.next_event(deadline) is not None
            deadline = time.monotonic()
            peer.sendall(DEF)
            assert select.select([conn.sock], [], [], 5)[0], "the definition never came"
            assert conn.next_event(deadline) is None  # it came after the deadline
            assert conn.next_event(time.monotonic() + 5) is not None  # and was kept
        conn.close()
