"""Our server chained above indilib's real ``indiserver``, with a recording TCP proxy between
the two, so the test sees exactly the bytes each way and nothing of our internals.

Protects (``routing.remoteblobs.RemoteBlobModes`` against the real peer, not the router's unit tests):
a client of ours that sends ``enableBLOB Also`` for the CCD simulator makes us send
``<enableBLOB device="CCD Simulator" name="CCD1">Also</enableBLOB>`` (and the same for ``CCD2``,
the guide head's image: one per BLOB property the CCD has defined) up, never an enableBLOB
without a property name, and the image reaches it through us; once that client is gone we send
each property's ``Never`` up, and indiserver then stops sending the images up the chain while
the exposure's other properties still come through. With two cameras behind one indiserver,
when the client wanting the first camera's images leaves, indiserver stops sending them up the
chain while the second camera's still reach the client that wants them.

What indiserver 1.9.9 does (observed through the proxy and its ``-vv`` log, and asserted here):
with ``Also`` the image comes as one ``setBLOBVector`` whose ``oneBLOB`` carries ``size``,
``format=".fits"`` and indiserver's own ``len`` attribute (no ``enclen``), base64 on one
unbroken line (indiserver encodes the driver's shared buffer itself); after ``Never`` the driver
still produces the next image (indiserver logs ``read <setBLOBVector ...>``) but queues nothing
to us: no ``setBLOBVector`` at all comes down, not even an empty one, while ``CCD_EXPOSURE``
goes Busy then Ok as before. But on a chained connection (one that asked for all devices, as a
chained server does) indiserver keeps one mode for all devices: an ``enableBLOB`` without a
property name sets the mode of every device (and overrides per-property ones), the last one
winning; one with a ``name`` sets that property's, whatever the connection-wide mode. A
device-wide ``Never`` for one camera stopped the other camera's images too; re-sending the
``Also`` still needed after it kept them coming but left indiserver sending the first camera's
images up the chain as well. Hence per-property modes only (remoteblobs.py). indiserver also
keeps a per-property mode across the driver's ``delProperty`` of that property (the CCD deletes
``CCD1`` when disconnected and defines it again on connect).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TypeVar

import pytest
from peers import IndiServer
from peers import connect
from peers import enable_blob
from peers import find_binary
from peers import hello
from peers import new_number
from peers import switch_on

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver.server import IPyServer

T = TypeVar("T")
CCD = "CCD Simulator"
ALSO = enable_blob(CCD)
CONNECT = connect(CCD)
CCD1_ALSO = enable_blob(CCD, "Also", "CCD1")  # indi_getprop's
DISCONNECT = connect(CCD, on=False)
HELLO = hello()
EXPOSE = new_number(CCD, "CCD_EXPOSURE", "CCD_EXPOSURE_VALUE", 0.1)


class RecordingProxy:
    """A TCP proxy to 127.0.0.1:`target` recording every byte each way, in arrival order.

    ``up`` is what our server sent to indiserver, ``down`` what indiserver sent back; bytes are
    recorded before they are passed on, so whatever a client of ours has received through us
    is already in ``down``.
    """

    def __init__(self, target: int) -> None:
        self.target = target
        self.up = bytearray()
        self.down = bytearray()
        self.connections = 0
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers.append(up_writer)
        for task in (
            asyncio.create_task(self._pipe(reader, up_writer, self.up)),
            asyncio.create_task(self._pipe(up_reader, writer, self.down)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: bytearray
    ) -> None:
        try:
            while data := await reader.read(1 << 20):
                async with self._changed:
                    record += data
                    self._changed.notify_all()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def wait_up(self, needle: bytes, start: int = 0) -> int:
        """Where `needle` is in ``up`` at or after `start`, waiting for it to be sent."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.up.find(needle, start) >= 0)
        return self.up.find(needle, start)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # A pipe cancelled before it ran never reached its `finally`: its writer is closed
        # here, or its socket was left to the garbage collector (a ResourceWarning that
        # failed whichever later test happened to collect it).
        for writer in self._writers:
            writer.close()


