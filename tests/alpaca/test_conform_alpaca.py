"""``indipy-conform --alpaca URL`` against three Alpaca servers.

Protects: our face (IPyServer(alpaca=PORT) serving our simulated camera, mount, focuser,
wheel and weather station) passes every ConformU-style check, with the devices really driven
(a dark frame read as ImageBytes and as JSON, a focuser move and halt, a wheel turn, a mount
slewed, aborted and parked), and so do indilib's own simulators run by our server (a dome
slewed and aborted, a rotator moved too); alpaca-simulators 1.3.2, the real Alpaca peer, gets FAILs that
name its known deviations (no management API, 422 instead of 400, GET keys case-sensitive,
an unknown device number answered 200, NotConnected never returned, ImageBytes to
``Accept: application/json``) while its devices are still driven; a deliberately broken
tiny server FAILs naming each broken rule, including a member that hangs and one that
answers garbage, within bounded time; a bad URL or a server that is not there is exit 2 and
one line, never a traceback.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from alpacapeers import AlpacaSimulators
from facekit import alpaca_server
from facekit import serving
from peers import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import PlainTextResponse
from starlette.responses import Response
from starlette.routing import Route
from waiting import wait_for

from indipyconform.alpacachecks import check_alpaca
from indipyconform.cli import main
from indipyconform.report import Check
from indipyconform.report import Level
from indipysimulators import ccd
from indipysimulators import focus
from indipysimulators import telescope
from indipysimulators import weather


def lines(checks: list[Check], level: Level) -> list[str]:
    return [f"{c.device} {c.prop} {c.detail}" for c in checks if c.level is level]


def has(checks: list[Check], level: Level, device: str, prop: str, text: str = "") -> bool:
    return any(c.level is level and c.device == device and c.prop == prop and text in c.detail
               for c in checks)


@pytest.fixture
def face_url(tmp_path: Path) -> Iterator[str]:
    drivers = (ccd.make_driver(), focus.make_driver(speed=5000, seconds_per_slot=0.3),
               telescope.make_driver(slew_rate=20), weather.make_driver())
    with serving(alpaca_server(*drivers, registry=tmp_path / "ids.json")) as server:
        url = f"http://127.0.0.1:{server.alpaca_port}"

        def all_listed() -> bool:
            return len(check_alpaca_management(url)) >= 6

        wait_for(all_listed, 30, "the face lists camera, telescope, focuser, wheel, weather")
        yield url


def test_our_face_passes_every_check(face_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Our face has no FAIL, and the run really drove each device (the PASS lines of each
    sequence are there), through the command as a user runs it (exit status 0)."""
    assert main(["--alpaca", face_url, "--step-timeout", "30"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out, out
    for needed in ("camera/0  imagearray ImageBytes", "camera/0  imagearray JSON  1280x1024, "
                   "the same pixels as ImageBytes", "focuser/0  move", "focuser/0  halt",
                   "filterwheel/0  position  0 -> 1", "telescope/0  abortslew",
                   "telescope/0  park  AtPark True", "telescope/0  InvalidWhileParked",
                   "telescope/0  moveaxis(0)  Slewing at 3 degrees/s",
                   "telescope/0  moveaxis(1)  Slewing at 3 degrees/s",
                   "camera/0  NotConnected", "server  management/v1/configureddevices",
                   "observingconditions/0  timesincelastupdate", "safetymonitor/0  issafe",
                   "server  ServerTransactionID", "PUT key casing  PUT connected "):
        assert any(line.startswith("PASS") and needed in line for line in out.splitlines()), \
            (needed, out)


def test_indilib_simulators_through_our_face_pass(tmp_path: Path) -> None:
    """indilib's own simulators (camera, mount, focuser, wheel, dome, rotator, weather), run
    by our server and served by the face, pass too, each driven: the dome slews and aborts,
    the rotator moves, the camera's frame arrives both ways."""
    programs = ("indi_simulator_ccd", "indi_simulator_telescope", "indi_simulator_focus",
                "indi_simulator_wheel", "indi_simulator_dome", "indi_simulator_rotator",
                "indi_simulator_weather")
    with serving(alpaca_server(registry=tmp_path / "ids.json", exdrivers=programs)) as server:
        url = f"http://127.0.0.1:{server.alpaca_port}"

        def listed() -> bool:
            checks = check_alpaca_management(url)
            return {"dome/0", "rotator/0", "camera/0", "telescope/0", "focuser/0",
                    "observingconditions/0"} <= checks

        wait_for(listed, 60, "the face lists indilib's simulators")
        checks: list[Check] = []
        check_alpaca(url, step_timeout=30.0, out=checks)
    assert lines(checks, Level.FAIL) == []
    for device, prop in (("dome/0", "slewtoazimuth"), ("dome/0", "abortslew"),
                         ("rotator/0", "moveabsolute"), ("camera/0", "imagearray JSON"),
                         ("telescope/0", "park"), ("focuser/0", "move"),
                         ("telescope/0", "NotImplemented"),
                         ("filterwheel/0", "InvalidValue")):
        assert has(checks, Level.PASS, device, prop), (device, prop)


def check_alpaca_management(url: str) -> set[str]:
    """The TYPE/NUMBER of each device the server's management API lists now."""
    import json
    import urllib.request
    with urllib.request.urlopen(f"{url}/management/v1/configureddevices", timeout=2) as reply:
        return {f"{d['DeviceType'].lower()}/{d['DeviceNumber']}"
                for d in json.loads(reply.read())["Value"]}


def test_alpaca_simulators_deviations_are_fails_naming_them(alpaca_sim: AlpacaSimulators
                                                            ) -> None:
    """alpaca-simulators 1.3.2: its deviations (notes of the peer, section 7) are FAILs that
    name the rule, yet each device is still driven (a dark frame, a move, a turn, a park)."""
    targets = ["camera/0", "telescope/0", "focuser/0", "filterwheel/0",
               "observingconditions/0", "safetymonitor/0"]
    checks: list[Check] = []
    from indipyconform.alpacachecks import parse_target
    check_alpaca(alpaca_sim.url, [parse_target(t) for t in targets], step_timeout=15.0,
                 out=checks)
    fails = lines(checks, Level.FAIL)
    assert has(checks, Level.FAIL, "server", "management/apiversions", "no management API")
    assert has(checks, Level.FAIL, "camera/0", "GET key casing", "case-insensitive")
    assert has(checks, Level.FAIL, "camera/0", "PUT key casing", "HTTP 422")
    assert has(checks, Level.FAIL, "camera/0", "PUT key missing", "HTTP 422")
    assert has(checks, Level.FAIL, "camera/0", "unknown device number", "HTTP 200")
    assert has(checks, Level.FAIL, "camera/0", "path casing", "/api/v1/Camera/0")
    assert has(checks, Level.FAIL, "focuser/0", "NotConnected", "must be 0x407")
    assert has(checks, Level.FAIL, "camera/0", "imagearray JSON", "application/imagebytes")
    assert has(checks, Level.FAIL, "camera/0", "bad ClientTransactionID", "'-5'")
    assert has(checks, Level.FAIL, "filterwheel/0", "InvalidValue", "0 echoed")
    assert has(checks, Level.WARN, "camera/0", "interfaceversion", "older than Platform 7")
    for device, prop in (("camera/0", "imageready"), ("focuser/0", "move"),
                         ("filterwheel/0", "position"), ("telescope/0", "park"),
                         ("telescope/0", "abortslew")):
        assert has(checks, Level.PASS, device, prop), (device, prop, fails)


class Broken:
    """A tiny Alpaca focuser that breaks one rule per member: GET keys read case-sensitively,
    mis-cased PUT keys accepted, a capitalised type answered, ServerTransactionID stuck at 1,
    a DeviceState name no interface has, IsMoving never False, driverversion answering text,
    temperature hanging."""

    def __init__(self) -> None:
        self.connected = False
        self.position = 100

    def envelope(self, request: Request, value: Any = None, get: bool = True,
                 form: dict[str, str] | None = None) -> JSONResponse:
        source = form if form is not None else dict(request.query_params)
        body: dict[str, Any] = {"ClientTransactionID": int(source.get("ClientTransactionID", 0)),
                                "ServerTransactionID": 1, "ErrorNumber": 0, "ErrorMessage": ""}
        if get:
            body["Value"] = value
        return JSONResponse(body)

    async def management(self, request: Request) -> Response:
        what = request.path_params["what"]
        values: dict[str, Any] = {
            "apiversions": [1],
            "v1/description": {"ServerName": "broken", "Manufacturer": "tests",
                               "ManufacturerVersion": "0", "Location": "here"},
            "v1/configureddevices": [{"DeviceName": "Broken Focuser", "DeviceType": "Focuser",
                                      "DeviceNumber": 0, "UniqueID": "b-1"}]}
        if what not in values:
            return PlainTextResponse("no", status_code=400)
        return JSONResponse({"Value": values[what], "ClientTransactionID": 0,
                             "ServerTransactionID": 1})

    async def device(self, request: Request) -> Response:
        kind, number = request.path_params["kind"], request.path_params["number"]
        member = request.path_params["member"]
        if kind.lower() != "focuser" or number != "0":
            return PlainTextResponse("no such device", status_code=400)
        if request.method == "PUT":
            form = {k: str(v) for k, v in (await request.form()).items()}
            lowered = {k.lower(): v for k, v in form.items()}
            if member == "connected":
                if "connected" not in lowered:
                    return PlainTextResponse("Connected missing", status_code=400)
                if lowered["connected"].lower() not in ("true", "false"):
                    return PlainTextResponse("Connected is true or false", status_code=400)
                self.connected = lowered["connected"].lower() == "true"
            elif member in ("connect", "disconnect"):
                self.connected = member == "connect"
            elif member == "move":
                self.position = int(lowered["position"])
            return self.envelope(request, get=False, form=form)
        if member == "temperature":
            await asyncio.sleep(20)
        if member == "driverversion":
            return PlainTextResponse("garbage")
        values: dict[str, Any] = {
            "interfaceversion": 4, "connected": self.connected, "connecting": False,
            "name": "Broken Focuser", "description": "d", "driverinfo": "i",
            "supportedactions": [], "devicestate": [{"Name": "Banana", "Value": 1}],
            "absolute": True, "maxstep": 1000, "maxincrement": 1000,
            "tempcompavailable": False, "position": self.position, "ismoving": True}
        if member not in values:
            return PlainTextResponse("no such member", status_code=400)
        return self.envelope(request, values[member])

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/management/{what:path}", self.management, methods=["GET"]),
            Route("/api/v1/{kind}/{number}/{member}", self.device, methods=["GET", "PUT"])])


