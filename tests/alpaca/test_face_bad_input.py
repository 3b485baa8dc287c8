"""Bad input to the Alpaca face, sent raw, and the face serving on after each (issue 59, 6).

Protects: a mis-cased or missing PUT key is a 400 naming the key; an out-of-range value is
0x401 whose message gives the INDI device's own limits (our focuser's and indilib's
`indi_simulator_focus`'s); a device that is not connected answers its members with 0x407
(ours and indilib's); an unknown device type, number or member is a 400 on PUT as on GET;
bodies that are not forms (binary junk, broken escapes, JSON), a body over the limit (by
Content-Length, and chunked with none), and values that are not numbers are each a 400 with a
reason; a client that drops the connection in the middle of an ImageBytes download costs
nothing: the next download is whole. After every one of them the face still answers the
other devices (`assert_serving`). And a keep-alive client is answered at once, not after
TCP's delayed ACK (the face's sockets have Nagle off).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from facekit import alpaca_server
from facekit import serving
from waiting import wait_for

from indipyalpaca.wire import imagebytes
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.standard import Focuser
from indipydriver.standard import LinearMotion
from indipysimulators import ccd
from indipysimulators import focus
from indipysimulators.focus import SimulatedFocuser

OURS, INDILIB, WIDE, CAMERA = ("Python Focuser", "Focuser Simulator", "Wide Focuser",
                               "Python CCD Simulator")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def wide_focuser() -> IPyDriver:
    """A focuser whose INDI range (0..4321) is its own, no default of anyone's."""
    motion = LinearMotion(position=100, speed=5000, minimum=0, maximum=4321)
    return IPyDriver(Device(WIDE, roles=[Focuser(SimulatedFocuser(motion), max_position=4321,
                                                 position=100)]))


class Face:
    """Raw HTTP to the face: one new connection per request (a bad one may close it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.numbers: dict[str, int] = {}

    def send(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            kind = response.headers.get("Content-Type", "")
        finally:
            conn.close()
        if kind.startswith("application/json"):
            return response.status, json.loads(data)
        return response.status, data.decode(errors="replace")

    def get(self, path: str) -> tuple[int, Any]:
        return self.send("GET", path)

    def put(self, path: str, body: str | bytes) -> tuple[int, Any]:
        data = body.encode() if isinstance(body, str) else body
        return self.send("PUT", path, data, FORM)

    def base(self, name: str) -> str:
        kind = "camera" if name == CAMERA else "focuser"
        return f"/api/v1/{kind}/{self.numbers[name]}"


def assert_serving(face: Face) -> None:
    """The face still answers: its device list, and a member of each focuser, echoing the
    transaction ID."""
    status, reply = face.get("/management/v1/configureddevices")
    assert status == 200 and len(reply["Value"]) >= 4
    for name in (OURS, INDILIB, WIDE):
        status, reply = face.get(f"{face.base(name)}/name?ClientTransactionID=42")
        assert status == 200 and reply["Value"] == name and reply["ClientTransactionID"] == 42


@pytest.fixture(scope="module")
def face(module_home: Path) -> Iterator[Face]:
    """indilib's simulator writes its configuration in HOME: `module_home`."""
    home = module_home
    make = alpaca_server(focus.make_driver(), wide_focuser(), ccd.make_driver(),
                         registry=home / "ids.json", exdrivers=("indi_simulator_focus",))
    with serving(make) as server:
        found = Face(server.alpaca_port or 0)

        def listed() -> bool:
            _, reply = found.get("/management/v1/configureddevices")
            found.numbers = {d["DeviceName"]: d["DeviceNumber"] for d in reply["Value"]
                             if d["DeviceType"] in ("Focuser", "Camera")}
            return {OURS, INDILIB, WIDE, CAMERA} <= set(found.numbers)

        wait_for(listed, 30, "the four devices")
        for name in (OURS, INDILIB, WIDE, CAMERA):
            status, reply = found.put(f"{found.base(name)}/connected", "Connected=true")
            assert (status, reply["ErrorNumber"]) == (200, 0), reply
        yield found


@pytest.mark.parametrize("body", ["position=10", "POSITION=10", "Pos=10", "", "=10",
                                  "Position"])
def test_a_mis_cased_or_missing_put_key_is_400_naming_it(face: Face, body: str) -> None:
    status, text = face.put(f"{face.base(OURS)}/move", body)
    assert status == 400 and isinstance(text, str) and "Position" in text
    assert_serving(face)


