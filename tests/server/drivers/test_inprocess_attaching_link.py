"""The in-process link as an ``AttachingLink`` (``InProcessDriverConnection``), alone with a
router and recording clients: no sockets, no driver but a script of writes.

Protects: `attaches_blobs` says yes only while a client taking memory files wants the
driver's BLOBs; `write_attached` leaves the caller's descriptors open (they are the driver's,
closed by it after) and passes the clients that take them duplicates of their own; while a
client can only get the image whole at its end (a late one), the driver's next write waits
(`hold`) and reaches it after the image; the descriptors the link kept are closed when the
image is done or the driver ends.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from collections.abc import Callable

import pytest
from serverdoubles import RecordingClient
from serverdoubles import frames
from serverkit import attached_member
from serverkit import fd_closed
from serverkit import memfd
from waiting import until

from indipydriver.links import AttachingLink
from indipydriver.links import FramedLink
from indipyserver.blobs import attached as attached_module
from indipyserver.drivers.inprocess import InProcessDriverConnection
from indipyserver.routing.router import Router

DEF = ("<defBLOBVector device='Cam' name='IMAGE' state='Idle' perm='ro'>"
       "<defBLOB name='I'/></defBLOBVector>")
ALSO = "<getProperties version='1.7'/><enableBLOB device='Cam'>Also</enableBLOB>"
SET = b"<setNumberVector device='Cam' name='T' state='Ok'><oneNumber name='C'>1</oneNumber></setNumberVector>"


def holds_memfd(fd: int) -> bool:
    """Whether `fd` is (still) one of the test's memfds, not closed or reused since."""
    try:
        return "shm_anon" in os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return False


def image(n: int) -> bytes:
    return ("<setBLOBVector device='Cam' name='IMAGE' state='Ok'>"
            + attached_member("I", n) + "</setBLOBVector>").encode()


Body = Callable[[InProcessDriverConnection], Awaitable[None]]


class Script:
    """An in-process peer that runs `body` on its link, then waits to be told to end."""

    def __init__(self, body: Body) -> None:
        self.body = body
        self.done = asyncio.Event()
        self.end = asyncio.Event()

    async def serve(self, link: FramedLink) -> None:
        assert isinstance(link, InProcessDriverConnection)
        try:
            await self.body(link)
        finally:
            self.done.set()
        await self.end.wait()


async def run_body(router: Router, body: Body, timeout: float = 5
                   ) -> tuple[Script, InProcessDriverConnection, asyncio.Task[None]]:
    """A link to `router` whose driver runs `body`, once `body` is done (the link stays up
    until the script's `end` is set): the script, the link and the task running it."""
    script = Script(body)
    conn = InProcessDriverConnection(script, label="cam")
    task = asyncio.create_task(conn.run(router))
    await asyncio.wait_for(script.done.wait(), timeout)
    return script, conn, task


def client(router: Router, shares: bool) -> RecordingClient:
    c = RecordingClient("unix" if shares else "tcp", shares_blobs=shares)
    router.add_client(c)
    router.client_frames(c, frames(ALSO))
    return c


async def test_it_attaches_only_while_a_client_takes_memory_files() -> None:
    """An AttachingLink by type; `attaches_blobs` False with no router, then with only a TCP
    client, True once a Unix client wants the camera's BLOBs, False after it left."""
    seen: list[bool] = []

    async def body(link: InProcessDriverConnection) -> None:
        await link.write(DEF.encode())
        seen.append(link.attaches_blobs)
        unix = client(router, True)
        seen.append(link.attaches_blobs)
        router.client_lost(unix)
        seen.append(link.attaches_blobs)

    router = Router()
    client(router, False)
    script = Script(body)
    conn = InProcessDriverConnection(script, label="cam")
    assert isinstance(conn, AttachingLink) and not conn.attaches_blobs
    task = asyncio.create_task(conn.run(router))
    await asyncio.wait_for(script.done.wait(), 5)
    script.end.set()
    await asyncio.wait_for(task, 5)
    assert seen == [False, True, False]
    assert not conn.attaches_blobs


async def test_the_callers_descriptors_stay_open_and_the_unix_client_gets_its_own() -> None:
    """After `write_attached` returns the driver's memfd is still open (the driver closes
    it); the Unix client holds a duplicate of its own with the image, and once the element
    is dropped and the driver closed its own, nothing the link made is open."""
    data = os.urandom(5000)
    fd = memfd(data)

    async def body(link: InProcessDriverConnection) -> None:
        await link.write(DEF.encode())
        await link.write_attached(image(len(data)), [fd])
        assert not fd_closed(fd)

    router = Router()
    unix = client(router, True)
    script, conn, task = await run_body(router, body)
    (element,) = unix.attached
    (dup,) = element.fds
    assert dup != fd and os.pread(dup, 6000, 0) == data
    element.close()
    os.close(fd)
    script.end.set()
    await asyncio.wait_for(task, 5)
    assert len(conn._buffers) == 0


async def test_a_late_client_gets_the_image_before_the_set_written_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that takes the image only whole at its end (RecordingClient: late) keeps
    no order by itself: the driver's next write waits (`hold`) until the image is encoded,
    so the client gets the image, then the set. The driver's memfd, duplicated, is closed by
    the link once encoded."""
    monkeypatch.setattr(attached_module, "STEP", 3 * 1024)
    data = os.urandom(100 * 1024)
    fd = memfd(data)
    held: list[bool] = []

    async def body(link: InProcessDriverConnection) -> None:
        await link.write(DEF.encode())
        await link.write_attached(image(len(data)), [fd])
        os.close(fd)  # as the driver does once the send returned
        assert link._blobs is not None
        held.append(link._blobs.converting)
        await link.write(SET)  # waits for the image

    router = Router()
    tcp = client(router, False)
    script, conn, task = await run_body(router, body, 10)
    assert held == [True]
    blobs = [i for i, got in enumerate(tcp.got) if got.startswith(b"<setBLOBVector")]
    sets = [i for i, got in enumerate(tcp.got) if got.startswith(b"<setNumberVector")]
    assert len(blobs) == 1 and sets and blobs[0] < sets[0]
    assert len(conn._buffers) == 0
    script.end.set()
    await asyncio.wait_for(task, 5)


async def test_a_driver_ending_in_the_middle_closes_what_the_link_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection's task is cancelled (server shutdown) while the image is encoded: the
    duplicate the link kept is closed, and a write held back returns."""
    monkeypatch.setattr(attached_module, "STEP", 3)
    data = os.urandom(300_000)
    fd = memfd(data)
    kept: list[int] = []

    async def body(link: InProcessDriverConnection) -> None:
        await link.write(DEF.encode())
        await link.write_attached(image(len(data)), [fd])
        os.close(fd)
        assert link._blobs is not None and link._blobs.converting
        conversion = link._blobs._conversion
        assert conversion is not None
        kept.extend(m.fd for m in conversion.members if m.fd is not None)

    router = Router()
    client(router, False)
    _, _, task = await run_body(router, body)
    (dup,) = kept
    assert holds_memfd(dup)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: not holds_memfd(dup), 5, "the link's duplicate closed")
