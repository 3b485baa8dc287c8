"""`MemorySource`, the in-memory DeviceSource users' tests inject: the example of
docs/web_client.rst works as written, it satisfies the Protocol, and it answers like the
real source where the app can tell (refusals, a lost connection, malformed input).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from indipyweb.app import make_app
from indipyweb.memorysource import MemorySource
from indipyweb.source import DeviceSource
from indipyweb.source import InvalidValue
from indipyweb.source import SetResult
from indipyweb.users import UserDB

FOCUSER = ('<defNumberVector device="Focuser" name="POSITION" perm="rw" state="Idle">'
           '<defNumber name="STEPS" format="%.0f" min="0" max="50000" step="1">100</defNumber>'
           '</defNumberVector>')


def test_the_documented_example_sets_through_the_json_api(tmp_path: Path) -> None:
    """docs/web_client.rst's test: a defined vector, a JSON set answered Ok, recorded in
    `sent`, and the new value read back through the API."""
    UserDB(tmp_path).set_user("op", "op-password", "operator")
    source = MemorySource()
    source.receive(FOCUSER)
    with TestClient(make_app(source, dbfolder=tmp_path)) as client:
        login = client.post("/api/login", json={"username": "op",
                                               "password": "op-password"}).json()
        answer = client.post("/api/Focuser/POSITION", json={"members": {"STEPS": 2000}},
                             headers={"X-CSRF-Token": login["csrf"]})
        assert answer.json()["state"] == "Ok"
        assert source.sent == [("Focuser", "POSITION", {"STEPS": 2000.0})]
        member = client.get("/api/Focuser/POSITION").json()["members"]["STEPS"]
        assert member["floatvalue"] == 2000.0 and member["formattedvalue"] == "2000"


def test_it_is_a_device_source_and_refuses_what_the_real_one_refuses() -> None:
    """Typed against the Protocol; an unknown vector or member, a read-only vector and a lost
    connection are refused (InvalidValue, ConnectionError) and nothing is recorded; a custom
    `answer` gives the driver's reply; malformed XML is a ValueError naming the problem."""
    replies: list[str] = []

    def answer(device: str, vector: str, values: dict[str, object]) -> SetResult:
        replies.append(vector)
        return SetResult("Alert", "motor stalled")

    source: DeviceSource = MemorySource(answer=answer)
    assert isinstance(source, DeviceSource)
    memory = source
    assert isinstance(memory, MemorySource)
    memory.receive(FOCUSER + '<defNumberVector device="Focuser" name="TEMP" perm="ro" '
                   'state="Ok"><defNumber name="T" format="%.1f" min="0" max="0" step="0">'
                   '20</defNumber></defNumberVector>')

    async def sets() -> None:
        for device, vector, members in (("Nope", "POSITION", {"STEPS": 1.0}),
                                        ("Focuser", "TEMP", {"T": 1.0}),
                                        ("Focuser", "POSITION", {"NOPE": 1.0})):
            with pytest.raises(InvalidValue):
                await source.set(device, vector, members)
        result = await source.set("Focuser", "POSITION", {"STEPS": 5.0})
        assert result == SetResult("Alert", "motor stalled")
        memory.set_connected(False)
        with pytest.raises(ConnectionError):
            await source.set("Focuser", "POSITION", {"STEPS": 5.0})

    asyncio.run(sets())
    assert memory.sent == [("Focuser", "POSITION", {"STEPS": 5.0})] and replies == ["POSITION"]
    assert source.snapshot()["devices"] == {} and not source.connected
    with pytest.raises(ValueError, match="."):
        memory.receive("<defNumberVector device='X' name='Y'><oops></defNumberVector>")
