"""Drive indilib's real INDI peers (Debian ``indi-bin``) from interop tests.

``IndiServer`` runs a C ``indiserver`` with its own port, unix socket and ``HOME``; ``getprop``,
``setprop`` and ``indi_eval`` run the command-line clients against any server on 127.0.0.1
(ours or indilib's). Missing binaries are a test *failure*, never a skip: CI installs them with
``scripts/run-tests``, and a skipped interop suite would hide exactly the bugs it exists for.

``BaseClientProbe`` runs indilib's client library itself (``INDI::BaseClient`` from
libindiclient, what KStars/Ekos and PHD2 are built on) through a small C++ program,
tests/interop/baseclient/indi_baseclient_probe.cpp, that ``build_baseclient_probe`` compiles
against Debian's ``libindi-dev``; a missing compiler or missing headers fail the test too.

Everything has a timeout and a child process is always reaped, so a hung peer fails one test
instead of the whole run; waiting is ``waiting.wait_for`` and ``waiting.until``. Usage::

    def test_something(indiserver_factory, tmp_path):
        server = indiserver_factory("indi_simulator_telescope")
        values = getprop(server.port, "Telescope Simulator.CONNECTION.*", cwd=tmp_path)
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO
from typing import Any
from typing import Self

import psutil
import pytest
import waiting
from runonce import once_a_run

from indipycore.protocol import BLOBEnable
from indipycore.protocol import EnableBLOB
from indipycore.protocol import GetProperties
from indipycore.protocol import NewNumberVector
from indipycore.protocol import NewSwitchVector
from indipycore.protocol import Number
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import serialise
from indipyserver.clients.unixsocket import unix_address

# How long a test grants a Python executable to start and define its device: seconds on a
# quiet machine, more than 10 with eight test workers on two cores (seen in a loaded run).
LOADED = 30.0

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[1]
INSTALL_HINT = (
    "install Debian's indi-bin (`apt-get install -y indi-bin` as root), "
    "or run the suite with `bash scripts/run-tests`, which installs it"
)
# Seconds beyond a peer's own -t timeout before we give up on the process and kill it.
_GRACE = 10.0
LIBINDI_HEADER = Path("/usr/include/libindi/baseclient.h")
BASECLIENT_SOURCE = Path(__file__).resolve().parent / "interop" / "baseclient" / "indi_baseclient_probe.cpp"
BASECLIENT_HINT = (
    "install Debian's libindi-dev and g++ (`apt-get install -y libindi-dev g++` as root), "
    "or run the suite with `bash scripts/run-tests`, which installs them"
)


def find_binary(name: str) -> str:
    """Path of an indi-bin program; fails the test (not skips) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found on PATH: {INSTALL_HINT}", pytrace=False)
    return path


