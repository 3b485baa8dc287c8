"""PyIndi's own behaviour, against our server with the demo thermostat (in this process) and
against libindi's headers (Debian libindi-dev, installed by scripts/run-tests).

The programs in tests/interop/pyindi_scripts run against indilib's simulators; these tests pin
what those cannot see from outside: the numbers equal libindi's, the threads the callbacks run
on, each event told once, a raising callback logged, a refused value logged and not sent, a
failed connect, and the disconnect reported once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from peers import BASECLIENT_HINT
from peers import free_port
from serverkit import Gadget
from serverkit import make_gadget
from tlskit import Pki
from waiting import until

import PyIndi
from indipycore.tls import client_context
from indipydriver import BLOBMember
from indipydriver import BLOBVector
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import newBLOBVector
from indipyserver import IPyServer
from indipyserver.demo import make_driver

HEADERS = Path("/usr/include/libindi")


def enum_value(expr: str, known: dict[str, float]) -> int:
    """An enumerator's value as libindi writes them: ``8``, ``-1``, ``(1 << 3)``, ``A | B``."""
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1].strip()
    if "|" in expr:
        result = 0
        for part in expr.split("|"):
            result |= enum_value(part, known)
        return result
    if "<<" in expr:
        left, right = expr.split("<<")
        return enum_value(left, known) << enum_value(right, known)
    return int(known[expr]) if expr in known else int(expr, 0)


def header_enums() -> dict[str, float]:
    """NAME -> value for the enumerators and #defines PyIndi copies, read from libindi."""
    found: dict[str, float] = {}
    for name in ("indiapi.h", "indibasetypes.h", "basedevice.h", "indidevapi.h", "indibase.h"):
        path = HEADERS / name
        if not path.is_file():
            pytest.fail(f"{path} not found: {BASECLIENT_HINT}", pytrace=False)
        text = path.read_text()
        defines = r"^#define\s+(INDIV|INDI_VERSION_\w+|MAXINDI\w+|MAXRBUF)\s+([0-9.]+)"
        for key, value in re.findall(defines, text, re.MULTILINE):
            found[key] = float(value) if "." in value else int(value)
        for body in re.findall(r"enum\s*\w*\s*\{(.*?)\}", text, re.DOTALL):
            body = re.sub(r"/\*.*?\*/|//[^\n]*", "", body, flags=re.DOTALL)
            value = -1
            for item in (i.strip() for i in body.split(",")):
                if not item:
                    continue
                key, _, expr = item.partition("=")
                key = key.strip()
                if expr.strip():
                    expr = expr.strip()
                    value = enum_value(expr, found)
                else:
                    value += 1
                found[key] = value
    return found


def test_constants_are_libindis() -> None:
    """Every state, permission, rule, BLOB mode, type, error, pixel format, axis, direction and
    size limit has libindi's value, and the interface bits on BaseDevice too."""
    headers = header_enums()
    names = [n for n in PyIndi.constants.__all__ if n != "INDIV"
             and not n.startswith("INDI_VERSION")]
    assert len(names) > 50
    for name in names:
        assert getattr(PyIndi, name) == headers[name], name
    assert PyIndi.INDIV == headers["INDIV"]
    newer = {"OUTPUT_INTERFACE", "INPUT_INTERFACE", "POWER_INTERFACE"}  # libindi 2.x only:
    # tests/interop/test_pyindi_client_compare.py checks them against pyindi-client 2.x.
    for name, bits in PyIndi.constants.INTERFACES.items():
        assert getattr(PyIndi.BaseDevice, name) == bits, name
        assert bits == headers[name] if name not in newer else name not in headers, name


@pytest.fixture
async def thermostat() -> AsyncIterator[int]:
    """Our server with the demo thermostat, in this process; its port."""
    server = IPyServer(make_driver(interval=0.5), host="127.0.0.1", port=free_port(),
                       handle_signals=False)
    task = asyncio.create_task(server.asyncrun())
    await asyncio.wait_for(server.started(), 10)
    try:
        yield server.port
    finally:
        server.shutdown()
        await asyncio.wait_for(task, 15)


