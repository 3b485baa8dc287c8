"""docs/guides/client_tools.rst shows what the tools print (issue 58, 4k).

The guide once showed a getprop listing and a setprop refusal the tools no longer print. Each
``$ indipy-...`` command shown with its output is taken from the guide, run as the guide says
(``python -m indipyclient.<tool>``, on a free port instead of 7624) against our server with
the demo thermostat, or with indilib's CCD simulator for the CCD's commands, and every line
the guide shows must be among the lines printed. Values that change by themselves (the room
temperature, the heater lights, the times of day) are matched by their shape.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from peers import REPO
from peers import OurServer
from peers import our_server  # noqa: F401 - the fixture
from peers import setprop

GUIDE = REPO / "docs" / "guides" / "client_tools.rst"
TOOLS = {"indipy-getprop": "getprop", "indipy-setprop": "setprop", "indipy-eval": "eval",
         "indipy-watch": "watch"}
#: What changes from run to run (found in the guide's line) and what it may be instead.
VARYING = [
    (r"^\d\d:\d\d:\d\d\.\d{3}", r"\d\d:\d\d:\d\d\.\d{3}"),  # indipy-watch's time of day
    (r"(?<=TEMPERATURE=)-?[\d.]+", r"-?[\d.]+"),                 # the room
    (r"(?<=HEATER )\w+(?=:)", r"\w+"),                            # its lights
    (r"(?<=HEATING=)\w+", r"\w+"),
    (r"(?<=FROST=)\w+", r"\w+"),
]


@dataclass
class Shown:
    command: str
    lines: list[str]


def shown_commands() -> list[Shown]:
    """Each ``$ indipy-...`` line of the guide and the output lines under it (``...`` for
    lines left out; without an ``echo $?``'s status)."""
    found: list[Shown] = []
    current: Shown | None = None
    for raw in GUIDE.read_text().splitlines():
        line = raw[3:] if raw.startswith("   ") else None
        if line is None or not line.strip():
            current = None
            continue
        if line.startswith("$ "):
            command = line[2:].split("; echo $?")[0]
            current = Shown(command, []) if command.split()[0] in TOOLS else None
            if current is not None:
                found.append(current)
        elif current is not None and not line.strip().isdigit():
            current.lines.append(line)
    return [shown for shown in found if [line for line in shown.lines if line != "..."]]


def pattern(line: str, port: int) -> re.Pattern[str]:
    """`line` as a pattern: itself, but for the port and what VARYING lists."""
    line = line.replace("localhost:7624", f"localhost:{port}")
    spans = sorted((m.start(), m.end(), general) for varying, general in VARYING
                   for m in re.finditer(varying, line))
    text, at = "", 0
    for start, end, general in spans:
        text += re.escape(line[at:start]) + general
        at = end
    return re.compile(text + re.escape(line[at:]))


def run_shown(shown: Shown, port: int) -> str:
    words = shlex.split(shown.command)
    args = [sys.executable, "-m", f"indipyclient.{TOOLS[words[0]]}", "-p", str(port), *words[1:]]
    if words[0] == "indipy-watch":
        args[5:5] = ["-t", "5"]  # the guide's runs until Ctrl-C
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env,
                          check=False)
    return done.stdout + done.stderr


SHOWN = shown_commands()


def test_the_guide_shows_commands_with_their_output() -> None:
    """The parsing above finds the guide's examples (getprop, setprop and watch ones)."""
    assert {shlex.split(s.command)[0] for s in SHOWN} >= {"indipy-getprop", "indipy-setprop",
                                                         "indipy-watch"}, SHOWN


@pytest.mark.parametrize("shown", SHOWN, ids=[s.command[:50] for s in SHOWN])
def test_each_shown_output_is_what_the_tool_prints(
        our_server: Callable[..., OurServer], shown: Shown) -> None:  # noqa: F811
    """The lines the guide shows under a command are printed by it, as shown and in that
    order; the first one first unless the guide starts with ``...``."""
    if "CCD Simulator" in shown.command:
        server = our_server("indi_simulator_ccd")
        setprop(server.port, "CCD Simulator.CONNECTION.CONNECT=On", timeout=5)
    else:
        server = our_server("--demo")
    printed = run_shown(shown, server.port).splitlines()
    at = 0
    for index, line in enumerate(shown.lines):
        if line == "...":
            continue
        wanted = pattern(line, server.port)
        found = [n for n, out in enumerate(printed) if n >= at and wanted.fullmatch(out)]
        assert found, (line, printed[at:])
        if index == 0:
            assert found[0] == 0, ("printed first", line, printed)
        at = found[0] + 1
