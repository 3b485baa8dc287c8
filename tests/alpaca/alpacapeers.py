"""alpaca-simulators 1.3.2 as the Alpaca device peer of the tests (one of each device type).

It lives in its own virtual environment beside ``.venv`` (``.venv-alpaca-sim``, made by
``scripts/run-tests``: its FastAPI pins clash with the web client's Starlette) and runs as a
child process on a free port from a temporary folder. ``ALPACA_SIMULATORS`` names another
executable. Each worker forks its simulators from one process of that interpreter that
imported their libraries once (tests/alpaca/alpacazygote.py: ~1 s of the ~1.4 s of CPU a
start costs); each is still a fresh alpaca-simulators, in a session of its own. A missing simulator FAILS the test, never skips it: a skipped peer would hide
exactly what these tests exist for.
"""

from __future__ import annotations

import atexit
import functools
import http.server
import json
import os
import shlex
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from httpkit import QuietHandler
from peers import REPO
from peers import eval_until
from peers import free_port
from waiting import wait_for

#: ``peers.eval_until`` with the Alpaca tests' bound of 30 s (their simulators are slower to
#: answer than ours).
until = functools.partial(eval_until, timeout=30.0)

HOST = "127.0.0.1"
HINT = ("run the suite with `bash scripts/run-tests`, which makes .venv-alpaca-sim with "
        "alpaca-simulators==1.3.2, or set ALPACA_SIMULATORS to its executable")


def simulators_executable() -> str:
    """The alpaca-simulators executable: $ALPACA_SIMULATORS, else .venv-alpaca-sim's."""
    program = os.environ.get("ALPACA_SIMULATORS") or str(
        REPO / ".venv-alpaca-sim" / "bin" / "alpaca-simulators")
    if not os.access(program, os.X_OK):
        pytest.fail(f"alpaca-simulators not found at {program}: {HINT}", pytrace=False)
    return program


def simulators_python(executable: Path) -> list[str]:
    """The interpreter of the alpaca-simulators entry point `executable`: its own (#!), else
    the python beside it."""
    first = executable.read_bytes()[:300].split(b"\n")[0]
    return shlex.split(first[2:].decode()) if first.startswith(b"#!") else \
        [str(executable.with_name("python"))]


class Forked:
    """A simulator forked by the worker's zygote (tests/alpaca/alpacazygote.py): the part of
    ``subprocess.Popen`` the tests use. Its exit status is the file the zygote writes once it
    has reaped it (``returncode``: the negative signal number when killed)."""

    def __init__(self, pid: int, exit_path: Path) -> None:
        self.pid = pid
        self.exit_path = exit_path
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = int(self.exit_path.read_text())
            except FileNotFoundError:
                pass
        return self.returncode

    def wait(self, timeout: float) -> int:
        wait_for(lambda: self.poll() is not None, timeout=timeout, interval=0.05,
                 what=f"alpaca-simulators {self.pid} reaped")
        assert self.returncode is not None
        return self.returncode