class Recorder(PyIndi.BaseClient):
    """Records each callback with the thread it ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any, str]] = []
        self.raise_in: str | None = None

    def _record(self, name: str, arg: Any) -> None:
        self.calls.append((name, arg, threading.current_thread().name))
        if name == self.raise_in:
            raise RuntimeError(f"the program's {name} failed")

    def newDevice(self, device: PyIndi.BaseDevice) -> None:
        self._record("newDevice", device.getDeviceName())

    def newProperty(self, prop: PyIndi.Property) -> None:
        self._record("newProperty", prop.getName())

    def updateProperty(self, prop: PyIndi.Property) -> None:
        self._record("updateProperty", prop.getName())

    def serverConnected(self) -> None:
        self._record("serverConnected", None)

    def serverDisconnected(self, exit_code: int) -> None:
        self._record("serverDisconnected", exit_code)

    def named(self, name: str) -> list[Any]:
        return [arg for call, arg, _ in self.calls if call == name]


async def connected(port: int, client: Recorder | None = None) -> Recorder:
    client = client or Recorder()
    client.setServer("127.0.0.1", port)
    assert await asyncio.to_thread(client.connectServer)
    await until(lambda: client.getDevice("Thermostat").getNumber("TARGET"), what="TARGET")
    return client


async def test_callbacks_run_once_each_on_one_background_thread(thermostat: int) -> None:
    """serverConnected has run when connectServer returns; every callback runs on the same
    thread, not the caller's; each property is told once (newProperty), the device once."""
    client = await connected(thermostat)
    try:
        assert client.calls[0][0] == "serverConnected"
        await until(lambda: "SITE" in client.named("newProperty"), what="SITE defined")
        await until(lambda: "TEMPERATURE" in client.named("updateProperty"), what="an update")
        threads = {thread for _, _, thread in client.calls}
        assert len(threads) == 1 and threading.current_thread().name not in threads
        assert client.named("newDevice") == ["Thermostat"]
        names = client.named("newProperty")
        assert len(names) == len(set(names))
        assert {"TEMPERATURE", "TARGET", "HEATER_MODE", "HEATER", "SITE"} <= set(names)
    finally:
        await asyncio.to_thread(client.disconnectServer)


async def test_a_raising_callback_is_logged_and_the_next_one_runs(
        thermostat: int, caplog: pytest.LogCaptureFixture) -> None:
    """newProperty raises every time: each is logged with its traceback, and later callbacks
    still arrive; the connection stays up."""
    client = Recorder()
    client.raise_in = "newProperty"
    with caplog.at_level(logging.ERROR, logger="PyIndi.baseclient"):
        await connected(thermostat, client)
        await until(lambda: "TEMPERATURE" in client.named("updateProperty"), what="an update")
    try:
        raised = [r for r in caplog.records if "callback newProperty" in r.getMessage()]
        assert len(raised) == len(client.named("newProperty")) >= 5
        assert raised[0].exc_info is not None and "program's newProperty failed" in str(
            raised[0].exc_info[1])
        assert client.isServerConnected()
    finally:
        await asyncio.to_thread(client.disconnectServer)


async def test_a_refused_value_is_logged_and_not_sent(
        thermostat: int, caplog: pytest.LogCaptureFixture) -> None:
    """A number outside min..max is not sent (the driver never sees it, the property is not
    marked Busy); the error names the element. A good value then goes through."""
    client = await connected(thermostat)
    try:
        target = client.getDevice("Thermostat").getNumber("TARGET")
        assert (target[0].getMin(), target[0].getMax(), target[0].getStep()) == (-20, 40, 0.5)
        with caplog.at_level(logging.ERROR, logger="PyIndi.baseclient"):
            target[0].setValue(99)
            await asyncio.to_thread(client.sendNewNumber, target)
        assert any("Thermostat.TARGET.TARGET" in r.getMessage() and "outside" in r.getMessage()
                   for r in caplog.records)
        assert target.getState() == PyIndi.IPS_OK
        target[0].value = 21.5
        await asyncio.to_thread(client.sendNewNumber, target)
        await until(lambda: target.getState() == PyIndi.IPS_OK and target[0].value == 21.5,
                    what="the driver's answer")
    finally:
        await asyncio.to_thread(client.disconnectServer)


