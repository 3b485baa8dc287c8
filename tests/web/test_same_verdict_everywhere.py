"""One verdict, in the same words, from every face (issue 41 item 1; docs/acceptance.rst).

The edge inputs of `tests/edgecases.py` (ranges, min == max, min > max, step, sexagesimal, NaN
and inf, control characters, switch rules, read-only, unknown members) go through:

* the client library: ``Client.set`` on a real connection to our server (``InvalidValue``),
* the terminal: its input check on the vector the library holds (``InputRefused``),
* the web client: the device page's form as a browser posts it, or the JSON API where a form
  cannot say it, through Starlette's test client on the real app and server (400 + message),
* a driver: the client's ``new*Vector`` written to ``DriverHarness`` (the Alert answer says
  ``Request rejected: <message>``), or, where XML cannot carry the input, the driver's own
  check given the event,

and each face must give the row's verdict with the row's message. Accepted rows must reach the
driver (or, in the terminal, come back as the values to send).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from pathlib import Path

import pytest
from edgecases import DEVICE
from edgecases import EDGES
from edgecases import Edge
from edgecases import make_edge_driver
from peers import free_port
from starlette.testclient import TestClient
from webpeers import ServerThread
from webpeers import login
from webpeers import wait_for

import indipyclient
from indipycore.protocol import LocalProtocolError
from indipycore.protocol import ProtocolError
from indipycore.protocol import State
from indipycore.protocol import events as pe
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indipydriver.testing import DriverHarness
from indipydriver.validation import Rejected
from indipydriver.validation import check_new_vector
from indipyterm.inputcheck import InputRefused
from indipyterm.inputcheck import check_entries
from indipyterm.vectorinfo import VectorInfo
from indipyweb.app import make_app

Verdicts = dict[str, str | None]  # row id -> the refusal's message, None when accepted
ACCEPTED = None


async def library_and_terminal(port: int) -> tuple[Verdicts, Verdicts]:
    """Each row through ``Client.set`` and through the terminal's check of the same vector."""
    library: Verdicts = {}
    terminal: Verdicts = {}
    async with indipyclient.connect("127.0.0.1", port) as client:
        for name in ("NUM", "RO", "TXT", "ONE", "ATMOST"):
            await client.wait_for(DEVICE, name)
        for edge in EDGES:
            vector = client.vector(DEVICE, edge.vector)
            try:
                answer = await client.set(DEVICE, edge.vector, edge.values, timeout=5)
            except indipyclient.InvalidValue as exc:
                library[edge.id] = str(exc)
            else:
                assert answer.state == "Ok", (edge.id, answer)
                library[edge.id] = ACCEPTED
            if "terminal" in edge.not_on:
                continue
            info = VectorInfo.from_vector(vector)
            if info.kind == "Switch":  # what the panel's toggles hold: the others Off
                entries: dict[str, object] = {m.name: edge.values.get(m.name) == "On"
                                              for m in info.members}
            else:
                entries = dict(edge.values)
            try:
                check_entries(info, entries)
            except InputRefused as exc:
                terminal[edge.id] = str(exc)
            else:
                terminal[edge.id] = ACCEPTED
    return library, terminal


def web(port: int, dbfolder: Path, blobfolder: Path) -> Verdicts:
    """Each row posted to the web app as a browser posts the device page's form (htmx), or
    to the JSON API when the form cannot carry it (two On in a OneOfMany, a request of Offs
    for a OneOfMany, a switch value other than On/Off)."""
    verdicts: Verdicts = {}
    app = make_app(indihost="127.0.0.1", indiport=port, dbfolder=dbfolder, blobfolder=blobfolder,
                   max_upload_mb=1.0, set_timeout=5.0)
    with TestClient(app, base_url="http://testserver") as client:
        source = app.state.web.source
        wait_for(lambda: source.vector(DEVICE, "ATMOST"), what="the edge device")
        csrf = login(client, "op")
        for edge in EDGES:
            form = _form(edge)
            if form is None:
                answer = client.post(f"/api/{DEVICE}/{edge.vector}",
                                     content=json.dumps({"members": edge.values}),
                                     headers={"X-CSRF-Token": csrf,
                                              "Content-Type": "application/json"})
                refused = answer.json().get("error") if answer.status_code == 400 else None
            else:
                answer = client.post(f"/device/{DEVICE}/{edge.vector}",
                                     data={**form, "csrf_token": csrf},
                                     headers={"HX-Request": "true"})
                found = re.search(r'role="alert">(.*?)</span>', answer.text, re.DOTALL)
                refused = html.unescape(found.group(1)) if answer.status_code == 400 and found \
                    else None
            assert answer.status_code in (200, 400), (edge.id, answer.status_code, answer.text)
            if answer.status_code == 200:
                assert "Ok" in answer.text, (edge.id, answer.text)
            verdicts[edge.id] = refused
    return verdicts


