"""indipy-watch against our server with the demo thermostat: a readable line for every
definition, update and message, filtered by device.property patterns, and one-line errors."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers import OurServer
from peers import free_port
from toolkit import LAUNCHER
from toolkit import address
from toolkit import run_tool
from toolkit import wait_defined
from waiting import wait_for

pytestmark = pytest.mark.interop

WATCH = ["-m", "indipyclient.frontends.tools.watch"]


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    workdir = tmp_path_factory.mktemp("watch")
    server = OurServer(str(LAUNCHER), workdir=workdir, verbosity=0,
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
                                     ("CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS",
                                      "TEMPERATURE",
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
    """A port nothing listens on: one line on stderr with the reason, exit 2 (after the 5 s
    it gives a server that is starting)."""
    port = free_port()
    result = run_tool([sys.executable, *WATCH, "-h", "127.0.0.1", "-p", str(port)])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"indipy-watch: cannot connect to 127.0.0.1:{port}: Connection refused (tried for 5 s)"]


def test_a_refused_connection_is_said_at_once_while_it_retries() -> None:
    """The first refused attempt is a line on stdout at once, with the reason ("cannot connect
    to HOST:PORT: Connection refused; retrying"), while the watch is still trying (it used to
    say nothing until it gave up)."""
    port = free_port()
    watcher = subprocess.Popen([sys.executable, *WATCH, "-h", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout is not None
        first = watcher.stdout.readline()
        still_trying = watcher.poll() is None
    finally:
        watcher.terminate()
        watcher.communicate(timeout=30)
    assert LINE.match(first), first
    assert first.split(" ", 1)[1] == (f"cannot connect to 127.0.0.1:{port}: Connection refused;"
                                      " retrying\n")
    assert still_trying


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
    """The watch outlives its server: "lost", then "connected" and the definitions again.
    Each step waits for the watch to have printed the one before (read as it goes)."""
    first = OurServer(str(LAUNCHER), workdir=tmp_path / "first", verbosity=0,
                      env={"INDIPY_INTERVAL": "3600"}).start()
    port = first.port
    wait_defined(port, "Thermostat.SITE.FIRMWARE")
    watcher = subprocess.Popen([sys.executable, *WATCH, *address(port), "-t", "60", "Thermostat"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert watcher.stdout is not None
    events: list[str] = []
    reader = threading.Thread(
        target=lambda: events.extend(line.rstrip("\n").split(" ", 1)[1]
                                     for line in watcher.stdout),  # type: ignore[union-attr]
        daemon=True)
    reader.start()

    def printed(prefix: str, after: int = 0) -> int | None:
        found = [i for i, e in enumerate(list(events)) if i >= after and e.startswith(prefix)]
        return found[0] + 1 if found else None  # + 1: 0 is a found index too

    second = None
    try:
        wait_for(lambda: printed("Thermostat.TARGET defined"), 30, what="the definitions")
        first.stop()
        lost = wait_for(lambda: printed(f"connection to 127.0.0.1:{port} lost"), 30,
                        what="the watch saying lost") - 1
        # while the server is away, the watch says why it cannot connect (once per reason)
        refused = f"cannot connect to 127.0.0.1:{port}: Connection refused; retrying"
        wait_for(lambda: printed(refused, lost), 30, what="the watch saying why it cannot connect")
        second = OurServer(str(LAUNCHER), workdir=tmp_path / "second", port=port, verbosity=0,
                           env={"INDIPY_INTERVAL": "3600"}).start()
        back = wait_for(lambda: printed("connected to", lost), 30, what="connected again") - 1
        wait_for(lambda: printed("Thermostat.TARGET defined", back), 30,
                 what="the definitions again")
    finally:
        watcher.terminate()
        watcher.wait(30)
        reader.join(30)
        watcher.stdout.close()
        if second is not None:
            second.stop()
    assert events[0] == f"connected to 127.0.0.1:{port}"
    assert any(e.startswith("Thermostat.TARGET defined") for e in events[:lost])
    assert events[lost + 1:back].count(refused) == 1, events[lost:back]