class Client:
    """A bare INDI client of our server, keeping every element it receives."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.frames: list[Frame] = []
        self._framer = Framer()

    @classmethod
    async def connect(cls, port: int, hello: bytes) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(hello)
        return cls(reader, writer)

    def send(self, data: bytes) -> int:
        """Send `data`; returns how many elements had arrived before it."""
        self.writer.write(data)
        return len(self.frames)

    async def until(self, found: Callable[[list[Frame]], bool]) -> None:
        while not found(self.frames):
            chunk = await self.reader.read(1 << 20)
            assert chunk, "our server closed the client"
            self.frames += [f for f in self._framer.feed(chunk) if isinstance(f, Frame)]

    async def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()


def ccd(tag: str, name: str, state: str | None = None) -> Callable[[Frame], bool]:
    return lambda f: (
        f.tag == tag and f.device == CCD and f.name == name
        and (state is None or f.attrs.get("state") == state)
    )


def has(matches: Callable[[Frame], bool], after: int = 0) -> Callable[[list[Frame]], bool]:
    """Some element received after index `after` matches."""
    return lambda frames: any(map(matches, frames[after:]))


def busy_then_ok(after: int) -> Callable[[list[Frame]], bool]:
    """CCD_EXPOSURE went Busy, then Ok, among the elements received after index `after`."""

    def found(frames: list[Frame]) -> bool:
        states = [
            f.attrs.get("state") for f in frames[after:]
            if ccd("setNumberVector", "CCD_EXPOSURE")(f)
        ]
        return "Busy" in states and "Ok" in states[states.index("Busy"):]

    return found


async def within(what: str, step: Awaitable[T], seconds: float = 10.0) -> T:
    """`step`, or a test failure naming what did not happen in time."""
    try:
        return await asyncio.wait_for(step, seconds)
    except TimeoutError:
        pytest.fail(f"no {what} within {seconds:.0f} s", pytrace=False)


def enables_up(proxy: RecordingProxy, start: int = 0) -> list[bytes]:
    """Every enableBLOB we sent up from offset `start`, in order (with the newline after it)."""
    return re.findall(rb"<enableBLOB[^>]*>[^<]*</enableBLOB>\n?", bytes(proxy.up[start:]))


def blob_frames(data: bytes | bytearray) -> list[Frame]:
    frames = Framer().feed(bytes(data))
    return [f for f in frames if isinstance(f, Frame) and f.tag == "setBLOBVector"]


@dataclass
class Chain:
    """indiserver (CCD simulator) <- recording proxy <- our server (port `port`)."""

    remote: IndiServer
    proxy: RecordingProxy
    port: int
    clients: list[Client] = field(default_factory=list)

    async def connect(self, hello: bytes) -> Client:
        """A new client of our server that has sent `hello`; closed at teardown if still open."""
        client = await Client.connect(self.port, hello)
        self.clients.append(client)
        return client

    async def connected_ccd(self, hello: bytes) -> Client:
        """A new client that has connected the CCD and seen CCD_EXPOSURE defined."""
        client = await self.connect(hello)
        connection = has(ccd("defSwitchVector", "CONNECTION"))
        await within("the CCD's CONNECTION", client.until(connection))
        client.send(CONNECT)
        exposure = has(ccd("defNumberVector", "CCD_EXPOSURE"))
        await within("CCD_EXPOSURE defined", client.until(exposure))
        return client


@contextlib.asynccontextmanager
async def chained_above(remote: IndiServer) -> AsyncIterator[Chain]:
    """Our server, its one remote being `remote` reached through a recording proxy."""
    proxy = RecordingProxy(remote.port)
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    server.add_remote("127.0.0.1", await proxy.start())
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(server.asyncrun())
            await asyncio.wait_for(server.started(), 10)
            chain = Chain(remote, proxy, server.port)
            try:
                yield chain
            finally:
                for client in chain.clients:
                    await client.close()
                server.shutdown()
    finally:
        await proxy.close()
    assert proxy.connections == 1, "our server reconnected to the remote"


@pytest.fixture
async def chain(
    indiserver_factory: Callable[..., IndiServer], tmp_home: Path
) -> AsyncIterator[Chain]:
    """indiserver running the CCD simulator, below our server."""
    find_binary("indi_simulator_ccd")
    # -vv: indiserver logs each element it reads from the driver and queues to a client.
    async with chained_above(indiserver_factory("indi_simulator_ccd", verbosity=2)) as chain:
        yield chain


def indiserver_after_last_enable(remote: IndiServer) -> str:
    """indiserver's -vv log from the last enableBLOB it read from us."""
    log = remote.log_text()
    return log[log.rindex("read <enableBLOB device='CCD Simulator'"):]