def _form(edge: Edge) -> dict[str, str] | None:
    """The device page's form fields for the row, or None when the form cannot say it."""
    if edge.vector == "ONE":
        on = [name for name, value in edge.values.items() if value == "On"]
        if len(on) != 1 or len(edge.values) != 1:
            return None
        return {"switch": on[0]}  # the clicked button
    if edge.vector == "ATMOST":  # one button clicked: it cannot say two On, nor all Off
        return None              # while all are Off already (the API says it)
    return {f"m.{name}": value for name, value in edge.values.items()}


async def driver_verdicts() -> tuple[Verdicts, list[str]]:
    """Each row as a client's new*Vector reaching a driver: written to the driver's link, the
    answer read back (an Alert for a refusal, Ok from rxevent for an accepted request)."""
    verdicts: Verdicts = {}
    driver = make_edge_driver()
    async with DriverHarness(driver, timeout=5.0) as client:
        await client.get_properties()
        for edge in EDGES:
            event = _new_vector(edge)
            if "driver-wire" in edge.not_on:
                # It cannot arrive (our serialiser refuses to write it, or the parser to read
                # it); the driver's own check, given the event, must still say the same.
                try:
                    data = serialise(event)
                except LocalProtocolError:
                    pass
                else:
                    with pytest.raises(ProtocolError):
                        parse_element(data)
                try:
                    check_new_vector(driver.devices, event)
                except Rejected as why:
                    verdicts[edge.id] = why.reason
                else:
                    verdicts[edge.id] = ACCEPTED
                continue
            await client.send(event)
            answer = await client.expect(_SET[type(event)], name=edge.vector)
            if answer.state == State.ALERT:
                assert answer.message.startswith("Request rejected: "), answer
                verdicts[edge.id] = answer.message.removeprefix("Request rejected: ")
            else:
                assert answer.state == State.OK, (edge.id, answer)
                verdicts[edge.id] = ACCEPTED
    return verdicts, [name for name, _ in driver.driverdata["received"]]


_SET = {pe.NewNumberVector: pe.SetNumberVector, pe.NewTextVector: pe.SetTextVector,
        pe.NewSwitchVector: pe.SetSwitchVector}


def _new_vector(edge: Edge) -> pe.NewNumberVector | pe.NewTextVector | pe.NewSwitchVector:
    """The client's request for the row, its values as typed (a driver reads the text)."""
    if edge.vector in ("NUM", "RO"):
        return pe.NewNumberVector(DEVICE, edge.vector, tuple(
            pe.Number(name, value) for name, value in edge.values.items()))
    if edge.vector == "TXT":
        return pe.NewTextVector(DEVICE, edge.vector, tuple(
            pe.Text(name, value) for name, value in edge.values.items()))
    return pe.NewSwitchVector(DEVICE, edge.vector, tuple(
        pe.Switch(name, value) for name, value in edge.values.items()))  # type: ignore[arg-type]


def test_every_face_gives_the_same_verdict_and_message(tmp_home: Path, dbfolder: Path,
                                                        blobfolder: Path) -> None:
    """The table's edge inputs get, from the library, the terminal, the web client and a
    driver, the verdict and the message the table gives (a face that cannot express a row says
    why in the table)."""
    server = ServerThread(free_port(), make_edge_driver()).start()
    try:
        library, terminal = asyncio.run(library_and_terminal(server.port))
        pages = web(server.port, dbfolder, blobfolder)
    finally:
        server.stop()
    driver, received = asyncio.run(driver_verdicts())
    faces = {"library": library, "terminal": terminal, "web": pages, "driver": driver}
    wrong = []
    for edge in EDGES:
        for face, verdicts in faces.items():
            if face == "terminal" and "terminal" in edge.not_on:
                continue
            if verdicts.get(edge.id, "missing") != edge.message:
                wrong.append(f"{edge.id} on {face}: {verdicts.get(edge.id, 'missing')!r}, "
                             f"expected {edge.message!r}")
    assert wrong == [], "\n".join(wrong)
    # What the driver accepted reached rxevent, and nothing else did.
    assert received == [e.vector for e in EDGES if e.message is None
                        and "driver-wire" not in e.not_on]
    assert all(len(verdicts) >= len(EDGES) - 2 for verdicts in faces.values())
