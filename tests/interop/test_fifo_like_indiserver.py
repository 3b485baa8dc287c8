"""FIFO lines on our server side by side with indilib's ``indiserver -f``.

indiwebmanager writes ``start BIN -n "Label"`` and ``stop BIN`` lines into the FIFO of whichever
``indiserver`` it finds first on PATH, so each test here writes the same lines to both servers
and checks what their clients then see.

Protects (issue: a drop-in backend for indiwebmanager, items 3 and 4):
- ``start`` of a program that cannot be executed is reported and dropped at once (indiserver
  spends its ``-r`` restarts on it within a second); the server goes on and serves the next
  driver started;
- ``stop BIN`` stops one instance per line, the one indiserver stops (the oldest running), and
  says which.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from peers import IndiServer
from peers import OurServer
from peers import find_binary
from peers import getprop
from waiting import wait_for

OURS, INDISERVER = "ours", "indiserver"
KINDS = [OURS, INDISERVER]


class FifoServer:
    """Our server or indiserver with ``-f FIFO`` and no driver, on its own port and HOME."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        workdir.mkdir(parents=True)
        self.fifo = workdir / "indififo"
        os.mkfifo(self.fifo)  # indiserver opens it and exits if it is missing
        self.home = workdir / "home"
        self.home.mkdir()
        server_class = IndiServer if kind == INDISERVER else OurServer
        self._server = server_class(workdir=workdir, extra_args=["-f", str(self.fifo)])
        self._server.home = self.home
        self._server.start()
        self.port = self._server.port
        self.log_path = self._server.log_path

    def write(self, line: str) -> None:
        with self.fifo.open("w") as f:
            f.write(line + "\n")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, text: str, timeout: float = 15.0) -> None:
        """Return once `text` is in the log; fails the test after `timeout`."""
        try:
            wait_for(lambda: text in self.log(), timeout, what=repr(text))
        except AssertionError:
            pytest.fail(f"{text!r} not logged:\n{self.log()}", pytrace=False)

    def devices(self) -> set[str]:
        return {key.split(".")[0] for key in getprop(self.port, "*.CONNECTION.*", timeout=1)}

    def wait_devices(self, expected: set[str], timeout: float = 15) -> None:
        seen: set[str] = set()

        def served() -> bool:
            nonlocal seen
            seen = self.devices()
            return seen == expected

        try:
            wait_for(served, timeout, interval=0.1)
        except AssertionError:
            pytest.fail(f"{self.kind}: {seen} != {expected}\n{self.log()}", pytrace=False)

    @property
    def pid(self) -> int:
        assert self._server.process is not None
        return self._server.process.pid

    def alive(self) -> bool:
        return self._server.running

    def stop(self) -> int | None:
        return self._server.stop()


@pytest.fixture
def fifo_server(tmp_path: Path) -> Iterator[Callable[[str], FifoServer]]:
    servers: list[FifoServer] = []

    def start(kind: str) -> FifoServer:
        server = FifoServer(kind, tmp_path / f"{kind}-{len(servers)}")
        servers.append(server)
        return server

    yield start
    for server in servers:
        code = server.stop()
        if server.kind == OURS:
            assert code == 0, server.log()


@pytest.mark.parametrize("kind", KINDS)
def test_start_of_a_missing_program_is_dropped_and_the_server_goes_on(
    fifo_server: Callable[[str], FifoServer], kind: str
) -> None:
    """``start indi_no_such_driver``: indiserver restarts it -r (10) times within a second and
    gives up; ours says at once that it is not on PATH and does not try at all. Both serve the
    dome started next."""
    find_binary("indi_simulator_dome")
    server = fifo_server(kind)
    server.write('start indi_no_such_driver -n "Ghost"')
    if kind == INDISERVER:
        server.wait_log("Terminated after #10 restarts")
    else:
        server.wait_log("FIFO start: not started: driver indi_no_such_driver: not "
                        "found on PATH")
        assert "restarting" not in server.log()
    server.write("start indi_simulator_dome")
    server.wait_devices({"Dome Simulator"})
    assert server.alive()


