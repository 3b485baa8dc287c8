"""An in-process Python driver's BLOBs as memory files, under ``python -m indipyserver``.

The rig (tests/interop/baseclient/rig.py, an `IPyDriver`) runs inside the server
(``--driver-script``, a file that is not executable), which listens on TCP and on a Unix socket
(``-u``). While a client there takes its BLOBs the driver puts each image in a memfd and the
server passes that memfd to the Unix-socket clients, as a C driver's: nothing is base64-encoded
for them anywhere. Protects, with real peers: (a) a raw Unix-socket client (``recvmsg``) gets
the element attached and a memfd of exactly the driver's bytes; (b) libindiclient 1.9.9 on the
Unix socket (``localhost:PATH``, the BaseClient probe, compiled here) gets them intact; (c) a
TCP client and ``indi_getprop`` get base64 the server encoded from the memfd (``len`` kept),
decoding to those bytes; (d) the server process holds no memfd of the driver's once the clients
have theirs. Without a Unix client taking BLOBs the driver encodes inline, as before (no
``len``). The peers are required: a missing one fails the test.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from peers import BaseClientProbe
from peers import OurServer
from peers import baseclient_probe
from peers import getprop
from serverkit import open_memfds
from waiting import until

import indipyclient

BASECLIENT = Path(__file__).resolve().parent / "baseclient"
sys.path.insert(0, str(BASECLIENT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rig import DEVICE
from rig import blob_bytes
from test_python_driver_memfd_blobs import RawClient
from test_python_driver_memfd_blobs import attrs_of
from test_python_driver_memfd_blobs import blob_request
from test_python_driver_memfd_blobs import probe_takes_two_images
from test_python_driver_memfd_blobs import tcp_and_unix_clients

SIZE = 1_500_000
#: The driver's memfds, and the server's duplicates of them: one process here.
MEMFD = "memfd:indipydriver-blob"


def write_script(folder: Path) -> Path:
    """The rig as an in-process driver script (not executable: loaded by the server)."""
    path = folder / "rig_inprocess.py"
    path.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(BASECLIENT)!r})\n"
        "import rig\n"
        f"driver = rig.make_driver(Path({str(folder / 'rxlog.jsonl')!r}))\n"
    )
    return path


def server_memfds(server: OurServer) -> list[str]:
    assert server.process is not None
    return open_memfds(server.process.pid, MEMFD)


async def no_memfds_left(server: OurServer) -> None:
    await until(lambda: not server_memfds(server), 10,
                lambda: f"the server's memfds closed: {server_memfds(server)}")


@pytest.fixture
def inprocess_server(tmp_path: Path, tmp_home: Path,
                     our_server: Callable[..., OurServer]) -> OurServer:
    return our_server(str(write_script(tmp_path)))


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exits:
        yield exits


async def test_a_unix_client_gets_the_memfd_and_a_tcp_client_base64(
    inprocess_server: OurServer, stack: AsyncExitStack,
) -> None:
    """(a), (c), (d): two 1.5 MB BLOBs; the raw Unix client gets each attached with one
    memfd of exactly the driver's bytes, the TCP client base64 of them with the driver's
    ``len`` (the server encoded the memfd), each before the BLOB_COUNT sent after it; once
    both have them the server holds no memfd of the driver's."""
    server = inprocess_server
    tcp, unix = await tcp_and_unix_clients(server, stack)
    for seed in (3, 4):
        expected = blob_bytes(SIZE, seed)
        await tcp.send(blob_request(SIZE, seed))
        frame, data, fds = await unix.image()
        attrs = attrs_of(frame)
        assert attrs.get("attached") == "true" and fds == 1, attrs
        assert data == expected, len(data)
        assert attrs.get("len") == str(SIZE), attrs
        await unix.next("setNumberVector", "BLOB_COUNT")
        frame, data, fds = await tcp.image()
        assert data == expected and fds == 0
        attrs = attrs_of(frame)
        assert "attached" not in attrs and "enclen" not in attrs, attrs
        assert (attrs["size"], attrs["format"], attrs.get("len")) == (str(SIZE), ".bin",
                                                                      str(SIZE)), attrs
        await tcp.next("setNumberVector", "BLOB_COUNT")
    await no_memfds_left(server)


async def test_with_only_a_tcp_client_the_driver_encodes_inline(
    inprocess_server: OurServer, stack: AsyncExitStack,
) -> None:
    """No client takes memory files: the driver encodes itself (no ``len``, the mark of
    inline base64), and no memfd is made."""
    tcp = await RawClient.tcp(inprocess_server.port)
    stack.callback(tcp.close)
    await tcp.next("defNumberVector", "BLOB_REQUEST")
    await tcp.send(blob_request(SIZE, 9))
    frame, data, _ = await tcp.image()
    assert data == blob_bytes(SIZE, 9)
    assert "len" not in attrs_of(frame)
    await no_memfds_left(inprocess_server)


