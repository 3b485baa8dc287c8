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
psutil fails; the tests put a ``pkill`` first on PATH that refuses and records, and any
fallback fails the test. indiweb (1.2) scans every process and stops at the first one named
``indiserver`` that exits (or is a zombie) while it looks, and other test runs on the machine
make such processes all the time; so each test runs indiweb, its servers and drivers, and the
calls into indiweb's code, in a PID namespace of its own with its own ``/proc`` (`Namespace`),
where indiweb sees only this test's processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import pytest
from peers import driver_path
from peers import find_binary
from peers import free_port
from peers import getprop
from peers import pid_running
from peers import terminate
from peers import wait_listening
from waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
OURS, INDISERVER = "ours", "indiserver"
KINDS = [OURS, INDISERVER]

PKILL_GUARD = """#!/bin/sh
echo "pkill $*" >> "$(dirname "$0")/pkill.called"
exit 1
"""

#: PID 1 of a `Namespace`: reaps the processes orphaned in it (drivers of a killed server).
REAPER = """import os, signal
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
while True:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
    signal.sigwait({signal.SIGCHLD})
"""


class Namespace:
    """A PID namespace with its own ``/proc`` (util-linux ``unshare``; in a user namespace
    too when not root), held by a reaper as its PID 1; `command` runs a program inside it
    (``nsenter``, which stays outside as the program's parent and exits with it). Closing
    kills PID 1, and so, by the kernel, every process left in the namespace."""

    def __init__(self) -> None:
        root = os.geteuid() == 0
        user = [] if root else ["--user", "--map-root-user"]
        self.enter = ["-p", "-m"] if root else ["-U", "--preserve-credentials", "-p", "-m"]
        self.holder = subprocess.Popen(
            ["unshare", *user, "--pid", "--fork", "--mount-proc", "--kill-child",
             sys.executable, "-c", REAPER],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.init = 0
        try:
            wait_for(self._started, 10, "unshare started no PID 1", interval=0.02)
        except AssertionError:
            self.holder.kill()
            _, err = self.holder.communicate(timeout=10)
            pytest.fail("these tests need a PID namespace to keep indiweb's process scan to "
                        "their own processes: util-linux `unshare --pid --fork --mount-proc` "
                        f"(as root, or with --user --map-root-user) failed: {err.decode()!r}")

    def _started(self) -> bool:
        if self.holder.poll() is not None:
            raise AssertionError("unshare exited")
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.holder.pid).children():
                if child.cmdline()[-1:] == [REAPER]:
                    self.init = child.pid
                    return True
        return False

    def command(self, argv: list[str]) -> list[str]:
        return ["nsenter", "-t", str(self.init), *self.enter, "--", *argv]

    def close(self) -> None:
        if self.holder.poll() is None:
            self.holder.kill()  # unshare's --kill-child: PID 1 dies, then all in it
        self.holder.communicate(timeout=10)
        if self.init:
            wait_for(lambda: not pid_running(self.init), 10,
                     "the namespace's PID 1 outlived unshare")


