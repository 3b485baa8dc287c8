"""ClientQueue: order, coalescing only when asked, chunking of large elements."""

from __future__ import annotations

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver.clients.queue import ClientQueue
from indipyserver.routing.ports import Parts


def f(xml: str) -> Frame:
    (frame,) = Framer().feed(xml.encode())
    assert isinstance(frame, Frame)
    return frame


def drain(q: ClientQueue, chunk: int = 1 << 20) -> bytes:
    out = b""
    while q:
        out += bytes(q.take(chunk))
    return out


SET_A1 = '<setNumberVector device="D" name="A"><oneNumber name="x">1</oneNumber></setNumberVector>'
SET_A2 = SET_A1.replace(">1<", ">2<")
SET_B = SET_A1.replace('name="A"', 'name="B"')
BLOB1 = '<setBLOBVector device="D" name="I"><oneBLOB name="i" size="1" format=".b">AA==</oneBLOB></setBLOBVector>'
BLOB2 = BLOB1.replace("AA==", "AQ==")


def test_a_client_that_keeps_up_gets_every_element_in_order() -> None:
    q = ClientQueue()
    for x in (SET_A1, SET_B, SET_A2):
        q.put(f(x), coalesce=False)
    assert drain(q) == (SET_A1 + SET_B + SET_A2).encode()
    assert q.nbytes == 0 and q.dropped == 0


def test_behind_an_older_set_of_the_same_property_is_dropped_and_order_kept() -> None:
    q = ClientQueue()
    for x in (SET_A1, SET_B, SET_A2, BLOB1, BLOB2):
        q.put(f(x), coalesce=True)
    assert drain(q) == (SET_B + SET_A2 + BLOB2).encode()
    assert q.dropped == 2


def test_a_set_with_a_message_is_never_dropped() -> None:
    q = ClientQueue()
    with_msg = SET_A1.replace('name="A"', 'name="A" message="done"')
    q.put(f(with_msg), coalesce=True)
    q.put(f(SET_A2), coalesce=True)
    assert drain(q) == (with_msg + SET_A2).encode()


def test_a_superseded_blob_with_a_message_leaves_only_its_message() -> None:
    """A camera that says something with each image would otherwise grow a stuck client's
    queue by an image a time until it is disconnected: the older image goes, its message stays
    (as a message of its device, with its timestamp)."""
    q = ClientQueue()
    said = BLOB1.replace('name="I"', 'name="I" timestamp="2026-01-01T00:00:01" message="frame 1"')
    q.put(f(said), coalesce=True)
    q.put(f(SET_A1), coalesce=True)
    q.put(f(BLOB2), coalesce=True)
    message = '<message device="D" timestamp="2026-01-01T00:00:01" message="frame 1"/>\n'
    assert q.dropped == 1
    assert q.nbytes == len(message) + len(SET_A1) + len(BLOB2)
    assert drain(q) == (message + SET_A1 + BLOB2).encode()
    # once handed out, nothing stands for it any more
    q.put(f(said), coalesce=True)
    assert drain(q) == said.encode()
    q.put(f(BLOB2), coalesce=True)
    assert drain(q) == BLOB2.encode()


def test_nbytes_counts_what_is_waiting() -> None:
    q = ClientQueue()
    q.put(f(SET_A1), coalesce=True)
    q.put(f(SET_A2), coalesce=True)
    assert q.nbytes == len(SET_A2)


def test_a_large_element_is_handed_out_in_chunks_without_losing_bytes() -> None:
    big = '<message device="D" message="' + "x" * 10_000 + '"/>'
    q = ClientQueue()
    q.put(f(SET_A1))
    q.put(f(big))
    q.put(f(SET_B))
    chunks = []
    while q:
        chunks.append(bytes(q.take(4096)))
    assert max(len(c) for c in chunks) <= 4096
    assert b"".join(chunks) == (SET_A1 + big + SET_B).encode()
    assert q.nbytes == 0


def test_an_element_already_handed_out_is_not_coalesced_away() -> None:
    q = ClientQueue()
    q.put(f(SET_A1), coalesce=True)
    first = bytes(q.take(1 << 20))
    q.put(f(SET_A2), coalesce=True)
    assert first == SET_A1.encode() and drain(q) == SET_A2.encode() and q.dropped == 0


# -- elements queued as the pieces they arrived in (Parts) ---------------------------------------

BIG = (b'<setBLOBVector device="D" name="I"><oneBLOB name="i" size="3000" format=".b">'
       + b"Q" * 4000 + b"</oneBLOB></setBLOBVector>")


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def big_parts(data: bytes = BIG, size: int = 700) -> Parts:
    return Parts("setBLOBVector", {"device": "D", "name": "I"}, pieces(data, size))


def test_an_element_of_parts_is_written_whole_in_order_in_bounded_chunks() -> None:
    q = ClientQueue()
    q.put(f(SET_A1))
    q.put_parts(big_parts())
    q.put(f(SET_B))
    assert q.nbytes == len(SET_A1) + len(BIG) + len(SET_B)
    out = []
    while q:
        chunk = bytes(q.take(500))
        assert 0 < len(chunk) <= 500
        out.append(chunk)
    assert b"".join(out) == SET_A1.encode() + BIG + SET_B.encode()
    assert q.nbytes == 0 and q.waiting_bytes == 0


