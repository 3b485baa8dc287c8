"""`indipy-conform` (issue 47 item 1): indilib's simulators and ours pass, a planted mistake
fails naming its property, and bad input (no server, an unknown device, a device without
DRIVER_INFO) gets a clear answer.

The command runs as a user runs it (`python -m indipyconform`, a subprocess) against
indilib's indiserver with its simulators and against our server; its JSON output is read
back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from peers import IndiServer
from peers import free_port
from serverkit import running

from indipyconform.expected import DEVICE_WIDE
from indipyconform.expected import ROLES
from indipyconform.report import Level
from indipyconform.shape import check_spec
from indipycore.interface import Interface
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver import newSwitchVector
from indipyserver import IPyServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


async def conform(port: int, *args: str, timeout: float = 240) -> tuple[int, dict[str, Any], str]:
    """Run indipy-conform --json on 127.0.0.1:port: exit status, the JSON, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "indipyconform", "-h", "127.0.0.1", "-p", str(port),
        "--json", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    report = json.loads(out) if out.strip() else {}
    return process.returncode, report, err.decode()


def _failures(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in report["checks"] if not c["ok"]]


@pytest.mark.interop
async def test_indilibs_simulators_pass_live(indiserver_factory: Callable[..., IndiServer]
                                            ) -> None:
    """indilib's CCD, telescope, focuser, wheel and weather simulators: no FAIL with --live,
    and each role was really driven. Two WARNs, differences clients tolerate: the CCD
    simulator's wo CCD_COOLER, and its CCD_FRAME_RESET, OneOfMany with no switch On (what
    indipydriver's vector check warns about; ours is AtMostOne)."""
    server = indiserver_factory("indi_simulator_ccd", "indi_simulator_telescope",
                                "indi_simulator_focus", "indi_simulator_wheel",
                                "indi_simulator_weather")
    status, report, err = await conform(server.port, "--live")
    assert status == 0, (_failures(report), err)
    seen = {(c["device"], c["property"], c["level"]) for c in report["checks"]}
    for device, prop in (("CCD Simulator", "CCD1"), ("CCD Simulator", "CCD_ABORT_EXPOSURE"),
                         ("Telescope Simulator", "EQUATORIAL_EOD_COORD"),
                         ("Telescope Simulator", "TELESCOPE_PARK"),
                         ("Focuser Simulator", "ABS_FOCUS_POSITION"),
                         ("Filter Simulator", "FILTER_SLOT"),
                         ("Weather Simulator", "WEATHER_STATUS")):
        assert (device, prop, "PASS") in seen, (device, prop)
    assert ("CCD Simulator", "CCD_COOLER", "WARN") in seen
    reset = next(c for c in report["checks"] if c["property"] == "CCD_FRAME_RESET")
    assert reset["level"] == "WARN" and "OneOfMany with no switch On" in reset["detail"]
    assert "Traceback" not in err