async def test_each_numeric_field_reads_and_edits_the_clients_copy_both_ways(
        thermostat: int) -> None:
    """``value``, ``min``, ``max`` and ``step`` read as floats and are set, as 1.x struct fields
    and by the 2.x setters alike, on the client's copy of the element, each field on its own
    (PyIndi's INumber); a field of a non-numeric text reads 0.0."""
    client = await connected(thermostat)
    try:
        number = client.getDevice("Thermostat").getNumber("TARGET")[0]
        assert (number.value, number.min, number.max, number.step) == \
            (number.getValue(), -20.0, 40.0, 0.5)
        number.min, number.max, number.step = -10, 30.25, 0.25
        assert (number.getMin(), number.getMax(), number.getStep()) == (-10.0, 30.25, 0.25)
        number.setMinMax(-5, 35)
        number.setStep(1)
        number.setValue(7.5)
        assert (number.value, number.min, number.max, number.step) == (7.5, -5.0, 35.0, 1.0)
        assert all(isinstance(field, float)
                   for field in (number.value, number.min, number.max, number.step))
        member = number._member()
        member.step = "not a number"
        assert number.getStep() == 0.0
    finally:
        await asyncio.to_thread(client.disconnectServer)


async def test_invalid_lookups_are_falsy_and_indexing_past_the_end_raises(
        thermostat: int) -> None:
    """getDevice/getNumber/typed casts of the wrong kind give falsy objects, never None; a
    property indexes like a list."""
    client = await connected(thermostat)
    try:
        device = client.getDevice("Thermostat")
        assert device and device.isValid() and not client.getDevice("Nobody")
        assert not device.getNumber("NO_SUCH") and not device.getNumber("HEATER_MODE")
        assert not PyIndi.PropertyNumber(device.getProperty("HEATER_MODE"))
        mode = PyIndi.PropertySwitch(device.getProperty("HEATER_MODE"))
        assert mode and len(mode) == mode.size() == mode.nsp == 3
        assert [s.name for s in mode] == ["AUTO", "ON", "OFF"]
        assert mode.findWidgetByName("NOPE") is None
        with pytest.raises(IndexError):
            mode[3]
        heater = device.getLight("HEATER")
        assert heater.getPermission() == PyIndi.IP_RO and heater[0].getStateAsString() in (
            "Idle", "Ok", "Busy", "Alert")
        assert device.getProperty("SITE").getTypeAsString() == "INDI_TEXT"
        assert device.getText("SITE").findWidgetByName("NAME").getText() == "Observatory"
    finally:
        await asyncio.to_thread(client.disconnectServer)


async def test_disconnect_is_reported_once_and_connecting_again_works(thermostat: int) -> None:
    """disconnectServer(): serverDisconnected(0) once, not connected, no devices; a second
    disconnectServer() is refused; connectServer() then connects again."""
    client = await connected(thermostat)
    assert await asyncio.to_thread(client.disconnectServer)
    await until(lambda: client.named("serverDisconnected"), what="serverDisconnected")
    assert not client.isServerConnected() and client.getDevices() == []
    assert not await asyncio.to_thread(client.disconnectServer)
    await connected(thermostat, client)
    assert client.isServerConnected()
    await asyncio.to_thread(client.disconnectServer)
    await until(lambda: len(client.named("serverDisconnected")) == 2, what="the second report")
    assert client.named("serverDisconnected") == [0, 0]
    assert client.named("serverConnected") == [None, None]


async def test_connecting_to_nothing_returns_false(caplog: pytest.LogCaptureFixture) -> None:
    """No server on the port: connectServer() returns False (at once, not after the timeout)
    and logs why; no callback runs."""
    client = Recorder()
    client.setServer("127.0.0.1", free_port())
    with caplog.at_level(logging.ERROR, logger="PyIndi.baseclient"):
        assert not await asyncio.to_thread(client.connectServer)
    assert any("failed to connect" in r.getMessage() for r in caplog.records)
    assert client.calls == [] and not client.isServerConnected()


async def test_a_callback_may_connect_and_send(thermostat: int) -> None:
    """Calls from the callback thread do not deadlock: serverDisconnected connecting again
    (the usual reconnect pattern), updateProperty sending a value."""

    class Reconnecting(Recorder):
        def serverDisconnected(self, exit_code: int) -> None:
            super().serverDisconnected(exit_code)
            self.reconnected = self.connectServer()

        def newProperty(self, prop: PyIndi.Property) -> None:
            super().newProperty(prop)
            if prop.getName() == "SITE" and len(self.named("serverConnected")) == 2:
                self.sendNewText("Thermostat", "SITE", "NAME", "Again")

    client = await connected(thermostat, Reconnecting())
    try:
        assert await asyncio.to_thread(client.disconnectServer)
        await until(lambda: len(client.named("serverConnected")) == 2, what="the reconnection")
        assert client.reconnected  # type: ignore[attr-defined]

        def site_name() -> str:
            site = client.getDevice("Thermostat").getText("SITE")
            return site[0].getText() if site else ""

        await until(lambda: site_name() == "Again", what="the text sent")
    finally:
        await asyncio.to_thread(client.disconnectServer)