async def test_blobs_are_enabled_up_the_chain_then_disabled_when_nobody_wants_them(
    chain: Chain,
) -> None:
    proxy = chain.proxy
    # 1. A client that wants the CCD's BLOBs: we ask indiserver for them, property by property,
    #    as the connected CCD defines them.
    first = await chain.connected_ccd(HELLO + ALSO)
    also_at = await within("Also sent up", proxy.wait_up(enable_blob(CCD, "Also", "CCD1")))
    await within("CCD2's Also sent up", proxy.wait_up(enable_blob(CCD, "Also", "CCD2")))
    mark = first.send(EXPOSE)
    await within("the image", first.until(has(ccd("setBLOBVector", "CCD1"), mark)))
    # Also went up before the exposure (passed on as it came, the newline after it aside)
    assert proxy.up.find(EXPOSE.rstrip()) > also_at

    # 2. It leaves: we tell indiserver Never, for each property.
    await first.close()
    await within("Never sent up", proxy.wait_up(enable_blob(CCD, "Never", "CCD2"), also_at))
    down_at_never = len(proxy.down)

    # 3. A client that never asked for BLOBs takes another exposure through us.
    second = await chain.connected_ccd(HELLO)
    mark = second.send(EXPOSE)
    await within("CCD_EXPOSURE Busy then Ok", second.until(busy_then_ok(mark)))
    await second.close()

    # What went up: Also once per BLOB property, before the image; Never once per property,
    # after it; nothing after Never; never an enableBLOB for the whole device.
    assert enables_up(proxy) == [
        enable_blob(CCD, "Also", "CCD1"), enable_blob(CCD, "Also", "CCD2"),
        enable_blob(CCD, "Never", "CCD1"), enable_blob(CCD, "Never", "CCD2"),
    ], bytes(proxy.up)

    # The image came down once, before Never, and reached the first client through us intact.
    (image,) = blob_frames(proxy.down)
    head = re.search(rb"<oneBLOB([^>]*)>([^<]*)</oneBLOB>", image.data)
    assert head is not None, image.data[:300]
    attrs = dict(re.findall(rb'(\w+)="([^"]*)"', head.group(1)))
    assert attrs[b"name"] == b"CCD1" and attrs[b"format"] == b".fits", attrs
    (one_line,) = head.group(2).split()  # indiserver base64-encodes the driver's buffer itself
    raw = base64.b64decode(one_line)
    assert raw.startswith(b"SIMPLE  =") and len(raw) == int(attrs[b"size"]) > 0, attrs
    assert attrs.get(b"len") == attrs[b"size"] and b"enclen" not in attrs  # indiserver 1.9.9's form
    (received,) = [f for f in first.frames if ccd("setBLOBVector", "CCD1")(f)]
    assert received.data == image.data

    # After Never: indiserver sends no setBLOBVector at all, while the exposure is reported.
    after_never = bytes(proxy.down[down_at_never:])
    assert b"<setBLOBVector" not in after_never
    assert re.search(
        rb'<setNumberVector device="CCD Simulator" name="CCD_EXPOSURE" state="Ok"', after_never
    ), after_never[-2000:]
    assert not any(f.tag == "setBLOBVector" for f in second.frames)
    # ... and not because the driver made no image: indiserver read it, and queued it to nobody.
    after = indiserver_after_last_enable(chain.remote)
    assert "read <setBLOBVector device='CCD Simulator' name='CCD1'>" in after, after[-3000:]
    assert "queuing <setBLOBVector" not in after