async def test_our_simulators_pass_live_with_no_warn(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 58 items 3 and 4c: our camera, mount, focuser, filter wheel and weather station
    (indipy_simulator_ccd, _telescope, _focus, _weather, as shipped) pass every check with
    --live, with no FAIL and no WARN at all, each role really driven; nothing is logged at
    WARNING while they are served and driven."""
    from indipysimulators import ccd
    from indipysimulators import focus
    from indipysimulators import telescope
    from indipysimulators import weather

    port = free_port()
    with caplog.at_level(logging.WARNING):
        drivers = (ccd.make_driver(), telescope.make_driver(), focus.make_driver(),
                   weather.make_driver())
        async with running(IPyServer(*drivers, port=port)):
            status, report, err = await conform(port, "--live")
    assert status == 0, (_failures(report), err)
    assert [c for c in report["checks"] if c["level"] != "PASS"] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    seen = {(c["device"], c["property"]) for c in report["checks"]}
    for device, prop in (("Python CCD Simulator", "CCD1"),
                         ("Python CCD Simulator", "CCD_ABORT_EXPOSURE"),
                         ("Python CCD Simulator", "CCD_FRAME_RESET"),
                         ("Python Mount", "EQUATORIAL_EOD_COORD"),
                         ("Python Mount", "TELESCOPE_ABORT_MOTION"),
                         ("Python Mount", "TELESCOPE_PARK"),
                         ("Python Focuser", "ABS_FOCUS_POSITION"),
                         ("Python Filter Wheel", "FILTER_SLOT"),
                         ("Python Weather", "WEATHER_STATUS")):
        assert (device, prop) in seen, (device, prop)
    assert "Traceback" not in err


@pytest.mark.interop
async def test_our_simulator_executables_under_indilibs_server_pass_with_no_warn(
        indiserver_factory: Callable[..., IndiServer]) -> None:
    """Our simulators as installed executables, started by indilib's indiserver as it starts
    its own: --live passes with no FAIL and no WARN (what a user of indiserver sees)."""
    server = indiserver_factory("indipy_simulator_ccd", "indipy_simulator_telescope",
                                "indipy_simulator_focus", "indipy_simulator_weather")
    status, report, err = await conform(server.port, "--live")
    assert status == 0, (_failures(report), err, server.log_tail())
    assert [c for c in report["checks"] if c["level"] != "PASS"] == []
    assert {c["device"] for c in report["checks"]} == {
        "Python CCD Simulator", "Python Mount", "Python Focuser", "Python Filter Wheel",
        "Python Weather"}


async def test_examples_ccd_simulator_passes_live() -> None:
    """examples/ccd_simulator.py on our server passes every check, --live included, with no
    WARN."""
    import ccd_simulator

    port = free_port()
    async with running(IPyServer(ccd_simulator.make_driver(), port=port)):
        status, report, err = await conform(port, "--live")
    assert status == 0, (_failures(report), err)
    assert any(c["property"] == "CCD1" and c["level"] == "PASS" for c in report["checks"])
    assert [c for c in report["checks"] if c["level"] == "WARN"] == []


def _planted() -> IPyDriver:
    """A hand-made "camera" with three mistakes: CCD_EXPOSURE read-only, CCD_BINNING's
    members misnamed, and its role properties defined before any CONNECT."""
    connection = SwitchVector("CONNECTION", "Connection", "Main Control", "rw", "OneOfMany",
                              "Idle", [SwitchMember("CONNECT", "Connect", "Off"),
                                       SwitchMember("DISCONNECT", "Disconnect", "On")])
    info = TextVector("DRIVER_INFO", "Driver Info", "General Info", "ro", "Idle", [
        TextMember("DRIVER_NAME", "Name", "Planted"), TextMember("DRIVER_EXEC", "Exec", "x"),
        TextMember("DRIVER_VERSION", "Version", "1.0"),
        TextMember("DRIVER_INTERFACE", "Interface", str(int(Interface.CCD)))])
    exposure = NumberVector("CCD_EXPOSURE", "Expose", "Main Control", "ro", "Idle", [
        NumberMember("CCD_EXPOSURE_VALUE", "Duration (s)", "%5.2f", 0, 3600, 1, 0)])
    binning = NumberVector("CCD_BINNING", "Binning", "Image Settings", "rw", "Idle", [
        NumberMember("BIN_X", "X", "%2.0f", 1, 4, 1, 1),
        NumberMember("BIN_Y", "Y", "%2.0f", 1, 4, 1, 1)])
    return PlantedDriver(Device("Planted Camera", [connection, info, exposure, binning]))


class PlantedDriver(IPyDriver):
    """Answers CONNECT / DISCONNECT as a driver must, and nothing else."""

    async def rxevent(self, event: Any) -> None:
        if isinstance(event, newSwitchVector) and event.vectorname == "CONNECTION":
            on = event.get("CONNECT") == "On"
            event.vector["CONNECT"], event.vector["DISCONNECT"] = ("On", "Off") if on else ("Off", "On")
            await event.vector.send_setVector(state="Ok" if on else "Idle")


async def test_a_planted_mistake_fails_naming_its_property() -> None:
    """The planted camera: exit 1, and the failing checks name CCD_EXPOSURE (permission),
    CCD_BINNING (members) and the properties defined before CONNECT."""
    port = free_port()
    async with running(IPyServer(_planted(), port=port)):
        status, report, _ = await conform(port, "Planted Camera")
    assert status == 1
    failures = {c["property"]: c["detail"] for c in _failures(report)}
    assert "permission ro" in failures["CCD_EXPOSURE"]
    assert "no member HOR_BIN, VER_BIN" in failures["CCD_BINNING"]
    assert any("CCD_EXPOSURE" in c["property"] and "before CONNECT" in c["detail"]
               for c in _failures(report))


async def test_no_server_unknown_device_and_no_driver_info_are_clear() -> None:
    """No server: exit 2 and one line, at once (a refused connection is not retried for the
    10 s of -t). A DEVICE that is not there: exit 2 naming it and the devices there. A device
    without DRIVER_INFO: FAIL on DRIVER_INFO, exit 1."""
    began = asyncio.get_running_loop().time()
    status, _, err = await conform(free_port(), timeout=60)
    assert asyncio.get_running_loop().time() - began < 8  # the interpreter's start, then one try
    assert status == 2 and "cannot reach an INDI server" in err and "connection refused" in err.lower()
    assert len(err.strip().splitlines()) == 1, err
    bare = IPyDriver(Device("Bare", [TextVector("NOTE", "Note", "Main", "rw", "Idle",
                                                [TextMember("TEXT", "Text", "hi")])],
                                  standard=False))
    port = free_port()
    async with running(IPyServer(bare, port=port)):
        status, _, err = await conform(port, "Nothing Here")
        assert status == 2 and "'Nothing Here'" in err and "Bare" in err
        status, report, _ = await conform(port, "Bare")
    assert status == 1
    assert {c["property"] for c in _failures(report)} >= {"DRIVER_INFO"}


@pytest.mark.parametrize("spec", [*DEVICE_WIDE, *(s for role in ROLES.values()
                                                  for s in role.required)],
                         ids=lambda spec: spec.name)
def test_every_required_spec_fails_when_missing(spec: Any) -> None:
    """The pure check: a required property that is not defined is a FAIL naming it."""
    check = check_spec("Dev", spec, None, required=True)
    assert check.level is Level.FAIL and check.prop == spec.name


class _Switches(dict[str, str]):
    """A switch vector as the pure checks read it (VectorView)."""

    vectortype = "SwitchVector"

    def __init__(self, perm: str, rule: str, **states: str) -> None:
        super().__init__(states)
        self.perm = perm
        self.rule: str | None = rule


def test_switch_states_are_checked_against_the_rule_as_the_driver_checks_them() -> None:
    """Issue 58 item 4c: indipy-conform agrees with indipydriver's own vector check. A
    OneOfMany with no switch On is a WARN (indilib's CCD_FRAME_RESET), the AtMostOne button
    with none On passes, two switches On in a OneOfMany is a FAIL; a switch indilib declares
    wo passes as rw (INDI 1.7 allows switches ro or rw only)."""
    reset = next(s for s in ROLES[Interface.CCD].optional if s.name == "CCD_FRAME_RESET")
    frame_type = next(s for s in ROLES[Interface.CCD].required if s.name == "CCD_FRAME_TYPE")
    ours = check_spec("Dev", reset, _Switches("rw", "AtMostOne", RESET="Off"), required=False)
    assert ours.level is Level.PASS, ours
    indilibs = check_spec("Dev", reset, _Switches("wo", "OneOfMany", RESET="Off"),
                          required=False)
    assert indilibs.level is Level.WARN
    assert "OneOfMany with no switch On" in indilibs.detail and "rule OneOfMany" in indilibs.detail
    two = _Switches("rw", "OneOfMany", FRAME_LIGHT="On", FRAME_BIAS="On", FRAME_DARK="Off",
                    FRAME_FLAT="Off")
    check = check_spec("Dev", frame_type, two, required=True)
    assert check.level is Level.FAIL
    assert "OneOfMany with 2 switches On (FRAME_LIGHT, FRAME_BIAS)" in check.detail
    read_only = check_spec("Dev", reset, _Switches("ro", "AtMostOne", RESET="Off"),
                           required=False)
    assert read_only.level is Level.FAIL and "permission ro" in read_only.detail