def driver_pid_or_none(server: FifoServer, device: str) -> int | None:
    """The pid of the server's child started with INDIDEV=`device` (FIFO ``-n``), if any."""
    for child in psutil.Process(server.pid).children():
        try:
            if child.environ().get("INDIDEV") == device and child.status() != "zombie":
                return int(child.pid)
        except psutil.Error:
            continue
    return None


def driver_pid(server: FifoServer, device: str) -> int:
    pid = driver_pid_or_none(server, device)
    assert pid is not None, f"no driver for {device} under {server.kind}:\n{server.log()}"
    return pid


def two_domes(fifo_server: Callable[[str], FifoServer], kind: str) -> FifoServer:
    """A FIFO-driven server of `kind` with two domes of one program: Dome A started first."""
    find_binary("indi_simulator_dome")
    server = fifo_server(kind)
    server.write('start indi_simulator_dome -n "Dome A"')
    server.wait_devices({"Dome A"})
    server.write('start indi_simulator_dome -n "Dome B"')
    server.wait_devices({"Dome A", "Dome B"})
    return server


@pytest.mark.parametrize("kind", KINDS)
def test_stop_without_a_name_stops_the_oldest_instance_one_per_line(
    fifo_server: Callable[[str], FifoServer], kind: str
) -> None:
    """Two domes from one program: ``stop indi_simulator_dome`` stops the one started first
    and leaves the other; the same line again stops the other. Ours says which it stopped."""
    server = two_domes(fifo_server, kind)
    server.write("stop indi_simulator_dome")
    server.wait_devices({"Dome B"})
    if kind == OURS:
        server.wait_log("FIFO stop: stopped indi_simulator_dome (Dome A) (pid ")
        server.wait_log(", the oldest of 2 running")
    # One line stops one: Dome B stays. The server reads its FIFO in order, so once the next
    # line's telescope is served, the stop line has long been dealt with.
    server.write("start indi_simulator_telescope")
    server.wait_devices({"Dome B", "Telescope Simulator"})
    server.write("stop indi_simulator_dome")
    server.wait_devices({"Telescope Simulator"})
    assert server.alive()


@pytest.mark.parametrize("kind", KINDS)
def test_a_restarted_driver_counts_as_started_when_it_restarted(
    fifo_server: Callable[[str], FifoServer], kind: str
) -> None:
    """Dome A started first but died and was restarted after Dome B: indiserver then holds it
    as the newer of the two, and so do we, so ``stop indi_simulator_dome`` stops Dome B."""
    server = two_domes(fifo_server, kind)
    first = driver_pid(server, "Dome A")
    os.kill(first, signal.SIGKILL)

    def restarted() -> int | None:
        pid = driver_pid_or_none(server, "Dome A")
        return None if pid == first else pid

    pid = wait_for(restarted, 15, what="Dome A restarted")
    server.wait_devices({"Dome A", "Dome B"})
    server.write("stop indi_simulator_dome")
    server.wait_devices({"Dome A"})
    assert driver_pid(server, "Dome A") == pid


@pytest.mark.parametrize("kind", KINDS)
def test_stop_with_a_name_matches_the_device_a_driver_serves(
    fifo_server: Callable[[str], FifoServer], kind: str
) -> None:
    """A driver started without ``-n`` is stopped by ``stop BIN -n DEVICE`` naming the device
    it serves (indiserver matches the devices a driver defined, not only its INDIDEV); a name
    it does not serve stops nothing."""
    find_binary("indi_simulator_dome")
    server = fifo_server(kind)
    server.write("start indi_simulator_dome")
    server.wait_devices({"Dome Simulator"})
    server.write('stop indi_simulator_dome -n "Other Dome"')
    # The FIFO is read in order: once the next line's telescope is served, the stop naming
    # another device has been dealt with, and the dome is still there.
    server.write("start indi_simulator_telescope")
    server.wait_devices({"Dome Simulator", "Telescope Simulator"})
    server.write('stop indi_simulator_dome -n "Dome Simulator"')
    server.wait_devices({"Telescope Simulator"})
    if kind == OURS:
        server.wait_log("FIFO stop: no running driver indi_simulator_dome named 'Other Dome'")
        server.wait_log("FIFO stop: stopped indi_simulator_dome (pid ")
