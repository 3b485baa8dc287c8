"""indiwebmanager (PyPI ``indiweb``) driving our server installed as its ``indiserver``.

indiwebmanager runs ``indiserver -p PORT -m 1000 -v -f FIFO -u SOCK`` through ``sh -c``, starts
and stops drivers with FIFO lines, and finds (``is_running``) or kills (``stop``) the server
by process: psutil's ``name() == "indiserver"`` with ``-p PORT`` in its command line. Our server
is installed as the command-line guide says (a symlink named ``indiserver`` to the
``indipyserver`` command, in a folder earlier on indiweb's PATH), and every test runs the same
against indilib's own ``indiserver``.

Protects (issue: a drop-in backend for indiwebmanager): indiweb's own detection finds our
server and its ``stop`` ends it (and so its drivers) also when it did not start it (after
indiweb itself restarted); profiles start, drivers start, stop and restart over indiweb's HTTP
API; ``INDIPYSERVER_HOST`` opens the server to the network under indiweb, which cannot pass
``--host``.

indiweb's ``stop`` falls back to ``pkill -9 indiserver`` (every indiserver on the machine) when
psutil fails; the tests put a ``pkill`` first on PATH that refuses and records, so a fallback
fails the test instead of killing other test runs' servers. psutil fails in indiweb's scan also
for a process of someone else's named ``indiserver`` that exits (or is a zombie) while indiweb
looks at it: indiweb (1.2) stops at the first such error. Other test runs on the machine make
such processes all the time, so a fallback fails a test only when indiweb's log blames one of
this test's own servers, or nothing at all (seen with a stream of short-lived processes named
``indiserver`` beside the tests: every stop fell back).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import pytest
from peers import driver_path, find_binary, free_port, getprop, terminate, wait_listening
from waiting import wait_for

#: indiweb's warning before its pkill fallback, naming the process psutil failed on.
FALLBACK_CAUSE = re.compile(r"Error killing indiserver process: .*\(pid=(\d+)")
#: indiweb's warning when is_running gave up (it then answers False), likewise.
CHECK_FAILED = re.compile(r"Error checking for indiserver process: .*\(pid=(\d+)")

REPO = Path(__file__).resolve().parents[2]
OURS, INDISERVER = "ours", "indiserver"
KINDS = [OURS, INDISERVER]

PKILL_GUARD = """#!/bin/sh
echo "pkill $*" >> "$(dirname "$0")/pkill.called"
exit 1
"""


class Machine:
    """A PATH, HOME and FIFO of one test: ``bin/`` first on PATH holds the pkill guard and, for
    our server, the ``indiserver`` symlink to the ``indipyserver`` command."""

    def __init__(self, tmp_path: Path, kind: str) -> None:
        self.kind = kind
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        guard = self.bin / "pkill"
        guard.write_text(PKILL_GUARD)
        guard.chmod(0o755)
        if kind == OURS:
            command = shutil.which("indipyserver",
                                   path=os.pathsep.join([os.path.dirname(sys.executable),
                                                         os.environ.get("PATH", "")]))
            assert command, "the indipyserver command is not installed (pip install -e .)"
            (self.bin / "indiserver").symlink_to(command)  # as docs/guides/command_line.rst
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.conf = self.home / ".indi"
        self.fifo = tmp_path / "indiFIFO"
        self.path = os.pathsep.join([str(self.bin), driver_path()])
        pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
        self.env = {**os.environ, "PATH": self.path, "HOME": str(self.home),
                    "PYTHONPATH": pythonpath}
        self.env.pop(HOST_ENV, None)
        self.own: set[int] = set()  # pids of this test's servers and drivers, as seen

    def pkill_called(self) -> str:
        called = self.bin / "pkill.called"
        return called.read_text() if called.exists() else ""

    def saw(self, server: psutil.Process | None) -> psutil.Process | None:
        """Note `server` (and its drivers) as this test's own processes; returns it."""
        if server is not None:
            self.own.add(server.pid)
            with contextlib.suppress(psutil.Error):
                self.own.update(child.pid for child in server.children())
        return server

    def indiweb_log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.home.glob("indiweb-*.log")))

    def fallback_causes(self, in_process_log: str = "") -> set[int]:
        """The pids indiweb's psutil scan failed on before each pkill fallback."""
        text = self.indiweb_log() + in_process_log
        return {int(pid) for pid in FALLBACK_CAUSE.findall(text)}

    def fallback_blamed_on_others(self, in_process_log: str = "") -> bool:
        """Whether every fallback so far was caused by a process that is not this test's."""
        causes = self.fallback_causes(in_process_log)
        return bool(causes) and not causes & self.own