async def test_a_property_scoped_also_outlives_a_device_wide_one(chain: Chain) -> None:
    """indi_getprop asks per property (``name="CCD1"``), KStars per device. Two such clients:
    the device-wide one leaving lowers only the property the other does not want (CCD2, the
    guide head's image) and the other still gets its images; when that one leaves too, CCD1 is
    lowered and a client that never asked gets no image and makes none come up the chain."""
    proxy = chain.proxy
    controller = await chain.connected_ccd(HELLO)  # connects the CCD; never asks for BLOBs
    # As indi_getprop does: enableBLOB for the property once its defBLOBVector has arrived.
    per_property = await chain.connect(HELLO)
    await within("CCD1 defined", per_property.until(has(ccd("defBLOBVector", "CCD1"))))
    per_property.send(CCD1_ALSO)
    await within("CCD1 Also sent up", proxy.wait_up(CCD1_ALSO))
    device_wide = await chain.connect(HELLO + ALSO)
    await within("CCD2 Also sent up", proxy.wait_up(enable_blob(CCD, "Also", "CCD2")))
    mark = controller.send(EXPOSE)
    await within("the image", device_wide.until(has(ccd("setBLOBVector", "CCD1"))))
    await within("the image", per_property.until(has(ccd("setBLOBVector", "CCD1"))))
    await within("CCD_EXPOSURE Busy then Ok", controller.until(busy_then_ok(mark)))

    # The device-wide client leaves: CCD2 is lowered, the per-property one gets the next image.
    await device_wide.close()
    await within("CCD2 Never sent up", proxy.wait_up(enable_blob(CCD, "Never", "CCD2")))
    mark, seen = per_property.send(EXPOSE), len(controller.frames)
    await within("the second image", per_property.until(has(ccd("setBLOBVector", "CCD1"), mark)))
    # (the controller sees this exposure end too: its next Busy is then the next exposure's)
    await within("CCD_EXPOSURE Busy then Ok", controller.until(busy_then_ok(seen)))
    assert enable_blob(CCD, "Never", "CCD1").rstrip() not in proxy.up, bytes(proxy.up)

    # The last one leaves: CCD1's Never goes up, and no image comes down any more.
    await per_property.close()
    await within("CCD1 Never sent up", proxy.wait_up(enable_blob(CCD, "Never", "CCD1")))
    down_at_never = len(proxy.down)
    mark = controller.send(EXPOSE)
    await within("CCD_EXPOSURE Busy then Ok", controller.until(busy_then_ok(mark)))
    assert enables_up(proxy) == [
        CCD1_ALSO, enable_blob(CCD, "Also", "CCD2"),
        enable_blob(CCD, "Never", "CCD2"), enable_blob(CCD, "Never", "CCD1"),
    ], bytes(proxy.up)
    assert len(blob_frames(proxy.down)) == 2
    assert b"<setBLOBVector" not in proxy.down[down_at_never:]
    assert not any(f.tag == "setBLOBVector" for f in controller.frames)
    after = indiserver_after_last_enable(chain.remote)
    assert "read <setBLOBVector device='CCD Simulator' name='CCD1'>" in after, after[-3000:]
    assert "queuing <setBLOBVector" not in after