def _ephemeral_start() -> int:
    """The first port of Linux's ephemeral range, from which outgoing connections take theirs."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
            return int(ports.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_PORT_BAND = 1000  # ports of one pytest-xdist worker, below the ephemeral range
_next_port: list[int] = []
_CLAIMS = Path(tempfile.gettempdir()) / "indipy-test-ports"
_claimed: dict[int, int] = {}  # port: its lock file's descriptor, held while this process runs


def _claim(port: int) -> bool:
    """Whether this process holds ``port``'s lock file (no other test process does)."""
    if port in _claimed:
        return True
    _CLAIMS.mkdir(mode=0o777, exist_ok=True)
    fd = os.open(_CLAIMS / f"{port}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _claimed[port] = fd
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts.

    Not one the kernel hands out for port 0: that comes from the ephemeral range, where any
    outgoing connection -- of this worker or of another pytest-xdist worker running beside it --
    may take it between this probe and the server's bind (a CI run lost a test so: "address
    already in use"). Each worker takes its ports in turn from a band of its own below that
    range. A second copy of the suite running beside this one has workers of the same names:
    each port is also claimed in a lock file that this process holds until it ends (a run beside
    another lost a test to a web server of the other run on "its" port). The only race left is
    with other programs listening on the machine."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    top = _ephemeral_start() - index * _PORT_BAND
    low = max(1024, top - _PORT_BAND)
    if not _next_port:
        _next_port.append(low + os.getpid() % max(1, top - low))
    for _ in range(top - low):
        port = _next_port[0]
        _next_port[0] = port + 1 if port + 1 < top else low
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
        if _claim(port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # the band is full
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_accepts(port: int, host: str = HOST, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """Whether a process of that id exists (a zombie not yet reaped counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pid_running(pid: int) -> bool:
    """Whether a process of that id runs: a zombie waiting to be reaped has ended, and one that
    exits while it is looked at has ended too (asked in two steps, exists then status, it could
    vanish between them: a full run's NoSuchProcess)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def children_named(parent: psutil.Process, name: str) -> set[int]:
    """The ids of `parent`'s children named `name`; a child that exits between the listing and
    its name is not one (a full run's NoSuchProcess: a driver stopped while it was listed)."""
    found = set()
    for child in parent.children():
        try:
            if child.name() == name:
                found.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def unix_accepts(path: str) -> bool:
    """True when something accepts connections on the Unix socket `path` now (abstract on
    Linux, as indiserver's ``-u`` and libindiclient's ``localhost:PATH``)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.2)
            sock.connect(unix_address(path))
            return True
    except OSError:
        return False


def wait_listening(process: subprocess.Popen[bytes], port: int, timeout: float,
                   unix_path: str | None = None) -> bool:
    """Wait until `port` (and the Unix socket `unix_path`, when given) accepts connections;
    False when `process` exits or time runs out."""

    def settled() -> str:
        if process.poll() is not None:
            return "exited"
        accepting = port_accepts(port) and (unix_path is None or unix_accepts(unix_path))
        return "listening" if accepting else ""

    try:
        return waiting.wait_for(settled, timeout, interval=0.05) == "listening"
    except AssertionError:
        return False


def tcp_socket_fds(pid: int, keep: Callable[[int, int, str], bool]) -> set[str]:
    """The descriptors of process `pid` that are TCP sockets whose (local port, remote port,
    state) `keep` accepts, from /proc/PID/net/tcp* (state ``01`` established, ``0A``
    listening): how a test sees which connections a peer holds open."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                local, remote = (int(end.rsplit(":", 1)[1], 16) for end in fields[1:3])
                if keep(local, remote, fields[3]):
                    inodes.add(f"socket:[{fields[9]}]")
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                found.add(fd)
    return found


def terminate(process: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM, then SIGKILL after `timeout` seconds; the process is reaped. Its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return process.returncode


# ---------------------------------------------------------------- what a test client sends
# Written by the protocol's serialiser (tests/test_xml_writers.py).


def switch_on(device: str, vector: str, member: str) -> bytes:
    """A newSwitchVector turning `member` On (CONNECTION's CONNECT, a stream's STREAM_ON)."""
    return serialise(NewSwitchVector(device, vector, (Switch(member, SwitchState.ON),)))


def connect(device: str, on: bool = True) -> bytes:
    """The request that connects `device` (or, not `on`, disconnects it)."""
    return switch_on(device, "CONNECTION", "CONNECT" if on else "DISCONNECT")


def new_number(device: str, vector: str, member: str, value: object) -> bytes:
    """A newNumberVector setting one member to `value` (written by str())."""
    return serialise(NewNumberVector(device, vector, (Number(member, str(value)),)))


def enable_blob(device: str, mode: str = "Also", name: str | None = None) -> bytes:
    """An enableBLOB for `device` (or, with `name`, one of its properties)."""
    return serialise(EnableBLOB(device, BLOBEnable(mode), name))


def hello(blobs_from: str | None = None, device: str | None = None) -> bytes:
    """A client's opening getProperties (for `device` only, if given), with an ``enableBLOB
    Also`` for `blobs_from` after it, if given."""
    request = serialise(GetProperties("1.7", device))
    return request if blobs_from is None else request + enable_blob(blobs_from)


@dataclass(frozen=True)
class PeerResult:
    """What a command-line peer did: its arguments, exit code and both outputs."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        """A readable summary for assertion messages."""
        return (
            f"{' '.join(self.args)}\n  exit {self.returncode}\n"
            f"  stdout: {self.stdout.strip()!r}\n  stderr: {self.stderr.strip()!r}"
        )


class GetpropResult(dict[str, str]):
    """``indi_getprop`` output as ``{"dev.prop.elem": value}``, plus the exit code and outputs.

    indi_getprop exits 0 when every non-wildcard query matched, 1 when something was missing and
    2 on error; values are the raw wire text (numbers as ``%.20g``).
    """

    def __init__(self, values: Mapping[str, str], result: PeerResult) -> None:
        super().__init__(values)
        self.result = result
        self.returncode = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr


def parse_getprop_output(text: str) -> dict[str, str]:
    """Parse ``dev.prop.elem=value`` lines; a line without ``=`` continues a multi-line text."""
    values: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.count(".") >= 2:
            values[key] = value
            last = key
        elif last is not None:
            values[last] += "\n" + line
    return values


def run_peer(
    args: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> PeerResult:
    """Run a peer to completion in ``cwd`` (a fresh temporary folder if None) with ``HOME=cwd``.

    A peer still running after ``timeout`` seconds is killed and the test fails, showing what
    it printed. The temporary folder matters: indi_getprop saves BLOBs into its working folder.
    """
    with contextlib.ExitStack() as stack:
        if cwd is None:
            cwd = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="indipeer-")))
        full_env = {**os.environ, "HOME": str(cwd), **(env or {})}
        try:
            done = subprocess.run(
                list(args),
                cwd=cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = _text(exc.stdout)
            err = _text(exc.stderr)
            pytest.fail(
                f"{' '.join(args)} still running after {timeout:.0f} s; killed.\n"
                f"  stdout: {out!r}\n  stderr: {err!r}",
                pytrace=False,
            )
        return PeerResult(tuple(args), done.returncode, done.stdout, done.stderr)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")


def _seconds(timeout: float) -> str:
    """The whole seconds the indi tools' -t option takes."""
    return str(max(1, math.ceil(timeout)))


NAMED_TIMEOUT = 20.0
WILDCARD_TIMEOUT = 2.0


def getprop(
    port: int,
    *specs: str,
    timeout: float | None = None,
    host: str = HOST,
    cwd: Path | None = None,
    extra_args: Sequence[str] = (),
) -> GetpropResult:
    """Run ``indi_getprop -t timeout`` for ``specs`` (``dev.prop.elem``, ``*`` wildcards).

    It returns as soon as every non-wildcard spec matched, else after ``timeout`` seconds (so
    wildcard queries always take the whole timeout). ``cwd`` receives any BLOB files.

    With no ``timeout``: ``NAMED_TIMEOUT`` when no spec has a ``*``, since the bound then only
    ends a failure and a loaded host (indiserver passing the getProperties on to a busy driver)
    may answer later than a few seconds; else ``WILDCARD_TIMEOUT``, waited out every time (read
    wildcards with :func:`getprop_holding`). A read that expects an absence gives its own short
    ``timeout``, or it waits the whole ``NAMED_TIMEOUT``.
    """
    if timeout is None:
        timeout = WILDCARD_TIMEOUT if any("*" in spec for spec in specs) else NAMED_TIMEOUT
    args = [find_binary("indi_getprop"), "-h", host, "-p", str(port), "-t", _seconds(timeout)]
    result = run_peer([*args, *extra_args, *specs], timeout=timeout + _GRACE, cwd=cwd)
    return GetpropResult(parse_getprop_output(result.stdout), result)


def getprop_holding(
    port: int,
    spec: str,
    *holding: str,
    timeout: float = 2.0,
    within: float = 20.0,
    host: str = HOST,
    cwd: Path | None = None,
) -> GetpropResult:
    """``indi_getprop -t timeout`` with a wildcard ``spec``, asked again until one answer exits
    0 holding every key of ``holding`` (any key at all when none is named), ``within`` seconds
    at most; that answer. The failure names the last answer.

    Why: a wildcard query waits out its whole fixed timeout and then says what came, however
    late the server (or, under indiserver, the driver it passes the getProperties on to)
    answers; so under load one answer may be empty or partial. An answer holding these keys
    came, so what it lacks of their vectors, or of what was defined before them, is truly
    absent (a vector's members come in one message). Name the members instead when no
    wildcard is needed: indi_getprop then ends as soon as all came.
    """
    return answer_holding(
        lambda: getprop(port, spec, timeout=timeout, host=host, cwd=cwd), *holding,
        within=within, what=f"an answer to {spec}")


def answer_holding(
    read: Callable[[], GetpropResult],
    *holding: str,
    within: float = 20.0,
    what: str = "an answer",
) -> GetpropResult:
    """``read()`` (an indi_getprop-like wildcard query) again until one answer exits 0 holding
    every key of ``holding`` (any key when none is named), ``within`` seconds at most; that
    answer. :func:`getprop_holding` says why; this is its loop, for another getprop tool."""
    last: list[GetpropResult] = []

    def came() -> GetpropResult | None:
        last[:] = [read()]
        answer = last[0]
        whole = answer.returncode == 0 and bool(answer) and all(key in answer for key in holding)
        return answer if whole else None

    return waiting.wait_for(
        came, within, interval=0,
        what=lambda: f"{what} holding {list(holding) or 'any key'}; the last answer: "
        f"{last[-1].result.describe() if last else 'none'}")


def setprop(
    port: int,
    *specs: str,
    timeout: float = 2.0,
    host: str = HOST,
    cwd: Path | None = None,
    extra_args: Sequence[str] = (),
) -> PeerResult:
    """Run ``indi_setprop`` with ``specs`` like ``"dev.prop.elem=value"``; exit 0 means sent.

    Put ``-n``/``-s``/``-x`` type flags in ``specs`` before the spec they apply to. Untyped
    specs make indi_setprop wait for the property's definition and check it is writable.
    """
    args = [find_binary("indi_setprop"), "-h", host, "-p", str(port), "-t", _seconds(timeout)]
    return run_peer([*args, *extra_args, *specs], timeout=timeout + _GRACE, cwd=cwd)


def indi_eval(
    port: int,
    expression: str,
    *,
    wait: bool = True,
    timeout: float = 5.0,
    host: str = HOST,
    cwd: Path | None = None,
    extra_args: Sequence[str] = (),
) -> PeerResult:
    """Run ``indi_eval`` on an expression such as ``'"Dev.PROP.ELEM"==1'``.

    With ``wait`` (``-w``) it waits until the expression is true; exit 0 means true, 1 false or
    timed out, 2 error.
    """
    args = [find_binary("indi_eval"), "-h", host, "-p", str(port), "-t", _seconds(timeout)]
    if wait:
        args.append("-w")
    return run_peer([*args, *extra_args, expression], timeout=timeout + _GRACE, cwd=cwd)


def eval_until(port: int, expression: str, cwd: Path | None, timeout: float = 15.0) -> None:
    """Wait (``indi_eval -w``) until `expression` is true on the server at `port`; an
    AssertionError with what indi_eval said when it is not within `timeout` seconds."""
    done = indi_eval(port, expression, timeout=timeout, cwd=cwd)
    assert done.returncode == 0, done.describe()


class IndiServer:
    """indilib's ``indiserver`` running ``drivers`` on a free port, for one test.

    It gets its own ``-p`` port and ``-u`` unix socket (``socket_path``, or one in ``workdir``:
    a second server on the same socket path exits), ``HOME`` in ``workdir`` (drivers write
    ``~/.indi`` config there) and its stderr log in ``workdir/indiserver.log``. Starting waits
    until the port and the socket accept connections (indiserver listens on its port first, so
    a client of the socket could otherwise be refused); stopping terminates and reaps the
    server and any driver it left behind.
    """

    def __init__(
        self,
        *drivers: str,
        workdir: Path,
        port: int | None = None,
        verbosity: int = 1,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 10.0,
        socket_path: str | None = None,
    ) -> None:
        self.drivers = drivers
        self.workdir = workdir
        self.home = workdir / "home"
        self.log_path = workdir / "indiserver.log"
        self._fixed_port = port
        self.port = port if port is not None else 0
        self.verbosity = verbosity
        self.extra_args = tuple(extra_args)
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        # sun_path holds 108 bytes; pytest's tmp paths can be long.
        sock = workdir / "indiserver.sock"
        if socket_path is None:
            socket_path = str(sock) if len(str(sock)) < 100 else f"/tmp/indipy-{uuid.uuid4().hex}"
        self.socket_path = socket_path

    @property
    def args(self) -> list[str]:
        """The indiserver command line."""
        verbose = ["-" + "v" * self.verbosity] if self.verbosity > 0 else []
        return [
            find_binary("indiserver"),
            *verbose,
            "-p",
            str(self.port),
            "-u",
            self.socket_path,
            *self.extra_args,
            *self.drivers,
        ]

    def start(self, wait: bool = True) -> Self:
        """Start the server and wait until its port and its ``-u`` socket accept connections;
        fail the test if not.
        ``wait=False`` only starts it (servers that connect to each other start together)."""
        self.home.mkdir(parents=True, exist_ok=True)
        # A free port can be taken between our check and indiserver's bind: try a few.
        for _attempt in range(3):
            if self._fixed_port is None:
                self.port = free_port()
            self._spawn()
            if not wait or self._wait_listening():
                return self
            returncode = self.stop()
            if self._fixed_port is not None or "bind" not in self.log_text():
                break
        pytest.fail(
            f"indiserver did not accept connections on port {self.port} and socket "
            f"{self.socket_path} within {self.startup_timeout:.0f} s (exit {returncode}).\n"
            f"{' '.join(self.args)}\n--- log ---\n{self.log_tail()}",
            pytrace=False,
        )

    def _spawn(self) -> None:
        env = {**os.environ, "HOME": str(self.home), "PATH": driver_path(), **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group, so stop() can also reap drivers the server leaves behind.
                start_new_session=True,
            )

    def _wait_listening(self) -> bool:
        assert self.process is not None
        return wait_listening(self.process, self.port, self.startup_timeout, self.socket_path)

    def stop(self) -> int | None:
        """Terminate and reap the server and its process group; returns its exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        terminate(process, 5)
        # Drivers get EOF on stdin when the server dies and exit by themselves; any that did not
        # are still in the server's process group (pgid == the server's pid, which we started).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if self.socket_path.startswith("/tmp/indipy-"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.socket_path)
        return process.returncode

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Everything the server (and its drivers' stderr) has logged so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the log, for failure messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, text: str, timeout: float = 5.0) -> bool:
        """Wait until ``text`` appears in the log; False after ``timeout`` seconds."""
        try:
            return waiting.wait_for(lambda: text in self.log_text(), timeout, interval=0.05)
        except AssertionError:
            return False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<IndiServer port={self.port} drivers={list(self.drivers)} {state}>"


class OurServer(IndiServer):
    """``python -m indipyserver`` as a child process, run as :class:`IndiServer` runs
    indilib's (its own ``-p`` port, ``-u`` socket, ``HOME`` and log in ``workdir``, its own
    process group, stopped and reaped at the end): the one helper for our server's command
    line. ``drivers`` are its arguments (drivers, ``--demo``, ``@host:port`` remotes, options).
    The child imports this checkout (``PYTHONPATH``), not whatever indipyserver is installed.
    """

    def __init__(self, *drivers: str, workdir: Path, **kwargs: Any) -> None:
        kwargs.setdefault("startup_timeout", 20.0)  # the interpreter and its imports first
        super().__init__(*drivers, workdir=workdir, **kwargs)
        self.home = workdir  # HOME is the work folder itself, as the tests expect of ours
        self.log_path = workdir / "indipyserver.log"
        pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
        self.env.setdefault("PYTHONPATH", pythonpath)

    @property
    def args(self) -> list[str]:
        """The indipyserver command line."""
        verbose = ["-" + "v" * self.verbosity] if self.verbosity > 0 else []
        return [sys.executable, "-m", "indipyserver", *verbose, "-p", str(self.port),
                "-u", self.socket_path, *self.extra_args, *self.drivers]

    def alive(self) -> bool:
        """``running`` (the name the chain tests used)."""
        return self.running

    def log(self) -> str:
        """``log_text()`` (the name the chain and tools tests used)."""
        return self.log_text()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<OurServer port={self.port} args={list(self.drivers)} {state}>"


class ServingProgram:
    """A program that serves INDI itself (an example script, a driver written for indipydriver
    3.x) run as its user runs it: a child process, its output piped and read as it comes (a
    test can wait for a line it logs), serving on ``port``; stopped with Ctrl-C. (Our server's
    command is :class:`OurServer`.)"""

    def __init__(self, args: Sequence[str], port: int, cwd: Path,
                 env: Mapping[str, str] | None = None) -> None:
        self.port = port
        self.args = list(args)
        self.process = subprocess.Popen(self.args, cwd=cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._readers = [threading.Thread(target=_collect, args=(pipe, into), daemon=True)
                         for pipe, into in ((self.process.stdout, self._out),
                                            (self.process.stderr, self._err))]
        for reader in self._readers:
            reader.start()

    def wait_listening(self, timeout: float = 20.0) -> Self:
        """Return once it serves; fail with its stderr when it exits or time runs out first."""
        if not wait_listening(self.process, self.port, timeout):
            self.kill()
            raise AssertionError(f"{self.args} did not listen: {self.stderr()[-2000:]}")
        return self

    def stderr(self) -> str:
        """What it has written on stderr so far."""
        return b"".join(self._err).decode(errors="replace")

    def ctrl_c(self) -> tuple[int, str, str]:
        """Ctrl-C (SIGINT) unless it has ended: its exit code, stdout and stderr; fails when
        it ignores Ctrl-C."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.args} ignored Ctrl-C") from None
        self.kill()
        return (self.process.returncode, b"".join(self._out).decode(errors="replace"),
                self.stderr())

    def kill(self) -> None:
        """Kill it if it still runs, reap it and read its output to the end (a teardown)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        for reader in self._readers:
            reader.join(10)


def _collect(pipe: IO[bytes] | None, into: list[bytes]) -> None:
    assert pipe is not None
    with pipe:
        into.extend(pipe)  # line by line: a test looks meanwhile


def driver_path() -> str:
    """PATH for indiserver's drivers, with this test run's interpreter first.

    Our example drivers start with ``#!/usr/bin/env python3``; without this, indiserver would
    run them with whatever python3 comes first on PATH, which on a fresh machine lacks the
    project (scripts/run-tests installs it only into its virtual environment).
    """
    here = os.path.dirname(sys.executable)
    rest = os.environ.get("PATH", os.defpath)
    return here + os.pathsep + rest if here else rest


@pytest.fixture
def indiserver_factory(tmp_path: Path) -> Iterator[Callable[..., IndiServer]]:
    """Start indilib indiservers for a test: ``indiserver_factory("indi_simulator_ccd", ...)``.

    Keyword arguments go to :class:`IndiServer`. Every server started is stopped at teardown.
    """
    servers: list[IndiServer] = []

    def start(*drivers: str, **kwargs: object) -> IndiServer:
        workdir = tmp_path / f"indiserver-{len(servers)}"
        workdir.mkdir()
        server = IndiServer(*drivers, workdir=workdir, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def our_server(tmp_path: Path) -> Iterator[Callable[..., OurServer]]:
    """Start our servers as child processes for a test: ``our_server("--demo", port=...,
    wait=...)``; each in its own folder. All are stopped (SIGTERM) at teardown, and each must
    exit 0."""
    servers: list[OurServer] = []

    def start(*args: str, port: int | None = None, wait: bool = True) -> OurServer:
        server = OurServer(*args, workdir=tmp_path / f"ours-{len(servers)}", port=port)
        servers.append(server)
        return server.start(wait=wait)

    yield start
    codes = [(s.args, s.stop()) for s in reversed(servers)]
    assert all(code == 0 for _, code in codes), codes


# ------------------------------------------------------------------------------------------------
# indilib's client library: INDI::BaseClient through tests/interop/baseclient's probe


def baseclient_probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The BaseClient probe, compiled once a run for every worker (runonce.py: 2.6 s of CPU a
    compile, once for each module fixture on each worker before)."""
    folder = once_a_run(tmp_path_factory, "baseclient-probe", build_baseclient_probe)
    return folder / "indi_baseclient_probe"


def build_baseclient_probe(outdir: Path) -> Path:
    """Compile the BaseClient probe into ``outdir``; fails the test (never skips) without g++
    or libindi-dev's headers, or when the compiler refuses the source."""
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.fail(f"g++ not found on PATH: {BASECLIENT_HINT}", pytrace=False)
    if not LIBINDI_HEADER.is_file():
        pytest.fail(f"{LIBINDI_HEADER} not found: {BASECLIENT_HINT}", pytrace=False)
    binary = outdir / "indi_baseclient_probe"
    args = [compiler, "-std=c++17", "-O1", "-Wall", "-Wextra", "-pthread",
            f"-I{LIBINDI_HEADER.parent}", "-o", str(binary), str(BASECLIENT_SOURCE),
            "-lindiclient"]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"compiling the BaseClient probe took over 180 s: {' '.join(args)}",
                    pytrace=False)
    if done.returncode != 0 or not binary.is_file():
        pytest.fail(
            f"compiling the BaseClient probe failed (exit {done.returncode}): {BASECLIENT_HINT}\n"
            f"{' '.join(args)}\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    return binary


def _probe_word(word: str) -> str:
    """One word of a probe command, double-quoted when it holds spaces, quotes or backslashes."""
    if word and not any(c in word for c in ' \t"\\'):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


class BaseClientProbe:
    """indilib's ``INDI::BaseClient`` connected to a server on 127.0.0.1, driven from asyncio.

    ``events`` collects every callback line the probe printed (``{"cb": "newNumber", ...}``; see
    the probe's source for the fields); :meth:`expect` waits for one, :meth:`command` sends a
    command and waits for its ``ack``. :meth:`close` ends and reaps the process, whatever state
    it is in.
    """

    def __init__(self, binary: Path, port: int, *, log_path: Path, host: str = HOST,
                 watch: Iterable[str] = ()) -> None:
        self.args = [str(binary), host, str(port)]
        for device in watch:
            self.args += ["--watch", device]
        self.log_path = log_path
        self.events: list[dict[str, Any]] = []
        self.process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._arrived = asyncio.Condition()
        self._eof = False
        self._pings = 0

    async def start(self) -> Self:
        """Start the probe; it connects at once (``connectServer``) and fails the test if not."""
        self._log = self.log_path.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=self._log, limit=1 << 20,
        )
        self._reader = asyncio.create_task(self._read())
        await self.expect("serverConnected", timeout=10)
        return self

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout  # close() drops self.process while this still reads
        while line := await stdout.readline():
            try:
                event = json.loads(line)
            except ValueError:
                event = {"cb": "unparsed", "line": line.decode(errors="replace")}
            async with self._arrived:
                self.events.append(event)
                self._arrived.notify_all()
        async with self._arrived:
            self._eof = True
            self._arrived.notify_all()

    def mark(self) -> int:
        """The index the next event will have, for ``expect(after=...)``."""
        return len(self.events)

    def select(self, cb: str, *, after: int = 0, **fields: Any) -> list[dict[str, Any]]:
        """Events of callback ``cb`` from index ``after`` on whose ``fields`` equal the given."""
        return [e for e in self.events[after:]
                if e.get("cb") == cb and all(e.get(k) == v for k, v in fields.items())]

    async def expect(self, cb: str, *, after: int = 0, timeout: float = 10.0,
                     where: Callable[[dict[str, Any]], bool] | None = None,
                     **fields: Any) -> dict[str, Any]:
        """The first event of callback ``cb`` from index ``after`` on that has ``fields`` (and
        satisfies ``where``); waits up to ``timeout`` seconds, else fails the test."""
        def found() -> dict[str, Any] | None:
            for event in self.select(cb, after=after, **fields):
                if where is None or where(event):
                    return event
            return None

        try:
            async with asyncio.timeout(timeout), self._arrived:
                while (event := found()) is None:
                    if self._eof:
                        break
                    await self._arrived.wait()
        except TimeoutError:
            event = None
        if event is None:
            state = "exited" if self._eof else f"no such event within {timeout:.0f} s"
            pytest.fail(f"BaseClient probe: expected {cb} {fields} after event {after}; "
                        f"{state}.\n{self.describe()}", pytrace=False)
        return event

    async def command(self, *words: str, ok: bool = True, timeout: float = 10.0) -> dict[str, Any]:
        """Send one command line and return its ``ack``; fails the test if ``ok`` differs."""
        assert self.process is not None and self.process.stdin is not None
        after = self.mark()
        self.process.stdin.write((" ".join(_probe_word(w) for w in words) + "\n").encode())
        await self.process.stdin.drain()
        ack = await self.expect("ack", after=after, timeout=timeout, cmd=words[0])
        if ack["ok"] is not ok:
            pytest.fail(f"BaseClient probe: {' '.join(words)!r} gave {ack}\n{self.describe()}",
                        pytrace=False)
        return ack

    async def barrier(self, timeout: float = 10.0) -> None:
        """A ping round trip: the server has handled everything this client sent before it."""
        self._pings += 1
        uid = f"barrier-{self._pings}"
        after = self.mark()
        await self.command("ping", uid)
        await self.expect("newPingReply", after=after, timeout=timeout, uid=uid)

    def describe(self, last: int = 25) -> str:
        """The last events (shortened) and the probe's stderr, for failure messages."""
        lines = [json.dumps(e)[:300] for e in self.events[-last:]]
        try:
            stderr = self.log_path.read_text(errors="replace")[-2000:]
        except FileNotFoundError:
            stderr = ""
        return (f"{' '.join(self.args)}: {len(self.events)} events, last {len(lines)}:\n  "
                + "\n  ".join(lines) + f"\n--- stderr ---\n{stderr}")

    async def close(self) -> int | None:
        """``quit``, then kill after 5 s; the process is reaped and its pipes closed."""
        process, self.process = self.process, None
        if process is not None:
            try:
                if process.returncode is None and process.stdin is not None:
                    with contextlib.suppress(ConnectionError):
                        process.stdin.write(b"quit\n")
                        await process.stdin.drain()
                    process.stdin.close()
                try:
                    await asyncio.wait_for(process.wait(), 5)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        try:
            if self._reader is not None:
                # The process is gone, so its stdout reaches EOF and the reader ends.
                await asyncio.wait_for(self._reader, 5)
        finally:
            if self._log is not None:
                self._log.close()
        return process.returncode if process is not None else None
