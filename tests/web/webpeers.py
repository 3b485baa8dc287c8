"""Real peers for the web client's tests: our INDI server in a thread, serving an in-process test
driver with every vector kind (and, for the camera test, indilib's CCD simulator), and the web
app served by uvicorn in another thread for the browser.

Nothing on the INDI side is faked: the web app talks INDI over TCP to `IPyServer`, and the test
driver records what it really received.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Callable
from collections.abc import Coroutine
from pathlib import Path
from typing import Any
from typing import Self

import uvicorn
from peers import free_port
from starlette.testclient import TestClient
from waiting import wait_for  # the one polling helper; the web tests import it from here

import indipydriver as ipd
import indipyweb.users
from indipyserver import IPyServer
from indipyweb.app import make_app

DEVICE = "WebTest"
PASSWORDS = {"admin": "admin-password", "op": "operator-password", "view": "viewer-password"}
ROLES = {"admin": "admin", "op": "operator", "view": "viewer"}


class WebTestDriver(ipd.IPyDriver):
    """Answers every client set with the values, state Ok (the switch vectors named in
    ``driverdata["momentary"]`` with every switch Off); records what it received."""

    async def rxevent(self, event: ipd.RxEvent) -> None:
        if not isinstance(event, (ipd.newNumberVector, ipd.newSwitchVector, ipd.newTextVector,
                                  ipd.newBLOBVector)):
            return
        received: list[tuple[str, dict[str, Any]]] = self.driverdata["received"]
        values = dict(event)
        if isinstance(event, ipd.newNumberVector):  # 3.x-compatible events carry the text
            values = {name: float(value) for name, value in values.items()}
        if isinstance(event, ipd.newBLOBVector):
            values = {name: (event[name], *event.sizeformat[name]) for name in event}
        received.append((event.vectorname or "", values))
        vector = event.vector
        if isinstance(event, ipd.newBLOBVector):
            vector.state = "Ok"
            await vector.send_setVector(message=f"got {len(values)} file(s)")
            return
        for name, value in event.items():
            vector[name] = value
        if event.vectorname in self.driverdata.get("momentary", ()):  # a push button's
            for name in vector:  # answer: done, every switch Off again (a batch's START)
                vector[name] = "Off"
        if isinstance(event, ipd.newSwitchVector) and vector.rule == "OneOfMany":
            chosen = [name for name, value in event.items() if value == "On"]
            for name in vector:
                vector[name] = "On" if name in chosen[:1] else "Off"
        vector.state = "Ok"
        await vector.send_setVector()

    async def hardware(self) -> None:
        await asyncio.Event().wait()


def make_test_driver() -> WebTestDriver:
    vectors = [
        ipd.NumberVector("LEVEL", "Level", "Main", "rw", "Idle", [
            ipd.NumberMember("LEVEL", "Level (%)", "%.2f", "0", "100", "0.5", membervalue=50),
            ipd.NumberMember("RA", "Right ascension", "%10.6m", "0", "24", "0", membervalue=1.5),
        ]),
        ipd.NumberVector("READING", "Reading", "Main", "ro", "Ok", [
            ipd.NumberMember("VALUE", "Value", "%.3f", "0", "0", "0", membervalue=0.0),
        ]),
        ipd.SwitchVector("MODE", "Mode", "Main", "rw", "OneOfMany", "Ok", [
            ipd.SwitchMember("FAST", "Fast", membervalue="On"),
            ipd.SwitchMember("SLOW", "Slow", membervalue="Off"),
        ]),
        ipd.SwitchVector("OPTIONS", "Options", "Settings", "rw", "AnyOfMany", "Idle", [
            ipd.SwitchMember("DITHER", "Dither", membervalue="Off"),
            ipd.SwitchMember("GUIDE", "Guide", membervalue="Off"),
        ]),
        ipd.SwitchVector("LAMP", "Lamp", "Settings", "rw", "AtMostOne", "Idle", [
            ipd.SwitchMember("ON", "Lamp on", membervalue="Off"),
        ]),
        ipd.LightVector("STATUS", "Status", "Main", "Ok", [
            ipd.LightMember("POWER", "Power", membervalue="Ok"),
            ipd.LightMember("FAULT", "Fault", membervalue="Alert"),
        ]),
        ipd.TextVector("NOTE", "Note", "Settings", "rw", "Idle", [
            ipd.TextMember("TEXT", "Text", membervalue="hello"),
        ]),
        ipd.BLOBVector("UPLOAD", "Upload", "Settings", "rw", "Idle", [
            ipd.BLOBMember("FILE", "File"),
        ]),
        ipd.NumberVector("DOOMED", "Doomed", "Main", "ro", "Idle", [
            ipd.NumberMember("X", "X", "%.1f", "0", "0", "0", membervalue=1.0),
        ]),
    ]
    # standard=False: the pages the browser tests click through show these groups alone
    # (a device's standard vectors are the driver's business, tested in tests/standard).
    return WebTestDriver(ipd.Device(DEVICE, vectors, standard=False), received=[])


class ServerThread:
    """`IPyServer` on its own event loop in a thread; `call` runs a coroutine there."""

    def __init__(self, port: int, driver: ipd.IPyDriver | None = None,
                 exdrivers: tuple[str, ...] = (), unix_path: str | None = None,
                 others: tuple[ipd.IPyDriver, ...] = ()) -> None:
        self.port = port
        self.unix_path = unix_path  # its Unix socket too (``-u``), when given
        self.driver = driver
        self.others = others  # more in-process drivers beside `driver` (an agent's devices)
        self.exdrivers = exdrivers
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: IPyServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.error: BaseException | None = None

    def start(self) -> ServerThread:
        self._ready.clear()
        self._thread = threading.Thread(target=self._main, name="indi server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the INDI server did not start: {self.error!r}")
        return self

    def _main(self) -> None:
        async def serve() -> None:
            drivers = [self.driver] if self.driver is not None else []
            drivers.extend(self.others)
            self.server = IPyServer(*drivers, port=self.port, handle_signals=False)
            if self.unix_path is not None:
                self.server.listen_unix(self.unix_path)
            for program in self.exdrivers:
                self.server.add_exdriver(program)
            self.loop = asyncio.get_running_loop()
            task = asyncio.create_task(self.server.asyncrun())
            await self.server.started()
            self._ready.set()
            await task

        try:
            asyncio.run(serve())
        except BaseException as exc:  # noqa: BLE001  (reported by start() and stop())
            self.error = exc
            self._ready.set()

    def call(self, make: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 10) -> Any:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(make(), self.loop).result(timeout)

    def stop(self) -> None:
        if self.server is not None and self._thread is not None:
            self.server.shutdown()
            self._thread.join(15)
            self._thread = None
            if self.error is not None:
                raise RuntimeError("the INDI server failed") from self.error


def login(client: TestClient, user: str) -> str:
    """Log `user` in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    answer = client.post("/login", data={"username": user, "password": PASSWORDS[user],
                                         "csrf_token": token.group(1)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    session = client.get("/api/session").json()
    csrf: str = session["csrf"]
    return csrf


def received(indi: ServerThread) -> list[tuple[str, dict[str, Any]]]:
    assert indi.driver is not None
    result: list[tuple[str, dict[str, Any]]] = indi.driver.driverdata["received"]
    return result


# -- the two sources the HTTP tests run on ----------------------------------------------------


class RealBackend:
    """The app on a `ClientSource` (make_app's default) over TCP to `IPyServer` and the test
    driver, which records what it received and sends sets when told."""

    kind = "real"

    def __init__(self, server: ServerThread) -> None:
        self.server = server
        self.port = server.port

    def source(self) -> Any:
        return None  # make_app connects to indihost:indiport itself

    def started(self, client: TestClient) -> None:
        pass

    def received(self) -> list[tuple[str, dict[str, Any]]]:
        return received(self.server)

    def send_set(self, vector: str, **values: Any) -> None:
        """The driver sets `values` and sends its setXXXVector."""
        driver = self.server.driver
        assert driver is not None

        async def send() -> None:
            vec = driver[DEVICE][vector]
            for name, value in values.items():
                vec[name] = value
            await vec.send_setVector()

        self.server.call(send)


class MemoryBackend:
    """The app on `indipyweb.memorysource.MemorySource` (no socket), holding the same device as
    the test driver (its definitions, as the driver writes them)."""

    kind = "memory"
    port = 7624

    def __init__(self) -> None:
        from indipyweb.memorysource import MemorySource

        self.memory = MemorySource("localhost", self.port)
        self.client: TestClient | None = None

    def source(self) -> Any:
        return self.memory

    def started(self, client: TestClient) -> None:
        self.client = client
        device = make_test_driver()[DEVICE]
        xml = b"".join(vec._def_bytes("", None) for vec in device.values())  # the driver writes its own definitions
        self._on_loop(self.memory.receive, xml)

    def _on_loop(self, func: Callable[..., Any], *args: Any) -> Any:
        assert self.client is not None and self.client.portal is not None
        return self.client.portal.call(func, *args)

    def received(self) -> list[tuple[str, dict[str, Any]]]:
        from indipyweb.source import BlobUpload

        out = []
        for _, vector, values in self.memory.sent:
            out.append((vector, {name: (v.data, len(v.data), v.format)
                                 if isinstance(v, BlobUpload) else v
                                 for name, v in values.items()}))
        return out

    def send_set(self, vector: str, **values: Any) -> None:
        """What the driver would send: a setXXXVector with `values`, state Ok."""
        from indipycore.protocol.enums import State
        from indipycore.protocol.events import Number
        from indipycore.protocol.events import SetNumberVector
        from indipycore.protocol.events import SetTextVector
        from indipycore.protocol.events import Text

        vec = self.memory.vector(DEVICE, vector)
        assert vec is not None
        event: Any
        if vec["vectortype"] == "NumberVector":
            event = SetNumberVector(DEVICE, vector, tuple(
                Number(n, value=str(v)) for n, v in values.items()), state=State.OK)
        else:
            event = SetTextVector(DEVICE, vector, tuple(
                Text(n, value=str(v)) for n, v in values.items()), state=State.OK)
        self._on_loop(self.memory.apply, event)


Backend = RealBackend | MemoryBackend


class WebThread:
    """The app served by uvicorn in a thread, as a browser would reach it."""

    def __init__(self, indiport: int, dbfolder: Path, blobfolder: Path,
                 port: int | None = None, **options: Any) -> None:
        self.port = port or free_port()
        self.app = make_app(indiport=indiport, dbfolder=dbfolder, blobfolder=blobfolder,
                            set_timeout=5.0, **options)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="indipyweb", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=10, what="uvicorn")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class HeldHashes:
    """Wraps `hash_password`: records where each hash ran and, once `hold` is set, waits for
    `go` before hashing."""

    def __init__(self) -> None:
        self.real = indipyweb.users.hash_password
        self.hold = threading.Event()
        self.go = threading.Event()
        self.lock = threading.Lock()
        self.ran: list[tuple[str, bool]] = []  # (thread name, a running loop in that thread)
        self.native: list[tuple[int, int]] = []  # (native thread id, its nice value)
        self.waiting = 0
        self.in_flight = 0
        self.most_in_flight = 0

    def __call__(self, password: str, salt: bytes) -> bytes:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        tid = threading.get_native_id()
        with self.lock:
            self.ran.append((threading.current_thread().name, on_loop))
            self.native.append((tid, os.getpriority(os.PRIO_PROCESS, tid)))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hold.is_set():
                with self.lock:
                    self.waiting += 1
                assert self.go.wait(60), "the test never let the hashes go"
            return self.real(password, salt)
        finally:
            with self.lock:
                self.in_flight -= 1