class Uploads(IPyDriver):
    """A device with a writable BLOB property; keeps what clients upload."""

    async def rxevent(self, event: Any) -> None:
        if isinstance(event, newBLOBVector):
            self.driverdata["received"].append(
                {name: (bytes(event[name]), event.sizeformat[name]) for name in event})
            event.vector.state = "Ok"
            await event.vector.send_setVectorMembers(members=[])


@pytest.fixture
async def uploads_and_thermostat() -> AsyncIterator[tuple[int, list[Any]]]:
    """Our server with the uploads device and a thermostat sending its LOG BLOB often."""
    received: list[Any] = []
    device = Device("Uploader", [BLOBVector("UPLOAD", "Upload", "Files", "rw", "Idle", [
        BLOBMember("FILE", "A file")])])
    server = IPyServer(Uploads(device, received=received),
                       make_driver(interval=0.05, log_every=2), host="127.0.0.1",
                       port=free_port(), handle_signals=False)
    task = asyncio.create_task(server.asyncrun())
    await asyncio.wait_for(server.started(), 10)
    try:
        yield server.port, received
    finally:
        server.shutdown()
        await asyncio.wait_for(task, 15)


async def test_a_blob_is_uploaded_and_a_1x_program_receives_blobs(
        uploads_and_thermostat: tuple[int, list[Any]]) -> None:
    """startBlob / sendOneBlobFromBuffer / finishBlob send one newBLOBVector with the bytes,
    size and format; a 1.x program (newBLOB, no updateProperty) gets each received BLOB element
    once, with getblobdata(), bloblen, size and format."""
    port, received = uploads_and_thermostat

    class Old(PyIndi.BaseClient):
        def __init__(self) -> None:
            super().__init__()
            self.blobs: list[tuple[str, str, int, int, bytes]] = []

        def newBLOB(self, bp: PyIndi.IBLOB) -> None:
            self.blobs.append((bp.name, bp.format, bp.size, bp.bloblen, bytes(bp.getblobdata())))

    client = Old()
    client.setServer("127.0.0.1", port)
    assert await asyncio.to_thread(client.connectServer)
    try:
        await until(lambda: client.getDevice("Uploader").getBLOB("UPLOAD"), what="UPLOAD")
        await until(lambda: client.getDevice("Thermostat").getBLOB("LOG"), what="LOG")
        data = bytes(range(256)) * 40

        def upload() -> None:
            client.startBlob("Uploader", "UPLOAD", "")
            client.sendOneBlobFromBuffer("FILE", ".bin", data)
            client.finishBlob()

        await asyncio.to_thread(upload)
        await until(lambda: received, what="the upload at the driver")
        assert received == [{"FILE": (data, (len(data), ".bin"))}]
        await until(lambda: client.getDevice("Uploader").getBLOB("UPLOAD").getState()
                    == PyIndi.IPS_OK, what="the driver's answer")

        await asyncio.to_thread(client.setBLOBMode, PyIndi.B_ALSO, "Thermostat", None)
        assert client.getBLOBMode("Thermostat", "LOG") == PyIndi.B_ALSO
        await until(lambda: len(client.blobs) >= 2, what="two LOG BLOBs")
        name, fmt, size, length, body = client.blobs[0]
        assert (name, fmt) == ("LOG", ".csv") and size == length == len(body) > 0
        assert all(blob[0] == "LOG" for blob in client.blobs)
    finally:
        await asyncio.to_thread(client.disconnectServer)


