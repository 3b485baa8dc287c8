"""The unattended-night guide's "When the weather turns" does what it says (issue 72 item 7).

Its server line (the watchdog in-process beside indilib's weather, telescope and dome
simulators), its ``indi_setprop``/``indi_getprop`` lines, taken from the guide itself, and its
shutdown script (``examples/watchdog_shutdown.sh``, included in the guide by
``literalinclude``, so the documented script is the tested one) are run as an observer runs
them: the rain parks the mount and the dome, the cause is shown, the script writes its line.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
from peers import REPO
from peers import OurServer
from peers import getprop
from peers import setprop
from waiting import wait_for

GUIDE = REPO / "docs" / "guides" / "unattended_night.rst"
SCRIPT = REPO / "examples" / "watchdog_shutdown.sh"
TITLE = "When the weather turns"


def section_lines() -> list[str]:
    lines = GUIDE.read_text().splitlines()
    start = lines.index(TITLE) + 2
    end = next(n - 1 for n in range(start + 1, len(lines))
               if lines[n] and set(lines[n]) == {"-"} and len(lines[n]) == len(lines[n - 1]))
    return lines[start:end]


def guide_commands() -> list[list[str]]:
    """The section's ``indi_setprop``/``indi_getprop`` lines, split as the shell would."""
    return [shlex.split(line.strip()) for line in section_lines()
            if line.startswith(("    indi_setprop ", "    indi_getprop "))]


def test_the_section_includes_the_tested_script_and_names_the_server_line() -> None:
    """The script shown is the tested file, and the server line starts the watchdog with the
    simulators the commands below it drive."""
    text = "\n".join(section_lines())
    assert ".. literalinclude:: ../../examples/watchdog_shutdown.sh" in text
    assert "indipyserver indipyagents.watchdog indipyagents.imager indi_simulator_weather" in text


@pytest.mark.timeout(120)
def test_the_guides_commands_park_the_mount_and_dome_and_run_the_script(tmp_path: Path) -> None:
    """The guide's lines, as written but for the port and the script's path: the rain turns
    the weather Alert, the shutdown parks the mount and the dome and runs the example script
    (each step Ok in WATCHDOG_STEPS), WATCHDOG_CAUSE names the station, and the script logged
    the cause it was given."""
    commands = guide_commands()
    assert [c[0] for c in commands] == ["indi_setprop"] * 6 + ["indi_getprop"], commands
    script = tmp_path / "watchdog_shutdown.sh"
    shutil.copy(SCRIPT, script)
    with OurServer("indipyagents.watchdog", "indi_simulator_weather", "indi_simulator_telescope",
                   "indi_simulator_dome", workdir=tmp_path,
                   env={"INDIPY_AGENT_STATE": str(tmp_path / "state")}) as server:
        for command in commands[:-1]:
            specs = [spec.replace("/home/pi/watchdog_shutdown.sh", str(script))
                     for spec in command[1:]]
            result = setprop(server.port, *specs, timeout=10)
            assert result.returncode == 0, (result, server.log_tail())
        wanted = commands[-1][1:]
        steps = [f"WatchDog.WATCHDOG_STEPS.{step}"
                 for step in ("PARK_MOUNT", "PARK_DOME", "EXECUTE_SCRIPT")]

        def shut() -> dict[str, str] | None:
            found = getprop(server.port, *wanted, timeout=2)
            assert not any(found.get(step) == "Alert" for step in steps), found
            return found if all(found.get(step) == "Ok" for step in steps) else None

        # The threshold, then the telescope simulator's slew to its park position.
        found = wait_for(shut, 90, lambda: server.log_tail())
        assert found["WatchDog.WATCHDOG_STEPS.PAUSE_SEQUENCE"] == "Alert"  # no sequencer here
        log = server.home / "watchdog.log"  # the server's HOME: the script logs there
        parks = getprop(server.port, "Telescope Simulator.TELESCOPE_PARK.PARK",
                        "Dome Simulator.DOME_PARK.PARK", timeout=5)
    assert parks == {"Telescope Simulator.TELESCOPE_PARK.PARK": "On",
                     "Dome Simulator.DOME_PARK.PARK": "On"}, parks
    assert found["WatchDog.WATCHDOG_CAUSE.CAUSE"] == \
        "weather 'Weather Simulator': WEATHER_STATUS is Alert"
    logged = log.read_text()
    assert "weather Weather Simulator: weather 'Weather Simulator': WEATHER_STATUS is Alert" \
        in logged, logged