@pytest.mark.parametrize("name", [WIDE, OURS, INDILIB])
def test_an_out_of_range_move_is_0x401_with_the_devices_own_limit(face: Face,
                                                                  name: str) -> None:
    status, reply = face.get(f"{face.base(name)}/maxstep")
    maxstep = reply["Value"]
    assert status == 200 and maxstep == {WIDE: 4321, OURS: 100000}.get(name, maxstep)
    for position in (maxstep + 1, -1):
        status, reply = face.put(f"{face.base(name)}/move", f"Position={position}&"
                                                            f"ClientTransactionID=8")
        assert status == 200 and reply["ErrorNumber"] == 0x401
        assert f"0..{maxstep}" in reply["ErrorMessage"] and reply["ClientTransactionID"] == 8
        assert_serving(face)


def test_an_out_of_range_set_point_is_0x401_with_the_indi_limits(face: Face) -> None:
    status, reply = face.put(f"{face.base(CAMERA)}/setccdtemperature",
                             "SetCCDTemperature=1000")
    assert status == 200 and reply["ErrorNumber"] == 0x401
    assert "1000" in reply["ErrorMessage"] and ".." in reply["ErrorMessage"]
    assert_serving(face)


@pytest.mark.parametrize("name", [OURS, INDILIB])
def test_a_disconnected_device_answers_0x407(face: Face, name: str) -> None:
    base = face.base(name)
    status, reply = face.put(f"{base}/connected", "Connected=false")
    assert (status, reply["ErrorNumber"]) == (200, 0)
    try:
        assert face.get(f"{base}/connected")[1]["Value"] is False
        for method, member, body in (("GET", "position", ""), ("GET", "ismoving", ""),
                                     ("PUT", "move", "Position=10"), ("PUT", "halt", "")):
            if method == "GET":
                status, reply = face.get(f"{base}/{member}?ClientTransactionID=5")
            else:
                status, reply = face.put(f"{base}/{member}", f"{body}&ClientTransactionID=5")
            assert status == 200 and reply["ErrorNumber"] == 0x407, (member, reply)
            assert name in reply["ErrorMessage"] and reply["ClientTransactionID"] == 5
            # the other devices are untouched
            status, reply = face.get(f"{face.base(WIDE)}/position")
            assert status == 200 and reply["ErrorNumber"] == 0
    finally:
        status, reply = face.put(f"{base}/connected", "Connected=true")
    assert (status, reply["ErrorNumber"]) == (200, 0)
    assert face.get(f"{base}/position")[1]["ErrorNumber"] == 0
    assert_serving(face)


@pytest.mark.parametrize("path", ["/api/v1/focusser/0/move", "/api/v1/focuser/999/move",
                                  "/api/v1/focuser/0/moove", "/api/v1/Focuser/0/move",
                                  "/api/v1/focuser/0/Move", "/api/v1/focuser/x/move",
                                  "/api/v1/focuser/0/move/again", "/api/v9/focuser/0/move"])
def test_unknown_types_numbers_and_members_are_400_on_put(face: Face, path: str) -> None:
    status, text = face.put(path, "Position=10")
    assert status == 400 and isinstance(text, str) and len(text) > 5
    assert_serving(face)


@pytest.mark.parametrize("body", [
    b"\xff\xfe\x00\x01garbage\x80\x81", b"Position=%ff%fe", b"Position=%zz", b"&&&===&&",
    b'{"Position": 10}', b"Position=10\x00\x00", b"\x00" * 1000])
def test_garbage_bodies_are_400_with_a_reason(face: Face, body: bytes) -> None:
    status, text = face.put(f"{face.base(OURS)}/move", body)
    assert status == 400 and isinstance(text, str) and text
    assert_serving(face)