async def test_a_message_from_no_device_goes_to_new_universal_message() -> None:
    """A site-wide message (no device) reaches newUniversalMessage(text), not newMessage."""
    server = IPyServer(make_driver(interval=0.5), host="127.0.0.1", port=free_port(),
                       handle_signals=False)
    task = asyncio.create_task(server.asyncrun())
    await asyncio.wait_for(server.started(), 10)

    class Listener(PyIndi.BaseClient):
        def __init__(self) -> None:
            super().__init__()
            self.universal: list[str] = []
            self.device_messages = 0

        def newUniversalMessage(self, message: str) -> None:
            self.universal.append(message)

        def newMessage(self, device: PyIndi.BaseDevice, messageID: int) -> None:
            self.device_messages += 1

    client = Listener()
    try:
        client.setServer("127.0.0.1", server.port)
        assert await asyncio.to_thread(client.connectServer)
        await until(lambda: client.getDevice("Thermostat"), what="the thermostat")
        server.send_message("The observatory closes at dawn")
        await until(lambda: client.universal, what="the message")
        assert client.universal == ["The observatory closes at dawn"]
        assert client.device_messages == 0
    finally:
        await asyncio.to_thread(client.disconnectServer)
        server.shutdown()
        await asyncio.wait_for(task, 15)


async def test_set_server_with_ssl_reaches_a_tls_port(tls_pki: Pki) -> None:
    """``setServer(host, port, ssl=context)`` (our extension: pyindi-client has no TLS)
    connects to a TLS port that requires client certificates: connectServer() is True, the
    thermostat's TARGET arrives, and the server knows the client by its certificate; a
    context that is not one is refused at once."""
    cert, key = tls_pki.client("observer")
    server = IPyServer(make_driver(interval=0.5), host="127.0.0.1", port=None,
                       handle_signals=False)
    server.listen_tls(0, tls_pki.server_cert, tls_pki.server_key, client_ca=tls_pki.ca)
    task = asyncio.create_task(server.asyncrun())
    await asyncio.wait_for(server.started(), 10)
    try:
        client = Recorder()
        client.setServer("localhost", server.tls_port,
                         ssl=client_context(str(tls_pki.ca), str(cert), str(key)))
        assert await asyncio.to_thread(client.connectServer)
        await until(lambda: client.getDevice("Thermostat").getNumber("TARGET"), what="TARGET")
        assert [c.identity for c in server.clients] == ["observer"]
        await asyncio.to_thread(client.disconnectServer)
        with pytest.raises(TypeError, match="SSLContext"):
            client.setServer("localhost", 7625, ssl="ca.crt")  # type: ignore[arg-type]
    finally:
        server.shutdown()
        await asyncio.wait_for(task, 15)


class LateGadget(Gadget):
    """serverkit's Gadget, whose answer to a new VALUE waits for `answer` (a driver slow to
    answer: a slew, a loaded machine)."""

    def __init__(self, *devices: Any) -> None:
        super().__init__(*devices)
        self.answer = asyncio.Event()

    async def rxevent(self, event: Any) -> None:
        await self.answer.wait()
        await super().rxevent(event)


async def test_a_sent_property_is_busy_at_once_until_the_driver_answers() -> None:
    """libindi's sendNewNumber marks the property Busy before it sends, so the tutorial's
    ``while prop.getState() == IPS_BUSY`` waits for the driver (pyindi_scripts/busy_at_once.py
    compares both modules with indilib's mount). The driver here answers only when told: the
    property is Busy the moment the call returns, and Ok once answered; a value refused (never
    sent) leaves the state as it was."""
    driver = make_gadget(kind=LateGadget)
    assert isinstance(driver, LateGadget)
    server = IPyServer(driver, host="127.0.0.1", port=free_port(), handle_signals=False)
    task = asyncio.create_task(server.asyncrun())
    await asyncio.wait_for(server.started(), 10)
    client = PyIndi.BaseClient()
    client.setServer("127.0.0.1", server.port)
    try:
        assert await asyncio.to_thread(client.connectServer)
        await until(lambda: client.getDevice("Gadget").getNumber("VALUE"), what="VALUE")
        value = client.getDevice("Gadget").getNumber("VALUE")
        assert value.getState() == PyIndi.IPS_IDLE
        value[0].setValue(5000)  # above its maximum: refused, not sent
        await asyncio.to_thread(client.sendNewNumber, value)
        assert value.getState() == PyIndi.IPS_IDLE
        value[0].setValue(7)
        await asyncio.to_thread(client.sendNewNumber, value)
        assert value.getState() == PyIndi.IPS_BUSY
        await asyncio.sleep(0.3)
        assert value.getState() == PyIndi.IPS_BUSY  # no answer yet
        driver.answer.set()
        await until(lambda: value.getState() == PyIndi.IPS_OK and value[0].getValue() == 7,
                    what="the driver's answer")
    finally:
        await asyncio.to_thread(client.disconnectServer)
        server.shutdown()
        await asyncio.wait_for(task, 15)