def test_parts_are_handed_out_without_a_copy() -> None:
    parts = pieces(BIG, 1000)
    q = ClientQueue()
    q.put_parts(Parts("setBLOBVector", {"device": "D", "name": "I"}, parts))
    first = q.take(1 << 20)
    assert isinstance(first, memoryview) and first.obj is parts[0]


def test_waiting_bytes_excludes_the_rest_of_the_parts_being_written() -> None:
    q = ClientQueue()
    q.put_parts(big_parts())
    q.put(f(SET_B))
    q.take(100)  # the BLOB is being written
    assert q.waiting_bytes == len(SET_B)
    assert q.nbytes == len(BIG) - 100 + len(SET_B)


def test_a_newer_set_supersedes_queued_parts_when_coalescing() -> None:
    q = ClientQueue()
    q.put(f(SET_A1))
    q.put_parts(big_parts())
    newer = BIG.replace(b'size="3000"', b'size="3001"')
    q.put_parts(big_parts(newer), coalesce=True)
    assert q.dropped == 1
    assert q.nbytes == len(SET_A1) + len(newer)
    assert drain(q) == SET_A1.encode() + newer


def test_parts_put_while_an_element_streams_follow_it() -> None:
    q = ClientQueue()
    q.open_stream()
    q.put_piece(b"<setBLOBVector device='D' name='J'>")
    q.put_parts(big_parts())
    q.put_piece(b"</setBLOBVector>")
    q.close_stream()
    assert drain(q) == b"<setBLOBVector device='D' name='J'></setBLOBVector>" + BIG


def test_empty_pieces_are_left_out() -> None:
    q = ClientQueue()
    q.put_parts(Parts("setBLOBVector", {}, [b"", BIG, b""]))
    assert drain(q) == BIG


def test_what_waits_behind_a_streaming_element_is_not_what_the_client_is_behind_by() -> None:
    """A client that took all of a BLOB that stopped arriving is not behind: what waits
    behind the BLOB is held up by its peer (it was found slow and lost superseded updates)."""
    q = ClientQueue()
    q.open_stream()
    q.put_piece(b"<setBLOBVector device='D' name='J'>")
    q.take(1 << 20)  # the client took all that came
    q.put(f(SET_A1))
    q.put_parts(big_parts())
    assert q.waiting_bytes == 0
    assert q.nbytes == len(SET_A1) + len(BIG)
    q.put_piece(b"</setBLOBVector>")
    q.close_stream()
    assert q.waiting_bytes == q.nbytes == len("</setBLOBVector>") + len(SET_A1) + len(BIG)
    q.open_stream()
    q.put(f(SET_B))
    q.clear()
    assert q.waiting_bytes == q.nbytes == 0


def drain_pieces(q: ClientQueue, chunk: int = 1 << 20, most: int = 64, small: int = 16 << 10) -> tuple[bytes, list[list[bytes | memoryview]]]:
    """Everything take_pieces hands out, and the lists it came in."""
    calls: list[list[bytes | memoryview]] = []
    while q:
        calls.append(q.take_pieces(chunk, most, small))
    return b"".join(bytes(p) for call in calls for p in call), calls


def test_streamed_pieces_are_handed_out_for_one_writev_without_a_copy() -> None:
    """A streamed BLOB's large pieces come out as the very views that were put, several to a
    call, bounded in bytes, and in order: writev(2) sends them without joining them first."""
    q = ClientQueue()
    q.open_stream()
    head = b"<setBLOBVector device='D' name='J'><oneBLOB name='i' size='1' format='.b'>"
    views = [memoryview(bytes([65 + k]) * (160 << 10)) for k in range(20)]
    q.put_piece(head + bytes(views[0]))
    for v in views[1:]:
        q.put_piece(v)
    q.put_piece(b"</oneBLOB></setBLOBVector>\n")
    q.close_stream()
    data, calls = drain_pieces(q)
    assert data == head + b"".join(bytes(v) for v in views) + b"</oneBLOB></setBLOBVector>\n"
    assert q.nbytes == 0
    handed = [p for call in calls for p in call]
    assert any(p is v for p in handed for v in views[1:])  # the same objects: no copy
    assert all(sum(map(len, call)) <= 1 << 20 for call in calls)
    assert max(len(call) for call in calls) > 1


def test_small_elements_are_still_joined_for_one_write() -> None:
    """A burst of small sets comes out joined (one piece a call): gathering a thousand tiny
    pieces would cost the kernel more than the join."""
    q = ClientQueue()
    for k in range(1000):
        q.put(f(SET_A1.replace('name="A"', f'name="A{k}"')), coalesce=False)
    data, calls = drain_pieces(q)
    assert all(len(call) == 1 for call in calls)
    assert data == b"".join(SET_A1.replace('name="A"', f'name="A{k}"').encode() for k in range(1000))


def test_parts_are_gathered_up_to_the_bounds() -> None:
    """An element given whole in parts comes out piece by piece, several pieces a call, never
    more than the bounds allow, and nothing is lost."""
    q = ClientQueue()
    data = bytes(range(256)) * 40_000
    q.put_parts(big_parts(data, 100_000))
    out, calls = drain_pieces(q, chunk=300_000, most=2)
    assert out == data
    assert all(len(call) <= 2 and sum(map(len, call)) <= 300_000 for call in calls)
