"""The README's snippets and getting_started's sample run as written (issue 70 item 5).

A new user copies the README's lamp and camera into files and does what the next sentence
says: `indipyserver lamp.py mycam.py`, then the lamp as a program under indilib's `indiserver`,
then `python lamp.py` while something already holds the port. Each test here takes the code
from README.md itself (an edit that breaks a snippet fails here) and does exactly that with
indilib's own tools; the getting-started page's sample output is compared with what
`indi_getprop` prints against the demo server.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import peers
from peers import IndiServer
from peers import OurServer
from waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
GETTING_STARTED = REPO / "docs" / "getting_started.rst"


def snippet(heading: str) -> str:
    """The first python block under README's `heading`."""
    section = README.read_text().split(heading, 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, f"README has no python block under {heading!r}"
    return found.group(1)


def lamp() -> str:
    return snippet("## A driver in ten lines")


def camera() -> str:
    return snippet("## A camera Ekos can capture with")


def test_the_server_command_serves_both_snippets_as_written(tmp_path: Path) -> None:
    """`indipyserver lamp.py mycam.py` imports each file and serves its `driver`: the camera's
    `asyncio.run(...)` is behind its `__main__` guard, so importing it does not run it."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "lamp.py").write_text(lamp())
    (work / "mycam.py").write_text(camera())
    server = OurServer(str(work / "lamp.py"), str(work / "mycam.py"), workdir=work)
    with server:
        result = peers.getprop(server.port, "Lamp.POWER.ON", "My Camera.CONNECTION.CONNECT",
                               timeout=10)
        assert result.get("Lamp.POWER.ON") == "Off", server.log_tail()
        assert result.get("My Camera.CONNECTION.CONNECT") == "Off", server.log_tail()
        assert peers.setprop(server.port, "Lamp.POWER.ON=On").returncode == 0
        assert peers.getprop(server.port, "Lamp.POWER.ON", timeout=5).get("Lamp.POWER.ON") == "On"


def test_the_lamp_runs_under_indiserver_as_the_readme_says(tmp_path: Path) -> None:
    """The README's recipe for indilib's server: the last line swapped for
    `asyncio.run(driver.asyncrun())`, a `#!/usr/bin/env python3` first line and the
    executable bit; `indiserver "$PWD/lamp.py"` then serves it to indilib's tools."""
    text = README.read_text()
    for step in ("asyncio.run(driver.asyncrun())", "#!/usr/bin/env python3", "chmod +x lamp.py",
                 "indiserver \"$PWD/lamp.py\""):
        assert step in text, step
    code = lamp().replace("IPyServer(driver).run()", "asyncio.run(driver.asyncrun())")
    program = tmp_path / "lamp.py"
    program.write_text("#!/usr/bin/env python3\nimport asyncio\n" + code)
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    # indiserver finds python3 on PATH: the test's interpreter first (the toolkit installed).
    env = {"PYTHONPATH": os.pathsep.join(filter(None, (str(REPO),
                                                       os.environ.get("PYTHONPATH"))))}
    with IndiServer(str(program), workdir=tmp_path, env=env) as server:
        assert peers.setprop(server.port, "Lamp.POWER.ON=On", timeout=10).returncode == 0, \
            server.log_tail()
        # indi_setprop returns once it has sent; the driver answers a moment later.
        wait_for(lambda: peers.getprop(server.port, "Lamp.POWER.ON",
                                       timeout=5).get("Lamp.POWER.ON") == "On",
                 timeout=20, what=server.log_tail, interval=0.5)


def test_the_lamp_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    """`python lamp.py` while another server holds the port: exit 1 with one line naming the
    port and how to choose another, no traceback."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        program = tmp_path / "lamp.py"
        program.write_text(lamp().replace("IPyServer(driver)", f"IPyServer(driver, port={port})"))
        done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                              timeout=60, cwd=tmp_path, check=False,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"port {port}" in lines[0] and "in use" in lines[0], lines
    assert "IPyServer(driver, port=" in lines[0], lines


def sample_sessions() -> list[tuple[str, list[str]]]:
    """getting_started's terminal sample: each `$ indi_getprop ...` command with the lines
    shown under it (`...` kept: it stands for lines left out)."""
    text = GETTING_STARTED.read_text()
    block = text.split("With indilib's command-line tools, in another terminal::", 1)[1]
    sessions: list[tuple[str, list[str]]] = []
    for line in block.split("\n\n", 2)[1].splitlines():
        line = line.strip()
        if line.startswith("$ "):
            sessions.append((line[2:].split("#")[0].strip(), []))
        elif line and sessions:
            sessions[-1][1].append(line)
    return sessions


#: Readings that change while the demo runs: only their names are compared.
CHANGING = {"Thermostat.TEMPERATURE.TEMPERATURE"}


def shown_in(shown: list[str], printed: list[str]) -> bool:
    """Whether the sample's lines are what was printed: the same first line, then each shown
    line in order, with `...` standing for any lines left out (values of readings that
    change compared by name)."""
    def same(a: str, b: str) -> bool:
        name_a, _, _value = a.partition("=")
        return a == b or (name_a in CHANGING and b.startswith(name_a + "="))

    at, skipping = 0, False
    for line in shown:
        if line == "...":
            skipping = True
            continue
        while at < len(printed) and not same(line, printed[at]):
            if not skipping:
                return False
            at += 1
        if at == len(printed):
            return False
        at, skipping = at + 1, False
    return skipping or at == len(printed)


def test_the_pattern_of_a_sample_can_fail() -> None:
    """The comparison refuses a sample that starts elsewhere or leaves lines out unsaid."""
    printed = ["A.B.C=1", "A.B.D=2", "A.E.F=3"]
    assert shown_in(["A.B.C=1", "...", "A.E.F=3"], printed)
    assert not shown_in(["A.B.D=2", "..."], printed)
    assert not shown_in(["A.B.C=1", "A.E.F=3"], printed)


def test_getting_starteds_sample_is_what_indi_getprop_prints(tmp_path: Path) -> None:
    """Each `indi_getprop` / `indi_setprop` of the page's sample, run against
    `indipyserver --demo`, prints what the page shows (up to its `...`)."""
    sessions = sample_sessions()
    assert any(command == "indi_getprop" for command, _ in sessions), sessions
    with OurServer("--demo", workdir=tmp_path) as server:
        for command, shown in sessions:
            args = command.split()
            if args[0] == "indi_eval" or "LOG" in command:
                continue  # waits for the room to warm up / writes a file: not a sample output
            specs = [a.strip('"') for a in args[1:] if not a.startswith("-") and
                     not a.isdigit()]
            if args[0] == "indi_setprop":
                assert peers.setprop(server.port, *specs, timeout=5).returncode == 0
                continue
            result = peers.getprop(server.port, *specs, timeout=3)
            printed = result.result.stdout.strip().splitlines()
            assert shown_in(shown, printed), (command, shown, printed)
