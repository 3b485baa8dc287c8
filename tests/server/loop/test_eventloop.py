"""The server's event loop (indipyserver.loop.eventloop): asyncio on a selector that calls inline
readers itself. It must behave as asyncio's own selector for everything asyncio registers,
call inline readers exactly when their descriptor is readable, share a descriptor between an
inline reader and a transport's writer, and survive a reader that raises."""

from __future__ import annotations

import asyncio
import fcntl
import os
import selectors
import socket
import struct
import termios
import threading

import pytest
from waiting import until
from waiting import wait_for

from indipyserver.loop.eventloop import InlineSelector
from indipyserver.loop.eventloop import inline_selector
from indipyserver.loop.eventloop import new_event_loop
from indipyserver.loop.eventloop import run


def _unread(fd: int) -> int:
    """Bytes waiting unread in the pipe `fd` reads (FIONREAD)."""
    return int(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0])


def test_run_uses_an_inline_selector_and_plain_asyncio_run_does_not() -> None:
    async def which() -> InlineSelector | None:
        return inline_selector(asyncio.get_running_loop())

    assert isinstance(run(which()), InlineSelector)
    assert asyncio.run(which()) is None


def test_an_inline_reader_is_called_from_select_and_asyncio_keys_are_returned() -> None:
    selector = InlineSelector()
    a_read, a_write = os.pipe()
    b_read, b_write = os.pipe()
    try:
        seen: list[bytes] = []
        selector.add_inline(a_read, lambda: seen.append(os.read(a_read, 100)))
        key = selector.register(b_read, selectors.EVENT_READ, "asyncio's data")
        assert selector.get_key(b_read) is key and len(selector.get_map()) == 1
        assert selector.select(0) == []  # nothing readable yet
        os.write(a_write, b"inline")
        os.write(b_write, b"asyncio")
        ready = selector.select(1)
        assert seen == [b"inline"]  # read inside select, not returned
        assert ready == [(key, selectors.EVENT_READ)]
        selector.remove_inline(a_read)
        os.write(a_write, b"again")
        selector.select(0)
        assert seen == [b"inline"]  # removed: no longer called
        assert selector.unregister(b_read) is key
        with pytest.raises(KeyError):
            selector.get_key(b_read)
    finally:
        selector.close()
        for fd in (a_read, a_write, b_read, b_write):
            os.close(fd)


def test_one_socket_read_inline_and_watched_for_writing_by_asyncio() -> None:
    # A client socket: we read it inline while asyncio's transport waits to write to it.
    selector = InlineSelector()
    ours, peer = socket.socketpair()
    try:
        reads: list[bytes] = []
        selector.add_inline(ours.fileno(), lambda: reads.append(ours.recv(100)))
        key = selector.register(ours.fileno(), selectors.EVENT_WRITE, "writer")
        peer.sendall(b"hello")
        ready = selector.select(1)
        assert reads == [b"hello"]
        assert ready == [(key, selectors.EVENT_WRITE)]  # writable, and only that is asyncio's
        selector.unregister(ours.fileno())
        peer.sendall(b"more")
        assert selector.select(1) == []
        assert reads == [b"hello", b"more"]  # still read inline after asyncio let go
        with pytest.raises(KeyError):
            selector.modify(ours.fileno(), selectors.EVENT_READ)
    finally:
        selector.close()
        ours.close()
        peer.close()


def test_a_closed_descriptor_reused_by_a_new_one_is_registered_again() -> None:
    selector = InlineSelector()
    try:
        first, peer1 = socket.socketpair()
        fd = first.fileno()
        selector.add_inline(fd, lambda: None)
        first.close()  # closed without remove_inline: epoll has dropped it by itself
        peer1.close()
        selector.remove_inline(fd)  # tolerated
        second, peer2 = socket.socketpair()
        got: list[bytes] = []
        selector.add_inline(second.fileno(), lambda: got.append(second.recv(10)))
        peer2.sendall(b"x")
        selector.select(1)
        assert got == [b"x"]
        second.close()
        peer2.close()
    finally:
        selector.close()


def test_a_reader_that_raises_is_reported_to_the_loop_and_the_loop_goes_on() -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        selector = inline_selector(loop)
        assert selector is not None
        reported: list[str] = []
        loop.set_exception_handler(lambda _loop, ctx: reported.append(str(ctx["exception"])))
        bad_read, bad_write = os.pipe()
        good_read, good_write = os.pipe()
        got = asyncio.Event()

        def bad() -> None:
            os.read(bad_read, 10)
            raise RuntimeError("reader failed")

        def good() -> None:
            os.read(good_read, 10)
            got.set()

        selector.add_inline(bad_read, bad)
        selector.add_inline(good_read, good)
        os.write(bad_write, b"1")
        await until(lambda: _unread(bad_read) == 0, what="the failing reader to have run")
        os.write(good_write, b"2")
        await asyncio.wait_for(got.wait(), 5)  # the loop kept running after the error
        for fd in (bad_read, good_read):
            selector.remove_inline(fd)
        for fd in (bad_read, bad_write, good_read, good_write):
            os.close(fd)
        return reported

    assert run(main()) == ["reader failed"]


