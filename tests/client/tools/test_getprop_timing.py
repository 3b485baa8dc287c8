"""indipy-getprop's end-of-answer rule and early request, which make its whole run short.

indi_getprop parses bytes as they come, so its ``-t`` quiet period runs from the arrival of the
last matching definition. Ours loads the protocol core after sending its request and parses in
chunks, so it counts from when the bytes arrived (the kernel's receive timestamp on Linux), not
from when Python got round to them. The request it sends before loading the core must be the
bytes the core's serialiser writes.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyclient.tools.blockingconnection import Connection
from indipyclient.tools.getprop import early_request
from indipyclient.tools.getpropquery import GetpropQuery
from indipyclient.tools.specs import SpecError, parse_get_spec
from indipydriver.protocol import serialise

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


@pytest.fixture
def stamping() -> Iterator[None]:
    """Linux stamps packets only while some socket asks for it, and turns that on a moment after
    the first one does: a socket asking from the start keeps it on for the test (the tool
    itself uses recv's return time for bytes that came unstamped, which is never too early,
    but is the time of reading, not of arrival)."""
    keeper = socket.socket()
    if sys.platform.startswith("linux"):
        keeper.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
        time.sleep(0.2)
    with keeper:
        yield


def test_arrival_time_is_when_the_bytes_came_not_when_they_were_read(stamping: None) -> None:
    """A definition read 0.4 s after it arrived reports its arrival (Linux), never a later time."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        conn = Connection.open("127.0.0.1", port)
        server, _ = listener.accept()
        with server:
            sent = time.monotonic()
            server.sendall(DEF)
            time.sleep(0.4)
            before_read = time.monotonic()
            event = conn.next_event(time.monotonic() + 5)
            conn.close()
    assert event is not None
    assert sent - 0.01 <= conn.arrived <= time.monotonic()
    if sys.platform.startswith("linux"):
        assert conn.arrived < before_read - 0.3


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
        while connection.next_event(time.monotonic() + 0.2) is not None:
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
    from indipyclient.tools.blockingconnection import RECEIVE_BUFFER

    with open("/proc/sys/net/core/rmem_max") as limit:  # the kernel caps what is asked for
        room = min(RECEIVE_BUFFER, int(limit.read()))
    answer = DEF * (min(room, 350_000) // len(DEF))
    with socket.create_server(("127.0.0.1", 0)) as server:
        conn = Connection.open("127.0.0.1", server.getsockname()[1])
        peer, _ = server.accept()
        with peer:
            peer.settimeout(5)
            started = time.monotonic()
            peer.sendall(answer)  # blocks until the tool's buffer has taken all of it
            sent = time.monotonic()
            time.sleep(0.3)  # the tool reads only now
            got = 0
            while got < answer.count(b"<defNumberVector"):
                assert conn.next_event(time.monotonic() + 5) is not None
                got += 1
        conn.close()
    assert sent - started < 0.2, "the server had to wait for the tool to read"
    # and the last definition is dated from its arrival, before the tool read it
    assert conn.arrived < sent + 0.1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="packet timestamps: Linux")
def test_an_answer_that_came_in_time_counts_when_the_tool_reads_it_late(stamping: None) -> None:
    """A tool that a busy machine lets run only after its deadline still takes what had arrived
    by then (indi_getprop's select() would have seen it), and only that: bytes that came after
    the deadline end the wait and are kept for a later call. Before, any read after the
    deadline returned nothing, and indipy-getprop printed "No ..." beside indi_getprop's value
    on a loaded machine."""
    import select

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
