"""Helpers for the Alpaca face's tests: our server with the face, run on a thread of its own
so that alpyca (a blocking `requests` client) can talk to it from the test."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Self

from alpaca import management
from peers import free_port
from waiting import wait_for

from indipyserver import IPyServer


def free_udp_port() -> int:
    """A UDP port free a moment ago (tests never take the real discovery port, 32227)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(make: Callable[[], IPyServer]) -> Iterator[IPyServer]:
    """Run the server `make` builds (on the thread's loop) until the block ends."""
    box: dict[str, IPyServer] = {}
    ready = threading.Event()
    failed: list[BaseException] = []

    async def main() -> None:
        server = box["server"] = make()
        task = asyncio.create_task(server.asyncrun())
        waiting = asyncio.create_task(server.started())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        ready.set()
        await task

    def thread() -> None:
        try:
            asyncio.run(main())
        except Exception as exc:  # noqa: BLE001 -- raised again on the test's thread
            failed.append(exc)
            ready.set()

    runner = threading.Thread(target=thread, daemon=True)
    runner.start()
    assert ready.wait(30), "the server did not start"
    if failed:
        raise failed[0]
    server = box["server"]
    try:
        yield server
    finally:
        server.shutdown()
        runner.join(30)
        assert not runner.is_alive(), "the server did not stop"


def number_of(address: str, name: str, dtype: str) -> int:
    """The Alpaca device number of INDI device `name` as a `dtype` (``Camera``), once the
    face's management API lists it (within 20 s)."""
    def find() -> int | None:
        for device in management.configureddevices(address):
            if device["DeviceName"] == name and device["DeviceType"] == dtype:
                return int(device["DeviceNumber"])
        return None

    wait_for(lambda: find() is not None, 20, f"{dtype} {name}")
    found = find()
    assert found is not None
    return found


def alpaca_server(*drivers: object, registry: Path, exdrivers: tuple[str, ...] = (),
                  discovery: int = 0, process: bool = False) -> Callable[[], IPyServer]:
    """A factory of our server with `drivers` (in-process) and `exdrivers` (executables),
    serving Alpaca on a free port (from a process of its own with `process`)."""
    indi_port, alpaca_port = free_port(), free_port()

    def make() -> IPyServer:
        server = IPyServer(*drivers, port=indi_port, handle_signals=False)
        server.serve_alpaca(alpaca_port, discovery=discovery, registry=str(registry),
                            process=process)
        for program in exdrivers:
            server.add_exdriver(program)
        return server

    return make


class BlobCatcher:
    """An INDI client of its own (indipyclient, on a thread) that saves `device`'s CCD1
    images: the independent copy of the image the face serves."""

    def __init__(self, port: int, device: str, folder: Path) -> None:
        self.port, self.device, self.folder = port, device, folder
        folder.mkdir(parents=True, exist_ok=True)
        self.files: list[str] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        import indipyclient
        from indipycore.protocol import BLOBEnable

        async with indipyclient.connect("127.0.0.1", self.port, self.folder) as client:
            client.connection.default_blob_mode = BLOBEnable.NEVER
            await client.wait_for(self.device, "CCD1", timeout=20)
            await client.send_enableBLOB(BLOBEnable.ALSO, self.device, "CCD1")
            await client.send_getProperties(self.device, "CCD1")  # a round trip: enabled
            self._ready.set()
            while not self._stop.is_set():
                member = client.vector(self.device, "CCD1").member("CCD1")
                if member.filename and member.filename not in self.files:
                    self.files.append(member.filename)
                await asyncio.sleep(0.02)

    def __enter__(self) -> Self:
        self._thread.start()
        assert self._ready.wait(30), "the catcher did not see CCD1"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