def test_timers_and_asyncio_streams_work_as_on_any_loop() -> None:
    async def main() -> bytes:
        server = await asyncio.start_server(_echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping\n")
        await asyncio.sleep(0.001)  # the scenario: a timer on this loop
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return line

    loop = new_event_loop()
    try:
        assert loop.run_until_complete(main()) == b"ping\n"
    finally:
        loop.close()


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()


def _counting_selects(selector: InlineSelector) -> list[int]:
    """Counts the returns of `selector.select` to asyncio (one per turn of its loop)."""
    turns: list[int] = []
    select = selector.select

    def counted(timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = select(timeout)
        turns.append(1)
        return ready

    selector.select = counted  # type: ignore[method-assign]
    return turns


def test_inline_reads_that_leave_asyncio_nothing_to_do_take_no_turn_of_its_loop() -> None:
    """What a round trip saves: reads handled inline, which give asyncio no callback, no timer
    and no event, are waited for again inside `select` instead of each costing a turn of
    asyncio's loop (`_run_once`). A second thread writes 50 pieces one by one."""

    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        selector = inline_selector(loop)
        assert selector is not None
        read_fd, write_fd = os.pipe()
        reads: list[bytes] = []
        selector.add_inline(read_fd, lambda: reads.append(os.read(read_fd, 100)))
        wrote = asyncio.Event()  # set from the thread once: one turn (no polling here)

        def writer() -> None:
            for _ in range(50):
                os.write(write_fd, b"x")
                wait_for(lambda: _unread(read_fd) == 0, what="the inline reader to read",
                         interval=0.001)
            loop.call_soon_threadsafe(wrote.set)

        thread = threading.Thread(target=writer)
        turns = _counting_selects(selector)
        thread.start()
        await asyncio.wait_for(wrote.wait(), 30)
        thread.join()
        selector.remove_inline(read_fd)
        os.close(read_fd)
        os.close(write_fd)
        return len(reads), len(turns)

    reads, turns = run(main())
    assert reads == 50
    assert turns < 25, f"{turns} turns of asyncio's loop for 50 inline reads"


def test_work_an_inline_reader_gives_asyncio_is_done_at_once() -> None:
    """An inline reader that schedules a callback, starts an earlier timer or stops the loop
    is answered without waiting for another descriptor: `select` returns to asyncio as soon
    as it has work, and a timer set before the reads still fires on time while they go on."""

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        selector = inline_selector(loop)
        assert selector is not None
        read_fd, write_fd = os.pipe()
        done: list[str] = []
        early = asyncio.Event()
        loop.call_later(0.2, done.append, "timer set before")
        actions = iter([
            lambda: loop.call_soon(done.append, "call_soon"),
            lambda: loop.call_later(0.001, done.append, "call_later"),
            lambda: loop.call_soon_threadsafe(early.set),
        ])

        def read() -> None:
            os.read(read_fd, 100)
            next(actions, lambda: None)()

        selector.add_inline(read_fd, read)
        for expected in ("call_soon", "call_later"):
            os.write(write_fd, b"x")
            await until(lambda e=expected: e in done, timeout=5, what=expected)
        os.write(write_fd, b"x")
        await asyncio.wait_for(early.wait(), 5)
        # Reads keep coming, each handled inline; the timer still fires when due.
        stop = threading.Event()

        def keep_writing() -> None:
            while not stop.is_set():
                os.write(write_fd, b"y")
                stop.wait(0.002)

        thread = threading.Thread(target=keep_writing)
        thread.start()
        try:
            await until(lambda: "timer set before" in done, timeout=5, what="the timer")
        finally:
            stop.set()
            thread.join()
        selector.remove_inline(read_fd)
        os.close(read_fd)
        os.close(write_fd)
        return done

    assert run(main()) == ["call_soon", "call_later", "timer set before"]


def test_a_loop_stopped_by_an_inline_reader_stops() -> None:
    """`loop.stop()` from an inline reader ends `run_forever` at once, with no other event."""
    loop = new_event_loop()
    selector = inline_selector(loop)
    assert selector is not None
    read_fd, write_fd = os.pipe()

    def read() -> None:
        os.read(read_fd, 100)
        loop.stop()

    try:
        selector.add_inline(read_fd, read)
        loop.call_soon(os.write, write_fd, b"x")
        loop.run_forever()  # returns only if the stop is seen
        assert _unread(read_fd) == 0
        selector.remove_inline(read_fd)
    finally:
        loop.close()
        os.close(read_fd)
        os.close(write_fd)