def raw_reply(face: Face, head: str, body: bytes) -> bytes:
    """Send a request's head and the start of its body, never the rest: what the face
    answers (it must answer without waiting for the remainder)."""
    with socket.create_connection(("127.0.0.1", face.port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        reply = b""
        while True:
            head_end = reply.find(b"\r\n\r\n")
            if head_end >= 0:
                length = re.search(rb"content-length: (\d+)", reply[:head_end], re.IGNORECASE)
                if length and len(reply) >= head_end + 4 + int(length.group(1)):
                    return reply
            got = sock.recv(65536)
            if not got:
                return reply
            reply += got


def test_a_huge_body_is_refused_by_its_length_before_it_is_sent(face: Face) -> None:
    head = (f"PUT {face.base(OURS)}/move HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: 20000000\r\n\r\n")
    reply = raw_reply(face, head, b"Position=10&" + b"x" * 1000)
    assert reply.startswith(b"HTTP/1.1 400") and b"too large" in reply
    assert_serving(face)


def test_a_huge_chunked_body_is_refused_at_the_limit(face: Face) -> None:
    """No Content-Length: the face counts what arrives and answers once past its limit,
    without the body's end."""
    head = (f"PUT {face.base(OURS)}/move HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"Position=10&" + b"y" * 100_000
    reply = raw_reply(face, head, b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 400") and b"too large" in reply
    assert_serving(face)


@pytest.mark.parametrize("value", ["abc", "1.5", "1e3", "NaN", "inf", "", " ", "0x10",
                                   "1,000", "99999999999999999999"])
def test_values_that_are_not_integers_are_400(face: Face, value: str) -> None:
    status, text = face.put(f"{face.base(OURS)}/move", f"Position={value}")
    assert status == 400 and "Position" in text
    assert_serving(face)


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "-inf", "1e999", "", "1,5"])
def test_values_that_are_not_numbers_are_400(face: Face, value: str) -> None:
    status, text = face.put(f"{face.base(CAMERA)}/setccdtemperature",
                            f"SetCCDTemperature={value}")
    assert status == 400 and "SetCCDTemperature" in text
    assert_serving(face)


def take_image(face: Face) -> str:
    """A dark frame on the camera (unless it has one): the camera's path."""
    base = face.base(CAMERA)
    if face.get(f"{base}/imageready")[1]["Value"] is not True:
        status, reply = face.put(f"{base}/startexposure", "Duration=0.1&Light=false")
        assert (status, reply["ErrorNumber"]) == (200, 0), reply
        wait_for(lambda: face.get(f"{base}/imageready")[1]["Value"] is True, 60, "the image")
    return base


def test_a_client_leaving_mid_download_costs_the_next_nothing(face: Face) -> None:
    base = take_image(face)
    request = (f"GET {base}/imagearray HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Accept: application/imagebytes\r\n\r\n").encode()
    for abort in (False, True, False, True):
        with socket.create_connection(("127.0.0.1", face.port), timeout=20) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(request)
            assert sock.recv(4096)  # the reply has begun
            if abort:  # a reset rather than an orderly close
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                b"\x01\x00\x00\x00\x00\x00\x00\x00")
        assert_serving(face)
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", face.port, timeout=20)
    conn.request("GET", f"{base}/imagearray?ClientTransactionID=11",
                 headers={"Accept": "application/imagebytes"})
    response = conn.getresponse()
    frame = imagebytes.decode(response.read())
    conn.close()
    assert frame.error_number == 0 and frame.client_transaction_id == 11
    assert frame.dimensions[:2] == (ccd.SENSOR.width, ccd.SENSOR.height)
    assert len(frame.data) == 2 * ccd.SENSOR.width * ccd.SENSOR.height
    assert time.monotonic() - started < 20
    assert_serving(face)


def test_the_header_of_each_download_is_its_own(face: Face) -> None:
    """The cached frame is shared; its header's transaction IDs are each request's."""
    base = take_image(face)
    seen = []
    for tid in (21, 22):
        conn = http.client.HTTPConnection("127.0.0.1", face.port, timeout=20)
        conn.request("GET", f"{base}/imagearray?ClientTransactionID={tid}",
                     headers={"Accept": "application/imagebytes"})
        frame = imagebytes.decode(conn.getresponse().read())
        conn.close()
        assert frame.client_transaction_id == tid
        seen.append(frame)
    assert seen[1].server_transaction_id > seen[0].server_transaction_id
    assert seen[0].data == seen[1].data



def test_a_keep_alive_client_gets_each_reply_at_once(face: Face) -> None:
    """A reply goes out as its head then its body; with Nagle's algorithm on the face's
    sockets the body waited for the client's delayed ACK, 40 ms a request (ten pollers at
    10 Hz could not be served at their rate). Twenty GETs on one connection take far less."""
    conn = http.client.HTTPConnection("127.0.0.1", face.port, timeout=20)
    try:
        times = []
        for _ in range(20):
            started = time.perf_counter()
            conn.request("GET", f"{face.base(OURS)}/position")
            response = conn.getresponse()
            assert response.status == 200 and json.loads(response.read())["ErrorNumber"] == 0
            times.append(time.perf_counter() - started)
    finally:
        conn.close()
    assert sorted(times)[10] < 0.02, f"median {sorted(times)[10] * 1e3:.1f} ms"
