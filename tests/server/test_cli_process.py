"""`python -m indipyserver` as a process: signals end it cleanly (exit 0, children reaped).

The driver child is a tiny Python script that speaks no INDI and ignores SIGINT, so only the
server's own shutdown (stdin EOF, SIGTERM, SIGKILL) can end it.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import psutil
import pytest
from peers import OurServer
from peers import children_named
from peers import getprop
from peers import pid_alive
from waiting import wait_for

CHILD = """\
import signal, sys, os
signal.signal(signal.SIGINT, signal.SIG_IGN)
print(os.getpid(), file=sys.stderr, flush=True)
sys.stdin.buffer.read()
"""


def child_driver(tmp_path: Path) -> Path:
    """The driver child's executable, ``tmp_path/child_driver``."""
    child = tmp_path / "child_driver"
    child.write_text(f"#!{sys.executable}\n{CHILD}")
    child.chmod(0o755)
    return child


def pid_said(server: OurServer, label: str) -> int:
    """The pid the child printed, as the server relayed it (``... LABEL: PID``); 0 if not yet."""
    for line in server.log_text().splitlines():
        if label in line and line.rsplit(":", 1)[1].strip().isdigit():
            return int(line.rsplit(":", 1)[1])
    return 0


def start_server(tmp_path: Path, verbose: bool = True) -> tuple[OurServer, int]:
    """Start the server (peers.OurServer, listening) with one executable child; return (server,
    child pid) once the server has relayed the child's pid."""
    server = OurServer(str(child_driver(tmp_path)), workdir=tmp_path / "server",
                       verbosity=int(verbose)).start()
    try:
        child_pid = wait_for(lambda: pid_said(server, "child_driver:"), 15,
                             lambda: f"the child driver's pid in the log:\n{server.log_tail()}")
    except AssertionError:
        server.stop()
        raise
    return server, child_pid


def signal_and_wait(server: OurServer, sig: signal.Signals) -> int:
    """Send ``sig`` to the server as an operator does; its exit status."""
    assert server.process is not None
    server.process.send_signal(sig)
    return server.process.wait(timeout=15)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero_and_reaps_the_driver(tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM (service stop) and SIGINT (Ctrl-C): exit status 0, no driver left behind."""
    server, child_pid = start_server(tmp_path)
    try:
        assert pid_alive(child_pid)
        assert signal_and_wait(server, sig) == 0, server.log_tail()
        # Checked before stop(), which would kill what is left in the server's process group.
        assert not pid_alive(child_pid), "the driver child outlived the server"
    finally:
        server.stop()


def test_without_v_the_listening_port_and_drivers_stderr_are_shown(tmp_path: Path) -> None:
    """As indiserver, the command shows where it listens and what its drivers print on stderr
    (``Driver <name>: ...``) without -v: a driver's complaints are not hidden by default.
    start_server found the child's stderr line (its pid) with no -v given."""
    server, child_pid = start_server(tmp_path, verbose=False)
    try:
        assert signal_and_wait(server, signal.SIGTERM) == 0, server.log_tail()
    finally:
        server.stop()
    log = server.log_text()
    assert f"serving INDI on localhost:{server.port}" in log, log
    assert f"Driver {tmp_path / 'child_driver'}: {child_pid}" in log, log
    assert f"server on port {server.port} stopped" in log, log
    assert "exited with status" not in log, log  # other INFO lines still need -v


def test_fifo_server_runs_with_zero_drivers_and_starts_one(tmp_path: Path) -> None:
    """-f alone keeps the server up; 'start' through the FIFO runs a driver; 'stop' reaps it."""
    fifo = tmp_path / "fifo"
    child = child_driver(tmp_path)
    server = OurServer("-f", str(fifo), workdir=tmp_path / "server").start()
    try:
        wait_for(fifo.exists, 10, "the FIFO")
        with open(fifo, "w") as f:
            f.write(f'start {child} -n "Kid"\n')
        child_pid = wait_for(lambda: pid_said(server, "child_driver (Kid):"), 15,
                             lambda: f"the started driver's pid in the log:\n{server.log_tail()}")
        assert pid_alive(child_pid)
        with open(fifo, "w") as f:
            f.write(f'stop {child} -n "Kid"\n')
        wait_for(lambda: not pid_alive(child_pid), 10, "the driver stopped through the FIFO")
        assert server.running  # still serving, with zero drivers
        assert signal_and_wait(server, signal.SIGTERM) == 0, server.log_tail()
    finally:
        server.stop()


def test_a_driver_stopped_and_started_in_one_write_serves_its_device_again(
        tmp_path: Path) -> None:
    """indiweb's restart of a driver: ``stop`` and ``start`` in one write to the FIFO, the new
    process defining its device while the old one may still be going. Each of three times the
    new process alone runs and its device is served (indilib's ``indi_simulator_dome``); before,
    a new one that defined the device first was refused for its whole session."""
    fifo = tmp_path / "fifo"
    server = OurServer("-f", str(fifo), workdir=tmp_path / "server").start()
    assert server.process is not None
    main = psutil.Process(server.process.pid)

    def domes() -> set[int]:
        return children_named(main, "indi_simulator_dome")

    def served() -> bool:
        return bool(getprop(server.port, "Dome Simulator.CONNECTION.CONNECT", timeout=2))

    try:
        wait_for(fifo.exists, 10, "the FIFO")
        with open(fifo, "w") as f:
            f.write("start indi_simulator_dome\n")
        wait_for(served, 30, "the dome served")
        for _ in range(3):
            before = domes()
            with open(fifo, "w") as f:
                f.write("stop indi_simulator_dome\nstart indi_simulator_dome\n")
            wait_for(lambda: (now := domes()) and not now & before, 20,  # noqa: B023
                     "a new dome process, alone")
            wait_for(served, 30, lambda: f"the restarted dome served\n{server.log_tail()}")
    finally:
        server.stop()