@pytest.fixture
def broken_url() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Broken().app(), host="127.0.0.1", port=port,
                                           log_level="error", lifespan="off",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "the broken server")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def test_a_broken_server_fails_naming_each_rule(broken_url: str) -> None:
    """Each broken rule is a FAIL naming it; the hanging member costs one request timeout,
    the stuck IsMoving one step timeout, and the run still reaches every check."""
    checks: list[Check] = []
    began = time.monotonic()
    check_alpaca(broken_url, http_timeout=2.0, step_timeout=2.0, out=checks)
    took = time.monotonic() - began
    fails = lines(checks, Level.FAIL)
    assert took < 60, (took, fails)  # bounds a hang: one request timeout, a few step timeouts
    assert has(checks, Level.FAIL, "focuser/0", "GET key casing", "case-insensitive"), fails
    assert has(checks, Level.FAIL, "focuser/0", "PUT key casing", "HTTP 200"), fails
    assert has(checks, Level.FAIL, "focuser/0", "path casing", "/api/v1/Focuser/0"), fails
    assert has(checks, Level.FAIL, "server", "ServerTransactionID", "not increasing"), fails
    assert has(checks, Level.FAIL, "focuser/0", "devicestate", "'Banana'"), fails
    assert has(checks, Level.FAIL, "focuser/0", "move", "IsMoving True"), fails
    assert has(checks, Level.FAIL, "focuser/0", "driverversion", "text/plain"), fails
    assert has(checks, Level.FAIL, "focuser/0", "temperature", "no reply"), fails
    assert has(checks, Level.FAIL, "focuser/0", "NotConnected", "must be 0x407"), fails
    # what it does keep passes: the management API, a missing PUT key is a 400
    assert has(checks, Level.PASS, "server", "management/v1/configureddevices", "focuser/0")
    assert has(checks, Level.PASS, "focuser/0", "PUT key missing")


def test_bad_url_and_no_server_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """A malformed URL or TYPE/NUMBER is exit 2 with the reason; a server that is not there
    is exit 2 after one bounded try, never a traceback."""
    assert main(["--alpaca", "ftp://x"]) == 2
    assert "not an http://HOST:PORT" in capsys.readouterr().err
    assert main(["--alpaca", "http://127.0.0.1:1", "camera"]) == 2
    assert "TYPE/NUMBER" in capsys.readouterr().err
    port = free_port()
    assert main(["--alpaca", f"http://127.0.0.1:{port}", "--timeout", "2"]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert f"127.0.0.1:{port}" in captured.out
