"""ReadBufferPool: a buffer is read into again only once nothing refers to it any more."""

from __future__ import annotations

from indipycore.readbuffers import ReadBufferPool


def test_a_buffer_nobody_holds_is_handed_out_again() -> None:
    """Full reads of a BLOB reuse the same memory instead of allocating 1 MiB each."""
    pool = ReadBufferPool(1024, keep=4)
    first = pool.get()
    assert len(first) == 1024
    ident = id(first)
    del first
    assert id(pool.get()) == ident
    assert pool.pooled == 1


def test_a_buffer_with_a_live_view_is_not_read_into() -> None:
    """A piece queued for a client (a view of the buffer) keeps its bytes: the buffer is not
    handed out again until the view is gone."""
    pool = ReadBufferPool(1024, keep=4)
    buf = pool.get()
    buf[:5] = b"first"
    piece = memoryview(buf)[:5]
    del buf
    other = pool.get()
    assert other is not piece.obj
    other[:5] = b"XXXXX"
    assert bytes(piece) == b"first"
    held, other_id = id(piece.obj), id(other)
    del piece, other
    a = pool.get()
    b = pool.get()  # `a` is held here, so this is the other one
    assert {id(a), id(b)} == {held, other_id}
    assert pool.pooled == 2


def test_at_most_keep_buffers_are_pooled() -> None:
    """Memory kept for reuse is bounded: past `keep` in use, reads get buffers of their own."""
    pool = ReadBufferPool(64, keep=3)
    held = [pool.get() for _ in range(5)]
    assert len({id(b) for b in held}) == 5
    assert pool.pooled == 3


def test_shrink_lets_free_buffers_go_and_keeps_those_in_use() -> None:
    """Back to small reads, the pool gives up a BLOB's worth of free buffers but one."""
    pool = ReadBufferPool(64, keep=8)
    held = [pool.get() for _ in range(6)]
    in_use = held[:2]
    del held
    pool.shrink()
    assert pool.pooled == 3  # two in use, one free
    assert all(any(b is p for p in pool._buffers) for b in in_use)
