"""indipy-watch against our server with the demo thermostat: a readable line for every
definition, update and message, filtered by device.property patterns, and one-line errors."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers import free_port
from toolkit import LAUNCHER, OurServer, address, run_tool, wait_defined

pytestmark = pytest.mark.interop

WATCH = ["-m", "indipyclient.tools.watch"]


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    workdir = tmp_path_factory.mktemp("watch")
    server = OurServer(str(LAUNCHER), workdir=workdir,
                       env={"INDIPY_INTERVAL": "0.2", "INDIPY_LOG_EVERY": "2"}).start()
    try:
        wait_defined(server.port, "Thermostat.SITE.FIRMWARE")
        yield server.port
    finally:
        server.stop()


def _watch(port: int, *args: str) -> list[str]:
    result = run_tool([sys.executable, *WATCH, *address(port), "-t", "1.5", *args])
    assert result.returncode == 0, result.describe()
    return result.stdout.splitlines()


LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d\d\d \S")


def test_every_vector_is_shown_defined_then_its_updates(port: int) -> None:
    lines = _watch(port)
    assert all(LINE.match(line) for line in lines), lines
    defined = [line.split()[1] for line in lines if " defined " in line]
    assert sorted(defined) == sorted(f"Thermostat.{name}" for name in
                                     ("CONNECTION", "DRIVER_INFO", "DEBUG", "TEMPERATURE",
                                      "TARGET", "HEATER_MODE", "HEATER", "SITE", "LOG"))
    target = next(line for line in lines if "Thermostat.TARGET defined" in line)
    assert "Number rw" in target and '"Target"' not in target and "[Control]" in target
    assert re.search(r"TARGET=\d", target)
    modes = next(line for line in lines if "Thermostat.HEATER_MODE defined" in line)
    assert "Switch rw OneOfMany" in modes and "AUTO=" in modes
    updates = [line for line in lines if line.split()[1] == "Thermostat.TEMPERATURE"
               and " defined " not in line]
    assert len(updates) >= 3 and all(" Ok: TEMPERATURE=" in line for line in updates)


def test_patterns_keep_only_what_they_match(port: int) -> None:
    """The connection's own lines are always shown; the server's only where they match."""
    lines = _watch(port, "Thermostat.TEMP*")
    assert lines[0].split(" ", 1)[1] == f"connected to 127.0.0.1:{port}"
    assert lines[1:] and all(line.split()[1] == "Thermostat.TEMPERATURE" for line in lines[1:])
    assert len(_watch(port, "Nope")) == 1


def test_blobs_are_shown_with_size_and_format_when_asked(port: int) -> None:
    lines = _watch(port, "--blobs", "Thermostat.LOG")
    assert any(re.search(r"LOG=<BLOB \d+ bytes \.csv>", line) for line in lines), lines
    assert not any("<BLOB" in line for line in _watch(port, "Thermostat.LOG"))


def test_unreachable_server_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_tool([sys.executable, *WATCH, "-h", "127.0.0.1", "-p", str(free_port())])
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "cannot connect" in result.stderr


README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_tool_lines_work_as_shown(port: int) -> None:
    """The sh block under "Command-line tools" in README.md, in order, against the demo
    thermostat (host and port added; indipy-watch stopped after a second)."""
    section = README.read_text().split("## Command-line tools", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [shlex.split(line.split("  #", 1)[0]) for line in block.splitlines() if line]
    assert [words[0] for words in lines] == ["indipy-getprop", "indipy-setprop", "indipy-eval",
                                             "indipy-watch"]
    for program, *args in lines:
        extra = ["-t", "1"] if program == "indipy-watch" else []
        script = str(Path(sys.executable).with_name(program))
        result = run_tool([script, *address(port), *extra, *args])
        assert result.returncode == 0, result.describe()
        if program == "indipy-eval":
            assert result.stderr == "1\n"
        if program == "indipy-getprop":
            assert "Thermostat.TARGET.TARGET=" in result.stdout


def test_a_server_restart_is_logged_and_everything_shown_again(tmp_path: Path) -> None:
    """The watch outlives its server: "lost", then "connected" and the definitions again."""
    first = OurServer(str(LAUNCHER), workdir=tmp_path, env={"INDIPY_INTERVAL": "3600"}).start()
    port = first.port
    wait_defined(port, "Thermostat.SITE.FIRMWARE")
    watcher = subprocess.Popen([sys.executable, *WATCH, *address(port), "-t", "12", "Thermostat"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = None
    try:
        time.sleep(2)
        first.stop()
        time.sleep(1)
        second = OurServer(str(LAUNCHER), workdir=tmp_path, env={"INDIPY_INTERVAL": "3600"})
        second.port = port
        second.start()
        out, err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
        if second is not None:
            second.stop()
    assert watcher.returncode == 0, err
    lines = out.splitlines()
    events = [line.split(" ", 1)[1] for line in lines]
    lost = next(i for i, e in enumerate(events) if e.startswith(f"connection to 127.0.0.1:{port} lost"))
    assert events[0] == f"connected to 127.0.0.1:{port}"
    assert any(e.startswith("Thermostat.TARGET defined") for e in events[:lost])
    back = next(i for i, e in enumerate(events) if i > lost and e.startswith("connected to"))
    assert any(e.startswith("Thermostat.TARGET defined") for e in events[back:])
