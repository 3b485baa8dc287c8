"""What `python -m indipyserver` logs, read as an operator reads it (issue 28, item 4), with
indilib's real clients (indi_getprop, indi_setprop) and drivers (indi_simulator_telescope).

Without -v the log shows failures and the recoveries that end them; ordinary clients coming and
going (and the resets and broken pipes of indi_getprop closing its socket) are DEBUG, not even
in -v; a clean stop says that it stops and nothing about each driver; SIGINT and SIGTERM are
logged at one level (INFO) by the command and by `IPyServer.run()`.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from peers import OurServer
from peers import free_port
from peers import getprop
from peers import setprop

TELESCOPE = "Telescope Simulator"


def start(tmp_path: Path, name: str, port: int, *args: str, verbosity: int = 0) -> OurServer:
    """`python -m indipyserver ARGS` on ``port`` (peers.OurServer, no -v unless asked), its log
    and HOME in tmp_path/NAME; returns once the port accepts connections."""
    return OurServer(*args, workdir=tmp_path / name, port=port, verbosity=verbosity).start()


def stop(server: OurServer, sig: signal.Signals = signal.SIGINT) -> int:
    """Stop ``server`` with ``sig``, as an operator does; its exit status."""
    assert server.process is not None
    server.process.send_signal(sig)
    try:
        return server.process.wait(timeout=15)
    finally:
        server.stop()


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "-v"])
def test_clients_coming_and_going_and_a_clean_stop_are_quiet(tmp_path: Path, verbose: bool) -> None:
    """indi_getprop and indi_setprop against our server serving indilib's telescope simulator,
    then Ctrl-C. Failed before: with -v each client added "connected"/"disconnected" lines,
    "write failed: [Errno 32] Broken pipe" and the telescope's "exited with status 1" at the
    clean stop; without -v the SIGINT line was a WARNING."""
    port = free_port()
    server = start(tmp_path, "server", port, "indi_simulator_telescope", verbosity=int(verbose))
    try:
        assert getprop(port, f"{TELESCOPE}.CONNECTION.CONNECT", timeout=10).returncode == 0
        assert setprop(port, f"{TELESCOPE}.CONNECTION.CONNECT=On").returncode == 0
        getprop(port, f"{TELESCOPE}.*.*", timeout=1)  # waits, then closes on the server
        assert stop(server) == 0
    finally:
        server.stop()
    log = server.log_text()
    # (A client that asks before the telescope has defined anything is told about at INFO:
    # that line is news, not noise.)
    for noise in ("connected", "write failed", "Broken pipe", "reset by peer",
                  "exited with status", "stopped,", "input closed"):
        assert noise not in log, log
    assert "INFO indipyserver.cli: SIGINT received: shutting down" in log, log
    assert f"INFO indipyserver.server: server on port {port} stopped" in log, log
    assert "WARNING" not in log and "ERROR" not in log, log


def test_a_remote_that_comes_late_and_comes_back_is_seen_to_recover_without_v(
    tmp_path: Path,
) -> None:
    """A chained server started before its remote, then the remote stopped and started again.
    Failed before: the log ended on "cannot connect ... retrying" / "lost ...; reconnecting"
    warnings, the reconnection being INFO, which only -v shows."""
    port, remote_port = free_port(), free_port()
    server = start(tmp_path, "server", port, f"{TELESCOPE}@127.0.0.1:{remote_port}")
    remote = None
    log = server.log_path
    try:
        assert server.wait_for_log("cannot connect", 15.0), server.log_tail()
        remote = start(tmp_path, "remote1", remote_port, "indi_simulator_telescope")
        assert server.wait_for_log("failed attempt", 15.0), server.log_tail()
        assert getprop(port, f"{TELESCOPE}.CONNECTION.CONNECT", timeout=10).returncode == 0
        assert stop(remote, signal.SIGTERM) == 0
        assert server.wait_for_log("lost remote", 15.0), server.log_tail()
        remote = start(tmp_path, "remote2", remote_port, "indi_simulator_telescope")
        assert server.wait_for_log(" again", 15.0), server.log_tail()
        assert stop(server) == 0
    finally:
        for running in (server, remote):
            if running is not None:
                running.stop()
    lines = log.read_text().splitlines()
    label = f"remote {TELESCOPE}@127.0.0.1:{remote_port}"
    first = [line for line in lines if f"connected to {label} after" in line]
    assert len(first) == 1 and "WARNING" in first[0] and "failed attempt" in first[0], lines
    again = [line for line in lines if f"connected to {label} again" in line]
    assert len(again) == 1 and "WARNING" in again[0], lines
    assert lines.index(first[0]) < lines.index(again[0])


def test_a_driver_that_dies_and_is_restarted_is_seen_to_recover_without_v(
    tmp_path: Path,
) -> None:
    """A driver that exits with status 3 once, then runs (as indilib's telescope simulator).
    Failed before: its death was INFO, its restart INFO, so the default log said only
    "restarting driver ... in 0.5 s" and never whether that worked."""
    marker = tmp_path / "crashed"
    driver = tmp_path / "flaky_driver"
    driver.write_text("#!/bin/sh\n"
                      f'if [ ! -e "{marker}" ]; then touch "{marker}"; exit 3; fi\n'
                      "exec indi_simulator_telescope\n")
    driver.chmod(0o755)
    port = free_port()
    server = start(tmp_path, "server", port, str(driver))
    try:
        assert getprop(port, f"{TELESCOPE}.CONNECTION.CONNECT", timeout=10).returncode == 0
        assert stop(server, signal.SIGTERM) == 0
    finally:
        server.stop()
    lines = server.log_text().splitlines()
    said = [line.split(" ", 2)[2] for line in lines]  # without the timestamp
    died = f"WARNING indipyserver.exdriver: driver {driver} (pid "
    assert any(s.startswith(died) and s.endswith(") exited with status 3") for s in said), lines
    assert any(s.startswith(f"WARNING indipyserver.exdriver: restarted driver {driver} (pid")
               for s in said), lines
    assert "INFO indipyserver.cli: SIGTERM received: shutting down" in said, lines
