"""`python -m indipyserver` as a process: signals end it cleanly (exit 0, children reaped).

The driver child is a tiny Python script that speaks no INDI and ignores SIGINT, so only the
server's own shutdown (stdin EOF, SIGTERM, SIGKILL) can end it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from peers import free_port, pid_alive, poll_until, port_accepts

CHILD = """\
import signal, sys, os
signal.signal(signal.SIGINT, signal.SIG_IGN)
print(os.getpid(), file=sys.stderr, flush=True)
sys.stdin.buffer.read()
"""


REPO = Path(__file__).resolve().parents[2]


def server_env(home: Path) -> dict[str, str]:
    """The child imports this checkout's indipyserver (not whatever copy is installed)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "HOME": str(home), "PYTHONPATH": path}


def start_server(tmp_path: Path, *extra: str, verbose: bool = True,
                 ) -> tuple[subprocess.Popen[str], int, int]:
    """Start the server with one executable child; return (server, port, child pid)."""
    child = tmp_path / "child_driver"
    child.write_text(f"#!{sys.executable}\n{CHILD}")
    child.chmod(0o755)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "indipyserver", *(["-v"] if verbose else []), "-p", str(port),
         *extra, str(child)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tmp_path,
        env=server_env(tmp_path),
    )
    assert server.stderr is not None
    child_pid = 0
    deadline = time.monotonic() + 15
    server.seen = []  # type: ignore[attr-defined]  # the lines read up to the child's pid
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        if not line:
            break
        server.seen.append(line)  # type: ignore[attr-defined]
        if "child_driver:" in line and line.rsplit(":", 1)[1].strip().isdigit():
            child_pid = int(line.rsplit(":", 1)[1])
            break
    if not child_pid:
        server.kill()
        server.wait()
        server.stderr.close()
        pytest.fail("server did not start its child driver")
    return server, port, child_pid


def _reap(server: subprocess.Popen[str]) -> None:
    """Whatever the test found: no server process or pipe left behind."""
    if server.poll() is None:
        server.kill()
        server.wait()
    assert server.stderr is not None
    server.stderr.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero_and_reaps_the_driver(tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM (service stop) and SIGINT (Ctrl-C): exit status 0, no driver left behind."""
    server, port, child_pid = start_server(tmp_path)
    try:
        assert poll_until(lambda: port_accepts(port), 10.0)
        assert pid_alive(child_pid)
        server.send_signal(sig)
        assert server.wait(timeout=15) == 0
    finally:
        _reap(server)
    assert not pid_alive(child_pid), "the driver child outlived the server"


def test_without_v_the_listening_port_and_drivers_stderr_are_shown(tmp_path: Path) -> None:
    """As indiserver, the command shows where it listens and what its drivers print on stderr
    (``Driver <name>: ...``) without -v: a driver's complaints are not hidden by default.
    start_server found the child's stderr line (its pid) with no -v given."""
    server, port, child_pid = start_server(tmp_path, verbose=False)
    try:
        assert poll_until(lambda: port_accepts(port), 10.0)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
        assert server.stderr is not None
        rest = server.stderr.read()
    finally:
        _reap(server)
    before = "".join(server.seen)  # type: ignore[attr-defined]
    assert f"serving INDI on localhost:{port}" in before, before
    assert f"Driver {tmp_path / 'child_driver'}: {child_pid}" in before, before
    assert f"server on port {port} stopped" in rest, rest
    assert "exited with status" not in rest, rest  # other INFO lines still need -v


def test_fifo_server_runs_with_zero_drivers_and_starts_one(tmp_path: Path) -> None:
    """-f alone keeps the server up; 'start' through the FIFO runs a driver; 'stop' reaps it."""
    fifo = tmp_path / "fifo"
    port = free_port()
    child = tmp_path / "child_driver"
    child.write_text(f"#!{sys.executable}\n{CHILD}")
    child.chmod(0o755)
    server = subprocess.Popen(
        [sys.executable, "-m", "indipyserver", "-v", "-p", str(port), "-f", str(fifo)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tmp_path,
        env=server_env(tmp_path),
    )
    assert server.stderr is not None
    try:
        assert poll_until(lambda: port_accepts(port) and fifo.exists(), 10.0)
        with open(fifo, "w") as f:
            f.write(f'start {child} -n "Kid"\n')
        child_pid = 0
        for line in server.stderr:
            if "child_driver (Kid):" in line and line.rsplit(":", 1)[1].strip().isdigit():
                child_pid = int(line.rsplit(":", 1)[1])
                break
        assert child_pid and pid_alive(child_pid)
        with open(fifo, "w") as f:
            f.write(f'stop {child} -n "Kid"\n')
        assert poll_until(lambda: not pid_alive(child_pid), 10.0)
        assert server.poll() is None  # still serving, with zero drivers
        server.terminate()
        assert server.wait(timeout=15) == 0
    finally:
        _reap(server)
