"""The benchmarks' child processes: the interpreter to run one under (ours, or an older
release's in a throw-away venv), distinct free ports for them to serve on, stopping one (or one
started in a session of its own, with its children), and what /proc says of one (CPU seconds,
resident memory). Standard library only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

#: For a scripted driver (a Python script run as a child): `wait_for(token)` reads stdin until
#: `token` has come (consumed; exits at EOF). Put at the marker line ``# wait_for`` of a
#: dedented script (the script imports os and sys).
SCRIPT_WAIT_FOR = textwrap.dedent(
    """
    pending = b""
    def wait_for(token):
        global pending
        while token not in pending:
            data = os.read(0, 65536)
            if not data:
                sys.exit(0)
            pending += data
        pending = pending[pending.index(token) + len(token):]
    """
).lstrip("\n")


def throwaway_venv(venv: Path, requirement: str, check: str) -> Path:
    """The interpreter of `venv`, a virtual environment outside the project holding
    `requirement` from the package index: made, or installed into, when `check` (Python code
    run there without our PYTHONPATH) fails, as it must for a missing or wrong version."""
    py = venv / "bin" / "python"
    checking = [str(py), "-c", check]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if py.exists() and subprocess.run(checking, capture_output=True, cwd="/tmp", env=env,
                                      check=False).returncode == 0:
        return py
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", requirement], check=True, env=env)
    subprocess.run(checking, check=True, cwd="/tmp", env=env)
    return py


def interpreter(ours: bool, theirs: Path, root: Path, env: dict[str, str]) -> str:
    """The Python to run a child under, with `env` (changed) to run it in: this one with the
    checkout `root` on PYTHONPATH for ours, else `theirs` (a `throwaway_venv`'s) without it."""
    if ours:
        env["PYTHONPATH"] = str(root)
        return sys.executable
    env.pop("PYTHONPATH", None)
    return str(theirs)


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` TCP ports on `host`, each free a moment ago and no two alike: the probes are all
    bound at once. Probing one port at a time and closing it lets the kernel hand the same
    port out again: bench/guider.py once started its server and the agent's PHD2 server on one
    port (the server could not bind; its client read PHD2's JSON: "text outside any element",
    then "mount CONNECTION not defined in 20 s")."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((host, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def listening(port: int, proc: subprocess.Popen[Any], timeout: float = 120.0,
              host: str = "127.0.0.1") -> None:
    """Wait until `proc` accepts connections on `port` (RuntimeError if it ends first or
    takes `timeout` seconds): a server or an agent started on a loaded machine (a whole test
    suite beside) took more than the 2 s once slept and the client's 10 s to connect."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} ended ({proc.returncode}) before it listened "
                               f"on {port}")
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.args!r} not listening on {port} after {timeout:g} s")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM to `proc`, SIGKILL after `timeout` seconds; `proc` is reaped."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_group(proc: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """SIGTERM to the process group of `proc` (started with ``start_new_session=True``, so its
    own children go too), SIGKILL after `timeout` seconds; `proc` is reaped."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """A process's resident memory now, MiB (0.0 when /proc does not say)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