class Machine:
    """A PATH, HOME and FIFO of one test: ``bin/`` first on PATH holds the pkill guard and, for
    our server, the ``indiserver`` symlink to the ``indipyserver`` command."""

    def __init__(self, tmp_path: Path, kind: str, namespace: Namespace) -> None:
        self.kind = kind
        self.namespace = namespace
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
        # indiweb sends the server's output to /tmp/indiserver.log, one file for every test and
        # run on the machine: in this test's mount namespace that path is this test's own file.
        self.server_log = tmp_path / "indiserver.log"
        self.server_log.touch()
        with contextlib.suppress(FileExistsError):
            Path(SERVER_LOG).touch(exist_ok=False)  # the bind mount needs a file to cover
        done = subprocess.run(namespace.command(["mount", "--bind", str(self.server_log),
                                                 SERVER_LOG]),
                              capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 0, f"cannot give the test its own {SERVER_LOG}: {done.stderr}"

    def pkill_called(self) -> str:
        called = self.bin / "pkill.called"
        return called.read_text() if called.exists() else ""

    def indiweb_log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.home.glob("indiweb-*.log")))

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """`argv` run in this test's namespace, with its PATH and HOME (`kwargs` to Popen)."""
        return subprocess.Popen(self.namespace.command(argv), env={**self.env,
                                **kwargs.pop("env", {})}, **kwargs)

    def indiweb_finds(self, port: int) -> bool:
        """indiweb's own is_running(port), called in this test's namespace."""
        return self.indiweb_call(f"is_running({port})") == "True"

    def indiweb_stop(self, port: int) -> None:
        """indiweb's own stop(port), called in this test's namespace."""
        self.indiweb_call(f"stop({port})")

    def indiweb_call(self, call: str) -> str:
        code = ("import logging; logging.basicConfig(level=logging.DEBUG)\n"
                "from indiweb.indi_server import IndiServer\n"
                f"manager = IndiServer(fifo={str(self.fifo)!r}, conf_dir={str(self.conf)!r})\n"
                f"print(manager.{call})\n")
        done = subprocess.run(self.namespace.command([sys.executable, "-c", code]),
                              env=self.env, capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr
        assert "Error checking" not in done.stderr, done.stderr  # a failed scan, not an answer
        assert "Error killing" not in done.stderr, done.stderr  # (then its pkill fallback)
        return done.stdout.strip()


HOST_ENV = "INDIPYSERVER_HOST"
SERVER_LOG = "/tmp/indiserver.log"  # where indiweb sends its server's output


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    ns = Namespace()
    yield ns  # closing it ends whatever this test left running in it
    ns.close()


@pytest.fixture(params=KINDS)
def machine(tmp_path: Path, request: pytest.FixtureRequest,
            namespace: Namespace) -> Iterator[Machine]:
    find_binary("indiserver")
    m = Machine(tmp_path, request.param, namespace)
    yield m
    assert m.pkill_called() == "", (
        f"indiweb fell back to pkill: it did not find the server\n{m.indiweb_log()}")


def end(entered: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the program `entered` (an ``nsenter``) runs, and wait for the nsenter, which
    reaps it and exits with it (it forwards no signal; killed first, it would leave the
    program a zombie in the namespace for indiweb's next scan); `terminate` if it hangs."""
    with contextlib.suppress(psutil.Error):
        for program in psutil.Process(entered.pid).children():
            program.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        entered.wait(timeout)
    terminate(entered, timeout)


def listener(port: int) -> psutil.Process | None:
    """The process listening on TCP `port` (found by its socket, not by its name)."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    return None


def gone(pids: list[int]) -> bool:
    return not any(pid_running(p) for p in pids)


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
    machine: Machine
) -> None:
    """indiweb's IndiServer, as after indiweb restarted (it started nothing itself): its
    is_running(port) sees the server started as indiwebmanager starts it, not another port's;
    its stop(port) kills it, and its drivers, which see EOF, exit: no orphans. (indiweb's
    code runs in the test's namespace: `Machine.indiweb_call`.)"""
    port = free_port()
    os.mkfifo(machine.fifo)
    server = machine.popen(  # its pid is nsenter's, which exits with the server
        ["indiserver", "-p", str(port), "-m", "1000", "-v", "-f", str(machine.fifo),
         "-u", f"{machine.fifo}_sock"],
        cwd=machine.home, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        assert wait_listening(server, port, 15)
        with machine.fifo.open("w") as f:
            f.write('start indi_simulator_dome -n "Dome Simulator"\n')
        wait_devices(port, {"Dome Simulator"})
        found = listener(port)
        assert found is not None
        assert found.name() == "indiserver"
        assert ["-p", str(port)] == found.cmdline()[found.cmdline().index("-p"):][:2]
        drivers = [child.pid for child in found.children()]
        assert drivers

        assert machine.indiweb_finds(port) is True
        assert machine.indiweb_finds(free_port()) is False
        machine.indiweb_stop(port)  # SIGKILL; nsenter, its parent, reaps it and exits
        server.wait(5)
        assert not psutil.pid_exists(found.pid)
        wait_for(lambda: gone(drivers), 10, "the drivers outlived the server")
        assert machine.indiweb_finds(port) is False
    finally:
        end(server, 5)


class IndiWeb:
    """The real indiwebmanager (``indi-web``) on a free port, for `machine`."""

    def __init__(self, machine: Machine, indi_port: int, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        self.log_path = machine.home / f"indiweb-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = machine.popen(
                [sys.executable, "-m", "indiweb.main", "--indi-port", str(indi_port),
                 "--port", str(self.port), "--host", "127.0.0.1", "--fifo", str(machine.fifo),
                 "--conf", str(machine.conf), "--xmldir", "/usr/share/indi", "--verbose"],
                env=extra_env, cwd=machine.home, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
            )
        assert wait_listening(self.process, self.port, 30), self.log()

    def call(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{quote(path)}", data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read() or b"null")
        except OSError as exc:  # indiweb hung up (once, beside a second suite): say why
            raise AssertionError(f"{method} {path}: {exc!r}\n--- indiweb's log ---\n"
                                 f"{self.log()[-4000:]}") from exc

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        end(self.process, 10)


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
        wait_for(lambda: listener(port) is not None, 20, "no server listens\n" + web.log())
        wait_devices(port, {"Dome Simulator", "Telescope Simulator"})
        server = listener(port)
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
        wait_for(lambda: {c.pid for c in server.children()} - before, 20, "no restart")
        wait_devices(port, {"Dome Simulator", "Telescope Simulator"})

        web.stop()  # the server, in its own session, outlives indiweb
        assert server.is_running()
        web = IndiWeb(machine, port, {})
        web.call("POST", "/api/server/start/Sims")  # its stop kills the old server first
        wait_for(lambda: not server.is_running() or server.status() == "zombie", 20,
                 "the new indiweb did not stop the server the old one left\n" + web.log())
        wait_for(lambda: (new := listener(port)) is not None and new.pid != server.pid, 20,
                 "no new server\n" + web.log())
        wait_devices(port, {"Dome Simulator", "Telescope Simulator"})
        replacement = listener(port)
        assert replacement is not None
        drivers = [c.pid for c in replacement.children()]

        web.call("POST", "/api/server/stop")
        wait_for(lambda: listener(port) is None, 20, "the server still listens")
        wait_for(lambda: gone([replacement.pid, *drivers]), 20, "processes left behind")
    finally:
        web.stop()


def test_run_by_the_interpreter_as_indiserver_it_is_still_found(
    tmp_path: Path, namespace: Namespace
) -> None:
    """``python3 .../indiserver -p PORT``: the kernel names the process after the interpreter,
    so the server names itself (prctl) and indiweb's is_running still finds it; run under its
    own name it keeps that name."""
    m = Machine(tmp_path, OURS, namespace)
    for command, name in (([sys.executable, str(m.bin / "indiserver")], "indiserver"),
                          ([sys.executable, "-m", "indipyserver"], None)):
        port = free_port()
        server = m.popen([*command, "-p", str(port), "--demo"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_listening(server, port, 15)
            process = listener(port)
            assert process is not None
            seen = process.name()
            assert (seen == "indiserver") is (name == "indiserver"), seen
            assert m.indiweb_finds(port) is (name == "indiserver")
        finally:
            end(server, 5)
    assert m.pkill_called() == ""


def test_a_driver_indiweb_cannot_start_is_not_retried(machine: Machine) -> None:
    """A profile with a custom driver whose program is not there and the dome: the server
    gives up on the missing driver and says so once (ours: 'FIFO start: not started', the
    program not found, so never tried; indiserver: 'Terminated after #10 restarts', its
    restarts spent within a second: neither retries later), and runs on, serving the dome."""
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
        gave_up = "FIFO start: not started" if machine.kind == OURS else "Terminated after #"
        wait_for(lambda: gave_up in machine.server_log.read_text(errors="replace"), 20,
                 lambda: f"the server to give up on the missing driver: "
                         f"{machine.server_log.read_text(errors='replace')[-2000:]}")
        # said once, and the server runs on, serving the dome alone
        log = machine.server_log.read_text(errors="replace")
        assert log.count(gave_up) == 1, log[-2000:]
        assert devices(port) == {"Dome Simulator"}
        assert web.call("GET", "/api/server/status") == [
            {"status": "True", "active_profile": "Late"}]
        web.call("POST", "/api/server/stop")
        wait_for(lambda: listener(port) is None, 20, "the server still listens")
    finally:
        web.stop()