@pytest.fixture(scope="module")
def probe_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The BaseClient probe (libindiclient 1.9.9), compiled once for this module."""
    return baseclient_probe(tmp_path_factory)


async def test_libindiclient_on_the_unix_socket_maps_the_drivers_memfd(
    inprocess_server: OurServer, probe_binary: Path, tmp_path: Path, stack: AsyncExitStack,
) -> None:
    """(b), (d): libindiclient 1.9.9 on ``localhost:PATH`` reports each BLOB's size, length
    and bytes (FNV-1a of what the driver sent), then the BLOB_COUNT sent after it; no memfd
    is left in the server once it has them. A TCP client watching sees ``len``: the driver
    attached the image because the probe takes it."""
    server = inprocess_server
    tcp = await RawClient.tcp(server.port)
    stack.callback(tcp.close)
    probe = BaseClientProbe(probe_binary, 1, host=f"localhost:{server.socket_path}",
                            log_path=tmp_path / "probe.log")
    stack.push_async_callback(probe.close)

    async def tcp_sees_len(seed: int) -> None:
        frame, data, _ = await tcp.image()
        assert data == blob_bytes(SIZE, seed) and attrs_of(frame).get("len") == str(SIZE)

    await probe_takes_two_images(probe, tcp_sees_len)
    await no_memfds_left(server)


async def test_indi_getprop_saves_the_drivers_bytes_while_a_unix_client_takes_the_memfd(
    inprocess_server: OurServer, tmp_path: Path, stack: AsyncExitStack,
) -> None:
    """(c), (d): indi_getprop (TCP) waits for the next IMAGE and saves it: its file is the
    driver's bytes, from the base64 the server encoded while the Unix client got the memfd.
    BLOBs are asked for until indi_getprop has one (it enables BLOBs once it has seen the
    vector)."""
    server = inprocess_server
    unix = await RawClient.unix(server.socket_path)
    stack.callback(unix.close)
    await unix.next("defNumberVector", "BLOB_REQUEST")
    saved = tmp_path / "getprop"
    saved.mkdir()
    fetch = asyncio.create_task(asyncio.to_thread(
        getprop, server.port, f"{DEVICE}.IMAGE.FRAME", timeout=30, cwd=saved))
    stack.callback(fetch.cancel)
    expected = blob_bytes(SIZE, 11)
    while not fetch.done():
        await unix.send(blob_request(SIZE, 11))
        frame, data, fds = await unix.image()
        assert attrs_of(frame).get("attached") == "true" and fds == 1 and data == expected
        await unix.next("setNumberVector", "BLOB_COUNT")
    result = await fetch
    assert result.result.returncode == 0, result.result.describe()
    assert (saved / f"{DEVICE}.IMAGE.FRAME.bin").read_bytes() == expected
    await no_memfds_left(server)


async def test_our_client_on_the_unix_socket_takes_the_in_process_drivers_memfds(
    inprocess_server: OurServer, stack: AsyncExitStack,
) -> None:
    """Python at both ends, no base64 anywhere: our client library on ``localhost:PATH``
    enables the rig's BLOBs, so the in-process driver attaches them; the client gets the
    driver's bytes from the memfds (``attached_received``), and a TCP client watching sees
    ``len`` on the base64 the server encoded for it. No memfd is left in the server."""
    server = inprocess_server
    tcp = await RawClient.tcp(server.port)
    stack.callback(tcp.close)
    await tcp.next("defNumberVector", "BLOB_REQUEST")
    client = await stack.enter_async_context(
        indipyclient.connect(f"localhost:{server.socket_path}", 0, connect_timeout=15))
    await client.wait_for(DEVICE, "IMAGE", timeout=15)
    await client.send_enableBLOB("Also", DEVICE)
    events = client.events()
    for n, seed in enumerate((7, 8), start=1):
        await client.set(DEVICE, "BLOB_REQUEST", {"SIZE": SIZE, "SEED": seed}, wait=False)
        async with asyncio.timeout(15):
            async for event in events:
                if event.eventtype == "SetBLOB" and event.vectorname == "IMAGE":
                    assert event["FRAME"] == blob_bytes(SIZE, seed)
                    break
        assert client.connection.attached_received == n
        frame, data, _ = await tcp.image()
        assert data == blob_bytes(SIZE, seed) and attrs_of(frame).get("len") == str(SIZE)
    await no_memfds_left(server)