class _Zygote:
    """The worker's one zygote process, started at the first simulator, killed at exit."""

    def __init__(self) -> None:
        python = simulators_python(Path(simulators_executable()))
        self.process = subprocess.Popen(
            [*python, "-I", str(Path(__file__).with_name("alpacazygote.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True)
        self.lock = threading.Lock()
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        if ready != "ready":
            self.close()
            raise AssertionError(f"the alpaca-simulators zygote did not start: {ready!r}")
        atexit.register(self.close)

    def fork(self, args: list[str], cwd: Path, env: dict[str, str], log: Path) -> Forked:
        exit_path = log.with_name(f"{log.name}.exit")
        exit_path.unlink(missing_ok=True)
        request = {"args": args, "cwd": str(cwd), "env": env, "log": str(log),
                   "exit": str(exit_path)}
        assert self.process.stdin is not None and self.process.stdout is not None
        with self.lock:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
        if not answer.strip().isdigit():
            raise AssertionError(f"the alpaca-simulators zygote answered {answer!r}")
        return Forked(int(answer), exit_path)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


_zygote: _Zygote | None = None


def forked(args: list[str], cwd: Path, env: dict[str, str], log: Path
           ) -> Forked | subprocess.Popen[bytes]:
    """``alpaca-simulators ARGS`` forked by the worker's zygote (started at the first call,
    again if it died), in `cwd` with `env`, stdout and stderr appended to `log`. An
    ``ALPACA_SIMULATORS`` that is no Python entry point (a wrapper script) has no interpreter
    to fork from: it is run as it is."""
    global _zygote
    program = simulators_executable()
    first = Path(program).read_bytes()[:300].split(b"\n")[0]
    if not (first.startswith(b"#!") and b"python" in first):
        with log.open("ab") as out:
            return subprocess.Popen([program, *args], cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=out, env=env, start_new_session=True)
    if _zygote is None or _zygote.process.poll() is not None:
        _zygote = _Zygote()
    return _zygote.fork(args, cwd, env, log)


class AlpacaSimulators:
    """One alpaca-simulators process on `port`, its log in `workdir`; `start` waits until
    its focuser answers, `stop` ends and reaps it (a restart keeps the port)."""

    def __init__(self, workdir: Path, port: int | None = None,
                 config: Path | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.config = config
        self.process: Forked | subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "alpaca-simulators.log"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def get(self, path: str, timeout: float = 2.0) -> object:
        """The Value of ``GET /api/v1/<path>`` (the test's own look at the simulator)."""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}", timeout=timeout) as reply:
            body = json.loads(reply.read())
        assert body["ErrorNumber"] == 0, body
        return body.get("Value")

    def put(self, path: str, **form: str) -> None:
        """``PUT /api/v1/<path>`` with `form` (the test's own change behind the bridge)."""
        data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(f"{self.url}/api/v1/{path}", data=data, method="PUT")
        with urllib.request.urlopen(request, timeout=2.0) as reply:
            body = json.loads(reply.read())
        assert body["ErrorNumber"] == 0, body

    def answers(self) -> bool:
        try:
            return self.get("focuser/0/name", timeout=0.5) is not None
        except (OSError, ValueError):
            return False

    def start(self, timeout: float = 30.0) -> AlpacaSimulators:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = ["--host", HOST, "--port", str(self.port),
                *(["--config", str(self.config)] if self.config else [])]
        self.process = forked(args, self.workdir, {**os.environ, "HOME": str(self.workdir)},
                              self.log_path)
        process = self.process

        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"alpaca-simulators exited ({process.returncode}): "
                                     f"{self.log_path.read_text()[-2000:]}")
            return self.answers()

        wait_for(up, timeout=timeout, interval=0.2, what=f"alpaca-simulators on port {self.port}")
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


class SlowPuts:
    """An HTTP relay to the Alpaca server on `port` that holds each PUT to a method in `slow`
    (``"pulseguide"``) `delay` seconds before passing it on: a device slow to take a command,
    as a loaded machine or a slow link makes it, on demand. ``port`` is the relay's own."""

    def __init__(self, port: int, slow: tuple[str, ...], delay: float) -> None:
        target = f"http://{HOST}:{port}"

        class Relay(QuietHandler):
            def do_GET(self) -> None:
                self.relay()

            def do_PUT(self) -> None:
                if self.path.partition("?")[0].rsplit("/", 1)[-1].lower() in slow:
                    time.sleep(delay)
                self.relay()

            def relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, body = self.passed_on(target, self.rfile.read(length) if length else None)
                self.answer(status, body, "application/json")

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Relay)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)


class FaultyRelay:
    """An HTTP relay to the Alpaca server on `port` that passes everything on until told to
    fail (`fail`): every request, or those to the members named, is then answered HTTP 500,
    a body that is not JSON (``"garbage"``), held without an answer (``"hang"``, until the
    relay is told otherwise or closed), or a valid reply whose Value is 999 (``"old"``: a
    TimeSinceLastUpdate of readings that stopped); `heal` passes everything on again. The Alpaca
    server's faults on demand, with the real server behind. ``port`` is the relay's own."""

    MODES = ("500", "garbage", "hang", "old")

    def __init__(self, port: int) -> None:
        target = f"http://{HOST}:{port}"
        self.mode: str | None = None
        self.members: frozenset[str] = frozenset()
        self.released = threading.Event()
        relay_self = self

        class Relay(QuietHandler):
            def do_GET(self) -> None:
                self.relay()

            def do_PUT(self) -> None:
                self.relay()

            def relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                member = self.path.partition("?")[0].rsplit("/", 1)[-1].lower()
                mode = relay_self.mode
                if mode is not None and (not relay_self.members or member in
                                         relay_self.members):
                    if mode == "hang":
                        relay_self.released.wait(120)
                    elif mode == "old":
                        self.answer(200, json.dumps({
                            "Value": 999.0, "ErrorNumber": 0, "ErrorMessage": "",
                            "ClientTransactionID": 0, "ServerTransactionID": 0}).encode(),
                            "application/json")
                        return
                    elif mode == "500":
                        self.answer(500, b"Internal Server Error", "text/plain")
                        return
                    else:
                        self.answer(200, b"<html>not Alpaca</html>", "text/html")
                        return
                try:
                    status, data = self.passed_on(target, body)
                except OSError:
                    return  # the server behind is gone: no answer either
                self.answer(status, data, "application/json")

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Relay)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def fail(self, mode: str, *members: str) -> None:
        """From now on answer `mode` (one of `MODES`) to `members` (every request: none)."""
        assert mode in self.MODES, mode
        self.released.clear()
        self.members = frozenset(m.lower() for m in members)
        self.mode = mode

    def heal(self) -> None:
        """Pass everything on again (held requests are let through)."""
        self.mode = None
        self.released.set()

    def close(self) -> None:
        self.heal()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)


def simulators_config(folder: Path, camera: dict[str, object]) -> Path:
    """A configuration file for alpaca-simulators: its own default one (read from its
    package through its interpreter) with the camera's settings `camera` changed, written to
    `folder`. ``--config`` takes an absolute path (it is joined to the package's config
    folder), so the installed package is never written to."""
    python = simulators_python(Path(simulators_executable()))
    program = ("import pathlib, alpaca_simulators as a; print((pathlib.Path(a.__file__).parent"
               " / 'config' / 'template.yaml').read_text())")
    text = subprocess.run([*python, "-c", program], check=True, capture_output=True,
                          text=True, timeout=60).stdout
    lines = text.splitlines()
    start = lines.index("  camera:")
    for key, value in camera.items():
        found = next(n for n in range(start, len(lines))
                     if lines[n].strip().startswith(f"{key}:"))
        indent = lines[found][: len(lines[found]) - len(lines[found].lstrip())]
        lines[found] = f"{indent}{key}: {json.dumps(value)}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "simulators.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path