async def test_a_mode_told_for_a_deleted_property_is_still_lowered(chain: Chain) -> None:
    """The CCD deletes CCD1 and CCD2 when disconnected and defines them again on connect.
    indiserver keeps our connection's per-property modes across that, so the Alsos told before
    the disconnect are lowered when the client wanting the images leaves while the properties
    are gone, and after the CCD is connected again no image comes up the chain."""
    proxy = chain.proxy
    controller = await chain.connected_ccd(HELLO)  # never asks for BLOBs
    wants = await chain.connect(HELLO + ALSO)
    await within("CCD2 Also sent up", proxy.wait_up(enable_blob(CCD, "Also", "CCD2")))
    controller.send(DISCONNECT)
    await within("CCD1 deleted", wants.until(has(ccd("delProperty", "CCD1"))))
    await wants.close()
    await within("CCD2 Never sent up", proxy.wait_up(enable_blob(CCD, "Never", "CCD2")))

    mark = controller.send(CONNECT)
    await within("CCD1 defined again", controller.until(has(ccd("defBLOBVector", "CCD1"), mark)))
    down_at_connect = len(proxy.down)
    mark = controller.send(EXPOSE)
    await within("CCD_EXPOSURE Busy then Ok", controller.until(busy_then_ok(mark)))
    assert b"<setBLOBVector" not in proxy.down[down_at_connect:]
    after = indiserver_after_last_enable(chain.remote)
    assert "read <setBLOBVector device='CCD Simulator' name='CCD1'>" in after, after[-3000:]
    assert "queuing <setBLOBVector" not in after
    assert enables_up(proxy) == [
        enable_blob(CCD, "Also", "CCD1"), enable_blob(CCD, "Also", "CCD2"),
        enable_blob(CCD, "Never", "CCD1"), enable_blob(CCD, "Never", "CCD2"),
    ], bytes(proxy.up)


# An executable driver serving two cameras, Cam1 and Cam2: each defines SHOOT (a switch) and
# IMG (a BLOB); SHOOT sends the image "<camera>#<n>" (n counts that camera's shots), then SHOOT
# back to Off with state Ok.
TWO_CAMERAS = r"""
import base64, os, re
def defs(cam):
    return (f'<defSwitchVector device="{cam}" name="SHOOT" state="Idle" perm="rw" '
            f'rule="AtMostOne"><defSwitch name="GO">Off</defSwitch></defSwitchVector>\n'
            f'<defBLOBVector device="{cam}" name="IMG" state="Idle" perm="ro">'
            f'<defBLOB name="IMG"/></defBLOBVector>\n').encode()
shots = {"Cam1": 0, "Cam2": 0}
request = re.compile(
    rb"<getProperties[^>]*>|<newSwitchVector device=.(Cam[12]).*?</newSwitchVector>", re.S)
buf = b""
while chunk := os.read(0, 65536):
    buf += chunk
    while m := request.search(buf):
        buf = buf[m.end():]
        if m.group(1) is None:
            os.write(1, defs("Cam1") + defs("Cam2"))
            continue
        cam = m.group(1).decode()
        shots[cam] += 1
        image = f"{cam}#{shots[cam]}".encode()
        os.write(1, (
            f'<setBLOBVector device="{cam}" name="IMG" state="Ok"><oneBLOB name="IMG" '
            f'size="{len(image)}" format=".txt">{base64.b64encode(image).decode()}'
            f'</oneBLOB></setBLOBVector>\n<setSwitchVector device="{cam}" name="SHOOT" '
            f'state="Ok"><oneSwitch name="GO">Off</oneSwitch></setSwitchVector>\n').encode())
"""


def image(camera: str, shot: int) -> Callable[[Frame], bool]:
    """The setBLOBVector carrying `camera`'s image number `shot`."""
    data = base64.b64encode(f"{camera}#{shot}".encode())
    return lambda f: f.tag == "setBLOBVector" and f.device == camera and data in f.data


def images(frames: list[Frame] | bytes | bytearray, camera: str) -> int:
    if not isinstance(frames, list):
        frames = [f for f in Framer().feed(bytes(frames)) if isinstance(f, Frame)]
    return sum(1 for f in frames if f.tag == "setBLOBVector" and f.device == camera)


