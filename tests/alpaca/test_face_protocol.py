"""The Alpaca protocol rules the face keeps, sent raw (what alpyca never sends).

Protects (the ConformU protocol checklist): paths are lower case only and a path the face
does not know -- type, number, member, version -- is a 400 with a reason; GET keys match in
any casing, PUT keys only exactly (400 naming the key); unparseable values and transaction
IDs are 400; ClientTransactionID is echoed (0 when absent or mis-cased on PUT) and
ServerTransactionID counts from 1 and never repeats; extra keys are ignored; a member the
type has but the device cannot do is 200 + 0x400 with `Value` present; and an INDI property
that went Alert reaches the Alpaca client as an error carrying the INDI device's reason.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from alpaca import management
from facekit import alpaca_server
from facekit import serving
from waiting import wait_for

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.standard import Focuser
from indipydriver.standard import LinearMotion
from indipysimulators.focus import SimulatedFocuser
from indipysimulators.focus import make_driver


class StallingFocuser(SimulatedFocuser):
    """A focuser whose motor stalls on every move: the INDI device says so with Alert."""

    async def move_to(self, steps: int) -> None:
        raise RuntimeError("motor stalled at the end stop")


def stalling_driver() -> IPyDriver:
    motion = LinearMotion(position=100, speed=1000, minimum=0, maximum=1000)
    focuser = Focuser(StallingFocuser(motion), max_position=1000, position=100)
    return IPyDriver(Device("Stalling Focuser", roles=[focuser]))


class Raw:
    """HTTP straight to the face: (status, parsed JSON or text)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, query: str = "", body: str = "") -> tuple[int, Any]:
        url = self.base + path + (f"?{query}" if query else "")
        data = body.encode() if method == "PUT" else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, text, kind = response.status, response.read().decode(), \
                    response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, text, kind = error.code, error.read().decode(), \
                error.headers.get("Content-Type", "")
        if kind.startswith("application/json"):
            return status, json.loads(text)
        return status, text

    def get(self, path: str, query: str = "") -> tuple[int, Any]:
        return self.call("GET", path, query)

    def put(self, path: str, body: str = "") -> tuple[int, Any]:
        return self.call("PUT", path, body=body)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Raw]:
    registry = tmp_path_factory.mktemp("alpaca") / "ids.json"
    with serving(alpaca_server(make_driver(), stalling_driver(), registry=registry)) as server:
        client = Raw(server.alpaca_port or 0)
        wait_for(lambda: len(management.configureddevices(f"127.0.0.1:{server.alpaca_port}"))
                 == 3, 10, "three devices")
        yield client


def focuser_number(raw: Raw, name: str) -> int:
    _, reply = raw.get("/management/v1/configureddevices")
    return next(d["DeviceNumber"] for d in reply["Value"] if d["DeviceName"] == name)


@pytest.mark.parametrize("path", [
    "/api/v1/Focuser/0/name", "/api/v1/focuser/0/Name", "/api/v1/focuser/0/NAME",
    "/api/v2/focuser/0/name", "/api/v1/telescop/0/name", "/api/v1/focuser/99/name",
    "/api/v1/focuser/-1/name", "/api/v1/focuser/A/name", "/api/v1/focuser/0/nosuchmember",
    "/api/v1/focuser/0"])
def test_paths_the_face_does_not_know_are_400_with_a_reason(raw: Raw, path: str) -> None:
    """GET and PUT reach a member through the one dispatcher: the same 400 and reason."""
    status, text = raw.get(path)
    assert status == 400 and isinstance(text, str) and text
    assert raw.put(path, "Connected=true") == (400, text)


def test_get_keys_in_any_casing(raw: Raw) -> None:
    for key in ("ClientTransactionID", "clienttransactionid", "CLIENTTRANSACTIONID"):
        status, reply = raw.get("/api/v1/focuser/0/name", f"{key}=77&ClientID=3")
        assert status == 200 and reply["ClientTransactionID"] == 77


def test_put_keys_are_case_sensitive(raw: Raw) -> None:
    status, text = raw.put("/api/v1/filterwheel/0/connected", "connected=true")
    assert status == 400 and "Connected" in text
    status, text = raw.put("/api/v1/filterwheel/0/connected", "")
    assert status == 400 and "Connected" in text


@pytest.mark.parametrize("value", ["", "asdqwe", "123456", "1"])
def test_unparseable_values_are_400(raw: Raw, value: str) -> None:
    status, _ = raw.put("/api/v1/filterwheel/0/connected", f"Connected={value}")
    assert status == 400


@pytest.mark.parametrize("value", ["", " ", "-1", "abc", "4294967296"])
def test_bad_transaction_ids_are_400(raw: Raw, value: str) -> None:
    assert raw.get("/api/v1/focuser/0/name", f"ClientTransactionID={value}")[0] == 400
    assert raw.get("/api/v1/focuser/0/name", f"ClientID={value}")[0] == 400