HOST_ENV = "INDIPYSERVER_HOST"


@pytest.fixture(params=KINDS)
def machine(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
            caplog: pytest.LogCaptureFixture) -> Iterator[Machine]:
    find_binary("indiserver")
    m = Machine(tmp_path, request.param)
    # indiweb's IndiServer, called in this process, runs pkill from this process's PATH.
    monkeypatch.setenv("PATH", m.path)
    yield m
    for proc in psutil.process_iter(["environ"]):  # anything left of this test: reaped
        with contextlib.suppress(psutil.Error):
            if (proc.info["environ"] or {}).get("HOME") == str(m.home):
                proc.kill()
    in_process = "\n".join(r.getMessage() for r in caplog.get_records("call"))
    if m.pkill_called() and m.fallback_blamed_on_others(in_process):
        return  # another run's process, not ours, upset indiweb's scan (see the module's doc)
    assert m.pkill_called() == "", (
        f"indiweb fell back to pkill: it did not find the server (psutil failed on pids "
        f"{sorted(m.fallback_causes(in_process))}; this test's: {sorted(m.own)})")


def indiweb_finds(manager: Any, port: int, m: Machine, caplog: pytest.LogCaptureFixture) -> bool:
    """indiweb's is_running(port) (in this process), asked again (five times at most, half a
    second apart) when it answered False because psutil failed on another run's process
    (module doc): such a zombie lasts until its parent reaps it, and the suite's parallel
    workers make them beside this test (one outlived three scans in a row)."""
    for attempt in range(6):
        if attempt:
            time.sleep(0.5)
        seen = len(caplog.records)
        if manager.is_running(port):
            return True
        failed = {int(pid) for r in caplog.records[seen:]
                  for pid in CHECK_FAILED.findall(r.getMessage())}
        if not failed or failed & m.own:
            return False
    return False


