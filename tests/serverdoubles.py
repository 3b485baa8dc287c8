"""Test doubles of the connections the router talks to, implementing its ports in full.

`indipyserver.routing.ports` is all the router (and the shortcut and cut-through) may call on
a client or a driver; these doubles implement every member, and mypy --strict checks them
against the protocols (tests/test_static_checks.py), so a double cannot silently lack what the
router calls. They record what they are given and take no shortcut: nothing is written through
and no BLOB is taken in pieces, so every element reaches them whole through `send_frame` or
`send`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import FrameHead
from indipycore.protocol.framing import Framer
from indipyserver.routing.ports import Attached
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.ports import DriverPort
from indipyserver.routing.ports import DriverSide
from indipyserver.routing.ports import Parts
from indipyserver.routing.router import Router

__all__ = ["RecordingClient", "RecordingDriver", "RecordingDriverSide", "frames", "ready"]


def frames(xml: str) -> list[Frame]:
    """The elements of `xml`, framed as a connection frames them (all of them whole)."""
    out = Framer().feed(xml.encode())
    assert all(isinstance(f, Frame) for f in out), out
    return [f for f in out if isinstance(f, Frame)]


class RecordingClient:
    """A client that records the bytes of every element queued to it, in order."""

    local = False
    queued_bytes = 0

    def __init__(self, label: str = "client", shares_blobs: bool = False,
                 identity: str = "anonymous") -> None:
        self.label = label
        self.identity = identity
        self.peer = label
        self.shares_blobs = shares_blobs
        self.got: list[bytes] = []
        self.attached: list[Attached] = []  # `send_attached`: the elements, fds still open

    def send_frame(self, frame: Frame) -> None:
        self.got.append(bytes(frame.data))

    def send_frames(self, frames: list[Frame]) -> None:
        for frame in frames:
            self.send_frame(frame)

    def write_through(self, data: bytes) -> bool:
        return False

    def stream_begin(self) -> bool:
        return False  # a streamed BLOB comes whole at its end, through `send_parts`

    def stream_late(self, device: str, name: str) -> None:
        pass

    def stream_piece(self, data: bytes | memoryview) -> None:
        raise AssertionError("a recording client takes no pieces")

    def stream_end(self, data: bytes | memoryview) -> None:
        raise AssertionError("a recording client takes no pieces")

    def send_parts(self, element: Parts) -> None:
        self.send_frame(Frame(element.tag, element.attrs, b"".join(element.parts)))

    def send_attached(self, element: Attached) -> None:
        self.attached.append(element)


class RecordingDriver:
    """A driver (or, with `is_remote`, a remote server) that records the bytes sent to it."""

    device: str | None = None
    blob_enable = False
    trusted_xml = False
    streams_blobs = False
    local = False
    takes_writes = False  # `write_through` always declines
    reader_now: Callable[[], bool] | None = None  # no output to read at once (`read_now`)

    def __init__(self, label: str = "driver", is_remote: bool = False) -> None:
        self.label = label
        self.is_remote = is_remote
        self.got: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.got.append(bytes(data))

    def send_frame(self, frame: Frame) -> None:
        self.send(bytes(frame.data))

    def write_through(self, data: bytes) -> bool:
        return False

    def read_now(self) -> bool:
        return True  # nothing more to wait for: the shortcut does not hand over again


class RecordingDriverSide:
    """The router as a driver connection sees it: each call recorded as an event, ``("ready",
    who)``, ``("frame", frame)`` or ``("lost", who)`` (`who`: what `ident` says of the
    connection), and `hello` sent at once to a connection that is ready, as the router asks
    a new driver for its properties. No streamed BLOB is routed from its start tag."""

    def __init__(self, hello: bytes = b'<getProperties version="1.7"/>',
                 ident: Callable[[Any], object] = lambda conn: None,
                 timeout: float = 15.0) -> None:
        self.hello = hello
        self.ident = ident
        self.timeout = timeout
        self.events: list[tuple[str, object]] = []
        self.changed = asyncio.Event()
        self.cut_short_heads: list[FrameHead] = []

    def driver_ready(self, driver: DriverPort) -> None:
        self.events.append(("ready", self.ident(driver)))
        driver.send(self.hello)
        self.changed.set()

    def driver_frames(self, driver: DriverPort, frames: list[Frame]) -> None:
        self.events.extend(("frame", frame) for frame in frames)
        self.changed.set()

    def driver_lost(self, driver: DriverPort) -> None:
        self.events.append(("lost", self.ident(driver)))
        self.changed.set()

    def route_head(self, driver: DriverPort, head: FrameHead) -> list[ClientPort] | None:
        return None  # assembled and given whole to `driver_frames`

    def stream_cut_short(self, driver: DriverPort, head: FrameHead) -> None:
        self.cut_short_heads.append(head)

    def takes_attached(self, driver: DriverPort) -> bool:
        return False  # no client takes memory files: an in-process driver's BLOBs go inline

    async def wait_for(self, predicate: Callable[[list[tuple[str, object]]], bool],
                       timeout: float | None = None) -> None:
        """Until `predicate` holds for the events so far (`timeout` seconds at the most)."""
        async with asyncio.timeout(self.timeout if timeout is None else timeout):
            while not predicate(self.events):
                self.changed.clear()
                await self.changed.wait()

    def count(self, kind: str) -> int:
        return sum(1 for event in self.events if event[0] == kind)


def ready(router: Router, *drivers: RecordingDriver) -> None:
    """Each driver made ready on `router`, and what the router asked of it forgotten."""
    for d in drivers:
        router.driver_ready(d)
        d.got.clear()


def _conforms(client: RecordingClient, driver: RecordingDriver, side: RecordingDriverSide) -> None:
    """Never called: mypy checks here that each double is its protocol."""
    _client: ClientPort = client
    _driver: DriverPort = driver
    _side: DriverSide = side
