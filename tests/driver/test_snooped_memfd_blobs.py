"""Snooped BLOBs passed as shared memory, as indiserver 1.9.9 passes them to drivers.

Under indiserver 1.9.9 a driver's stdin and stdout are one Unix socketpair, and a BLOB it
snoops comes as ``<oneBLOB ... attached='true'/>`` with the data in a memfd passed beside it
(SCM_RIGHTS). Protects: the driver reads such BLOBs (``len``, or ``size`` capped at the memfd),
hands them to ``snoopevent`` with their bytes, closes every descriptor, and drops (logged) a
member whose descriptor never came; its own output still goes out whole on the same socket.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import socket
import struct
import termios
from collections import deque

import pytest
from driverkit import make_driver
from waiting import until

from indipycore.sharedblobs import inline_attached
from indipydriver import setBLOBVector
from indipydriver.links import StdioLink

DEF = (b"<defBLOBVector device='Camera' name='CCD1' state='Idle' perm='ro'>"
       b"<defBLOB name='CCD1'/></defBLOBVector>")


def memfd(data: bytes, size: int = 1 << 16) -> int:
    fd = os.memfd_create("blob")
    os.write(fd, data)
    os.ftruncate(fd, max(size, len(data)))  # rounded up, as indilib makes them
    return fd


def attached(attrs: bytes) -> bytes:
    """A snooped BLOB as indiserver 1.9.9 spells it, with `attrs` (its size and len) spelt as
    given."""
    return (b"<setBLOBVector device='Camera' name='CCD1' state='Ok'>"
            b"<oneBLOB name='CCD1' format='.fits' " + attrs + b" attached='true'/>"
            b"</setBLOBVector>")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_inline_attached_reads_len_or_size_and_closes_the_descriptors() -> None:
    fds = deque([memfd(b"0123456789"), memfd(b"abc")])
    data = attached(b"size='10' len='4'").replace(b"</setBLOBVector>", b"") + attached(
        b"size='999'")[attached(b"").index(b"<oneBLOB"):]
    out = inline_attached(data, fds)
    assert b"MDEyMw==" in out  # base64 of the first len=4 bytes
    assert b"YWJj" + b"AAAA" in out  # size 999 capped at the 64 KiB memfd: abc + zeros
    assert b"attached" not in out and not fds
    with pytest.raises(ValueError, match="no shared buffer"):
        inline_attached(attached(b"size='3'"), deque())


async def test_a_snooped_blob_in_a_memfd_reaches_snoopevent_over_one_socketpair(
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver = make_driver()
    before = open_fds()
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(driver.serve(StdioLink(theirs.fileno(), theirs.fileno())))
    try:
        await driver.send_getProperties("Camera")
        await loop.sock_sendall(ours, DEF)
        fd = memfd(b"SIMPLE  = T")
        try:
            socket.send_fds(ours, [attached(b"size='11'")], [fd])
        finally:
            os.close(fd)
        with caplog.at_level(logging.ERROR, logger="indipydriver.driver"):
            await loop.sock_sendall(ours, attached(b"size='5'"))  # its memfd never comes
            blobs = await until(
                lambda: "dropped" in caplog.text
                and [e for e in driver.snooped if isinstance(e, setBLOBVector)],
                what="the BLOB snooped and the one without its memfd dropped")
        assert [e["CCD1"] for e in blobs] == [b"SIMPLE  = T"]
        assert "no shared buffer for BLOB 'CCD1'" in caplog.text
        # The driver's own output still goes out on the same socket.
        await driver.send_message("still here")
        got = b""
        while b"still here" not in got:
            got += await asyncio.wait_for(loop.sock_recv(ours, 65536), 5)
    finally:
        driver.shutdown()
        await asyncio.wait_for(task, 5)
        ours.close()
        theirs.close()
    assert open_fds() == before  # the memfd the driver received was closed


def test_one_failing_member_takes_its_elements_descriptors_with_it() -> None:
    """A member that cannot be read (len beyond its memfd) fails the whole element, whose
    descriptors are all taken and closed: the next element's BLOB gets its own data."""
    two = (b"<setBLOBVector device='Camera' name='CCD1'>"
           b"<oneBLOB name='a' size='4' len='999999' attached='true'/>"
           b"<oneBLOB name='b' size='4' attached='true'/></setBLOBVector>")
    fds = deque([memfd(b"AAAA", 16), memfd(b"BBBB", 16), memfd(b"CCCC", 16)])
    before = open_fds()
    with pytest.raises(ValueError, match="exceeds the shared buffer"):
        inline_attached(two, fds)
    assert open_fds() == before - 2 and len(fds) == 1
    assert b"Q0NDQw==" in inline_attached(attached(b"size='4'"), fds)  # CCCC, not BBBB


def _unread(sock: socket.socket) -> int:
    """Bytes waiting unread in `sock` (FIONREAD)."""
    return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0])


async def test_a_cancelled_write_still_goes_out_whole_and_close_ends_a_waiting_read() -> None:
    """A writer cancelled half-way through a large element (an aborted exposure) must not
    leave half of it for the next write to be glued to; closing the link while a read waits
    ends that read with b"" and leaves no reader behind in the event loop."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    loop = asyncio.get_running_loop()
    link = StdioLink(theirs.fileno(), theirs.fileno())
    element = b"<setBLOBVector>" + b"A" * (4 << 20) + b"</setBLOBVector>"
    try:
        writing = asyncio.create_task(link.write(element))
        # the peer does not read: the write is under way, the rest of it waits for room
        await until(lambda: _unread(ours) > 0, 5, "the first bytes of the element")
        writing.cancel()
        after = asyncio.create_task(link.write(b"<next/>"))  # waits for the first to finish
        got = b""
        while not got.endswith(b"<next/>"):
            got += await asyncio.wait_for(loop.sock_recv(ours, 1 << 20), 5)
        await asyncio.wait_for(after, 5)
        assert got == element + b"<next/>"
        registered = len(loop._selector.get_map())  # type: ignore[attr-defined]
        reading = asyncio.create_task(link.read())
        await until(lambda: len(loop._selector.get_map()) > registered,  # type: ignore[attr-defined]
                    5, "the read waiting in the loop")
        await link.close()
        assert await asyncio.wait_for(reading, 5) == b""
        assert len(loop._selector.get_map()) == registered  # type: ignore[attr-defined]
    finally:
        ours.close()
        theirs.close()