def test_a_mis_cased_transaction_id_in_a_put_is_ignored(raw: Raw) -> None:
    status, reply = raw.put("/api/v1/filterwheel/0/connected",
                            "Connected=false&clienttransactionid=5&Extra=ignored")
    assert status == 200 and reply["ClientTransactionID"] == 0
    status, reply = raw.put("/api/v1/filterwheel/0/connected",
                            "ClientTransactionID=9&Connected=false")
    assert status == 200 and reply["ClientTransactionID"] == 9 and reply["ErrorNumber"] == 0
    assert "Value" not in reply


def test_server_transaction_ids_increase(raw: Raw) -> None:
    seen = [raw.get("/api/v1/focuser/0/name")[1]["ServerTransactionID"] for _ in range(5)]
    assert seen[0] >= 1 and seen == sorted(set(seen))


def test_not_implemented_keeps_the_envelope(raw: Raw) -> None:
    """StepSize has no INDI property: 200, 0x400, a message, and Value (null) present."""
    raw.put("/api/v1/focuser/0/connected", "Connected=true")
    status, reply = raw.get("/api/v1/focuser/0/stepsize", "ClientTransactionID=4")
    assert status == 200
    assert reply["ErrorNumber"] == 0x400 and reply["ErrorMessage"]
    assert "Value" in reply and reply["ClientTransactionID"] == 4
    status, reply = raw.put("/api/v1/focuser/0/commandblind", "Command=x&Raw=true")
    assert status == 200 and reply["ErrorNumber"] == 0x400


def test_the_wrong_verb_is_refused(raw: Raw) -> None:
    """A member's other verb is 405, and so is a verb Alpaca has not (HEAD, DELETE)."""
    assert raw.get("/api/v1/focuser/0/move")[0] == 405
    assert raw.put("/api/v1/focuser/0/name")[0] == 405
    assert raw.call("DELETE", "/api/v1/focuser/0/name")[0] == 405
    assert raw.call("HEAD", "/api/v1/focuser/0/name")[0] == 405


def test_an_indi_alert_carries_the_devices_reason(raw: Raw) -> None:
    """Move returns at once (200, no error); the stalled move then shows on IsMoving as an
    error whose message is the INDI device's own."""
    number = focuser_number(raw, "Stalling Focuser")
    base = f"/api/v1/focuser/{number}"
    status, reply = raw.put(f"{base}/connected", "Connected=true")
    assert (status, reply["ErrorNumber"]) == (200, 0)
    status, reply = raw.put(f"{base}/move", "Position=500")
    assert (status, reply["ErrorNumber"]) == (200, 0)

    def failed() -> dict[str, Any] | None:
        reply = raw.get(f"{base}/ismoving")[1]
        return reply if reply["ErrorNumber"] else None

    reply = wait_for(failed, 10, "the stalled move to show")
    assert reply["ErrorNumber"] == 0x500
    assert "motor stalled at the end stop" in reply["ErrorMessage"]
    status, reply = raw.put(f"{base}/move", "Position=5000")
    assert reply["ErrorNumber"] == 0x401 and "0..1000" in reply["ErrorMessage"]


def test_garbage_is_refused_and_the_face_keeps_serving(raw: Raw) -> None:
    """A body that is not UTF-8, one far too large, and a POST: each refused with a 4xx,
    and the next request is answered as before."""
    request = urllib.request.Request(raw.base + "/api/v1/focuser/0/connected",
                                     data=b"Connected=\xff\xfe", method="PUT")
    try:
        urllib.request.urlopen(request, timeout=10)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 400
    assert raw.put("/api/v1/focuser/0/connected", "Connected=false&" + "x" * 100_000)[0] == 400
    assert raw.call("POST", "/api/v1/focuser/0/connected", body="Connected=true")[0] == 405
    status, reply = raw.get("/api/v1/focuser/0/name", "ClientTransactionID=11")
    assert status == 200 and reply["ClientTransactionID"] == 11


def test_connect_disconnect_reconnect_with_reordered_parameters(raw: Raw) -> None:
    """ConformU's sequence: Connected true, false, true again at once, the parameters in
    another order each time; each answered 200/0 and the device connected at the end."""
    path = "/api/v1/filterwheel/0/connected"
    for body in ("Connected=true&ClientID=1&ClientTransactionID=1",
                 "ClientTransactionID=2&Connected=false&ClientID=1",
                 "ClientID=1&ClientTransactionID=3&Connected=true"):
        status, reply = raw.put(path, body)
        assert (status, reply["ErrorNumber"]) == (200, 0), reply
    assert raw.get(path)[1]["Value"] is True