async def test_a_camera_nobody_wants_stops_sending_while_the_other_goes_on(
    indiserver_factory: Callable[..., IndiServer], tmp_path: Path, tmp_home: Path
) -> None:
    """The bandwidth fix. indiserver sets the BLOB mode of *every* device on a chained connection
    from an enableBLOB without a property name (the last one wins), so two clients of ours each
    wanting one camera's images are told up per property. When the Cam1 client leaves, Cam1's
    IMG alone is told Never: indiserver stops sending Cam1's images up the chain (the driver
    still makes them) while Cam2's still reach the client that wants them. (With the
    device-wide Never then Also re-sent before, Cam1's images kept coming up, for nobody.)"""
    find_binary("indiserver")
    driver = tmp_path / "indi_two_cameras"
    driver.write_text(f"#!{sys.executable}\n{TWO_CAMERAS}")
    driver.chmod(0o755)
    # -vv: indiserver logs each element it reads from the driver and queues to a client.
    async with chained_above(indiserver_factory(str(driver), verbosity=2)) as chain:
        proxy = chain.proxy
        controller = await chain.connect(HELLO)  # takes the pictures; never asks for BLOBs
        for camera in ("Cam1", "Cam2"):
            await within(f"{camera} defined", controller.until(has(
                lambda f, cam=camera: f.tag == "defBLOBVector" and f.device == cam)))

        async def take(camera: str) -> None:
            """`camera` takes a picture; the controller sees it done (so the image, sent
            before, has come down)."""
            mark = controller.send(switch_on(camera, "SHOOT", "GO"))
            done = has(lambda f: f.tag == "setSwitchVector" and f.device == camera, mark)
            await within(f"{camera} SHOOT done", controller.until(done))

        # (The waits below look for an enableBLOB naming the camera, whatever its form: what
        # indiserver does is asserted first, the exact bytes we sent up last.)
        wants1 = await chain.connect(HELLO + enable_blob("Cam1", "Also"))
        wants2 = await chain.connect(HELLO + enable_blob("Cam2", "Also"))
        await within("Also for Cam1", proxy.wait_up(b'<enableBLOB device="Cam1"'))
        await within("Also for Cam2", proxy.wait_up(b'<enableBLOB device="Cam2"'))
        await take("Cam1")
        await take("Cam2")
        await within("Cam1's image", wants1.until(has(image("Cam1", 1))))
        await within("Cam2's image", wants2.until(has(image("Cam2", 1))))

        # The Cam1 client leaves: Never for Cam1's IMG goes up.
        up_at_leave = len(proxy.up)
        await wants1.close()
        await within("Never for Cam1", proxy.wait_up(b'<enableBLOB device="Cam1"', up_at_leave))
        log_before = len(chain.remote.log_text())
        down_before = len(proxy.down)
        await take("Cam1")
        await take("Cam2")
        await within("Cam2's next image", wants2.until(has(image("Cam2", 2))))
        await take("Cam1")
        await take("Cam2")
        await within("Cam2's third image", wants2.until(has(image("Cam2", 3))))
        # indiserver sends no more of Cam1's images up the chain: the driver made two, and
        # indiserver read them and queued them to nobody ...
        after = proxy.down[down_before:]
        assert images(after, "Cam1") == 0 and images(after, "Cam2") == 2
        log = chain.remote.log_text()[log_before:]
        assert "read <setBLOBVector device='Cam1'" in log, log[-3000:]
        assert "queuing <setBLOBVector device='Cam1'" not in log, log[-3000:]
        # ... and nobody here was given one.
        assert images(wants2.frames, "Cam1") == 0 and images(controller.frames, "Cam1") == 0

        # The last one leaves: one Never, and no image comes up any more.
        up_before = len(proxy.up)
        await wants2.close()
        await within("Never for Cam2", proxy.wait_up(b'<enableBLOB device="Cam2"', up_before))
        down_before = len(proxy.down)
        await take("Cam1")
        await take("Cam2")
        after = proxy.down[down_before:]
        assert images(after, "Cam1") == images(after, "Cam2") == 0

        # What went up: one Also per camera's IMG; when the Cam1 client left, Cam1's Never and
        # nothing else; when the last left, Cam2's Never. Never an enableBLOB for a whole device.
        assert enables_up(proxy) == [
            enable_blob("Cam1", "Also", "IMG"), enable_blob("Cam2", "Also", "IMG"),
            enable_blob("Cam1", "Never", "IMG"), enable_blob("Cam2", "Never", "IMG"),
        ], bytes(proxy.up)