def listener(port: int) -> psutil.Process | None:
    """The process listening on TCP `port` (found by its socket, not by its name)."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    return None


def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    wait_for(predicate, timeout, what, interval=0.05)


def gone(pids: list[int]) -> bool:
    return not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"
                   for p in pids)


def alive(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    return False


def devices(port: int) -> set[str]:
    return {key.split(".")[0] for key in getprop(port, "*.CONNECTION.*", timeout=1)}


def wait_devices(port: int, expected: set[str], timeout: float = 20) -> None:
    # Each look is a 1 s indi_getprop: the message shows the last one rather than asking again.
    seen: set[str] = set()

    def served() -> bool:
        nonlocal seen
        seen = devices(port)
        return seen == expected

    wait_for(served, timeout, lambda: f"devices {seen} to be {expected}", interval=0.05)


def test_indiweb_finds_and_stops_a_server_it_did_not_start(
    machine: Machine, caplog: pytest.LogCaptureFixture
) -> None:
    """indiweb's IndiServer, as after indiweb restarted (it started nothing itself): its
    is_running(port) sees the server started as indiwebmanager starts it, not another port's;
    its stop(port) kills it, and its drivers, which see EOF, exit: no orphans."""
    from indiweb.indi_server import IndiServer as IndiWebServer

    port = free_port()
    os.mkfifo(machine.fifo)
    server = subprocess.Popen(
        ["indiserver", "-p", str(port), "-m", "1000", "-v", "-f", str(machine.fifo),
         "-u", f"{machine.fifo}_sock"],
        env=machine.env, cwd=machine.home, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        assert wait_listening(server, port, 15)
        with machine.fifo.open("w") as f:
            f.write('start indi_simulator_dome -n "Dome Simulator"\n')
        wait_devices(port, {"Dome Simulator"})
        found = machine.saw(psutil.Process(server.pid))
        assert found is not None
        assert found.name() == "indiserver"
        assert ["-p", str(port)] == found.cmdline()[found.cmdline().index("-p"):][:2]
        drivers = [child.pid for child in found.children()]
        assert drivers

        manager = IndiWebServer(fifo=str(machine.fifo), conf_dir=str(machine.conf))
        assert indiweb_finds(manager, port, machine, caplog) is True
        assert manager.is_running(free_port()) is False
        for _ in range(3):  # SIGKILL, then psutil reaps it (so Popen sees no status)
            manager.stop(port)
            in_process = "\n".join(r.getMessage() for r in caplog.records)
            if server.poll() is not None or not machine.fallback_blamed_on_others(in_process):
                break  # (stopped again only while another run's process upset the scan)
        server.wait(5)
        assert not psutil.pid_exists(server.pid)
        wait_until(lambda: gone(drivers), 10, "the drivers outlived the server")
        assert manager.is_running(port) is False
    finally:
        terminate(server, 5)  # type: ignore[arg-type]


class IndiWeb:
    """The real indiwebmanager (``indi-web``) on a free port, for `machine`."""

    def __init__(self, machine: Machine, indi_port: int, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        self.log_path = machine.home / f"indiweb-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "indiweb.main", "--indi-port", str(indi_port),
                 "--port", str(self.port), "--host", "127.0.0.1", "--fifo", str(machine.fifo),
                 "--conf", str(machine.conf), "--xmldir", "/usr/share/indi", "--verbose"],
                env={**machine.env, **extra_env}, cwd=machine.home, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
            )
        assert wait_listening(self.process, self.port, 30), self.log()  # type: ignore[arg-type]

    def call(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{quote(path)}", data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        terminate(self.process, 10)  # type: ignore[arg-type]


def test_indiweb_runs_profiles_and_drivers_on_the_server(machine: Machine) -> None:
    """The indiwebmanager session of the issue, over its HTTP API: a profile with the dome and
    telescope simulators starts the server (listening on all interfaces, from
    INDIPYSERVER_HOST, for ours); a driver is stopped, started and restarted; indiweb
    restarts, and starting the profile again replaces the server it left (found by process);
    stopping the server leaves no process behind."""
    port = free_port()
    web = IndiWeb(machine, port, {HOST_ENV: "0.0.0.0"})
    try:
        web.call("POST", "/api/profiles/Sims")
        web.call("PUT", "/api/profiles/Sims", {"port": port, "autostart": 0, "autoconnect": 0})
        web.call("POST", "/api/profiles/Sims/drivers",
                 [{"label": "Dome Simulator"}, {"label": "Telescope Simulator"}])
        web.call("POST", "/api/server/start/Sims")
        wait_until(lambda: listener(port) is not None, 20, "no server listens\n" + web.log())
        wait_devices(port, {"Dome Simulator", "Telescope Simulator"})
        server = machine.saw(listener(port))
        assert server is not None and server.name() == "indiserver"
        assert web.call("GET", "/api/server/status") == [
            {"status": "True", "active_profile": "Sims"}]
        addresses = {c.laddr.ip for c in server.net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
        assert addresses == {"0.0.0.0"}  # indiserver: IPv4, all interfaces

        web.call("POST", "/api/drivers/stop/Dome Simulator")
        wait_devices(port, {"Telescope Simulator"})
        web.call("POST", "/api/drivers/start/Dome Simulator")
        wait_devices(port, {"Dome Simulator", "Telescope Simulator"})
        before = {c.pid for c in server.children()}
        web.call("POST", "/api/drivers/restart/Dome Simulator")
        wait_until(lambda: {c.pid for c in server.children()} - before, 20, "no restart")
        wait_devices(port, {"Dome Simulator", "Telescope Simulator"})
        machine.saw(server)

        web.stop()  # the server, in its own session, outlives indiweb
        assert server.is_running()
        web = IndiWeb(machine, port, {})
        for _ in range(3):  # its stop kills the old server, then it starts a new one
            web.call("POST", "/api/server/start/Sims")
            if not alive(server) or not machine.fallback_blamed_on_others():
                break  # (started again only while another run's process upset the scan)
        wait_until(lambda: not server.is_running() or server.status() == "zombie", 20,
                   "the new indiweb did not stop the server the old one left\n" + web.log())
        wait_until(lambda: (new := listener(port)) is not None and new.pid != server.pid, 20,
                   "no new server\n" + web.log())
        wait_devices(port, {"Dome Simulator", "Telescope Simulator"})
        replacement = machine.saw(listener(port))
        assert replacement is not None
        drivers = [c.pid for c in replacement.children()]

        web.call("POST", "/api/server/stop")
        wait_until(lambda: listener(port) is None, 20, "the server still listens")
        wait_until(lambda: gone([replacement.pid, *drivers]), 20, "processes left behind")
    finally:
        web.stop()


def test_run_by_the_interpreter_as_indiserver_it_is_still_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``python3 .../indiserver -p PORT``: the kernel names the process after the interpreter,
    so the server names itself (prctl) and indiweb's is_running still finds it; run under its
    own name it keeps that name."""
    from indiweb.indi_server import IndiServer as IndiWebServer

    m = Machine(tmp_path, OURS)
    monkeypatch.setenv("PATH", m.path)
    manager = IndiWebServer(fifo=str(m.fifo), conf_dir=str(m.conf))
    for command, name in (([sys.executable, str(m.bin / "indiserver")], "indiserver"),
                          ([sys.executable, "-m", "indipyserver"], None)):
        port = free_port()
        server = subprocess.Popen([*command, "-p", str(port), "--demo"], env=m.env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            assert wait_listening(server, port, 15)
            process = m.saw(psutil.Process(server.pid))
            assert process is not None
            seen = process.name()
            assert (seen == "indiserver") is (name == "indiserver"), seen
            assert indiweb_finds(manager, port, m, caplog) is (name == "indiserver")
        finally:
            terminate(server, 5)  # type: ignore[arg-type]
    assert m.pkill_called() == ""


LATE_DRIVER = """#!/bin/sh
touch "$(dirname "$0")/it-ran"
exec cat > /dev/null
"""


def test_a_driver_indiweb_cannot_start_is_not_retried(machine: Machine) -> None:
    """A profile with a custom driver whose program is not there (yet) and the dome: the dome
    is served and the server stays up; the program, put in place a second later, is never
    run, because the server gave up on it at once (ours: never tried; indiserver: its ten
    restarts within a second). Retried with backoff, it would run about 3.5 s in."""
    port = free_port()
    late = machine.home / "late" / "indi_late_driver"
    web = IndiWeb(machine, port, {})
    try:
        web.call("POST", "/api/profiles/custom/add",
                 {"Label": "Late Camera", "Name": "Late Camera", "Family": "CCDs",
                  "Exec": str(late), "Version": "1.0"})
        web.call("POST", "/api/profiles/Late")
        web.call("PUT", "/api/profiles/Late", {"port": port, "autostart": 0, "autoconnect": 0})
        web.call("POST", "/api/profiles/Late/drivers",
                 [{"label": "Late Camera"}, {"label": "Dome Simulator"}])
        web.call("POST", "/api/server/start/Late")
        wait_devices(port, {"Dome Simulator"})
        machine.saw(listener(port))
        time.sleep(1.0)
        late.parent.mkdir()
        late.write_text(LATE_DRIVER)
        late.chmod(0o755)
        time.sleep(6.0)
        assert not (late.parent / "it-ran").exists(), "the missing driver was retried"
        assert devices(port) == {"Dome Simulator"}
        assert web.call("GET", "/api/server/status") == [
            {"status": "True", "active_profile": "Late"}]
        web.call("POST", "/api/server/stop")
        wait_until(lambda: listener(port) is None, 20, "the server still listens")
    finally:
        web.stop()
