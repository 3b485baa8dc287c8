"""Real redis-server and mosquitto instances for the bridge tests (fixtures in conftest.py).

Each fixture starts its own server on a free loopback port with a temporary config in the
test's folder, and stops (and reaps) it at teardown, every one of them even when stopping
another fails; the session's ``Reaper`` (reaper.py) stops them if pytest dies before its
teardown. A server that cannot be started FAILS the test: ``scripts/run-tests`` installs Debian's ``redis-server`` and ``mosquitto``, and a skipped
bridge suite would hide exactly what it exists to check.
"""

from __future__ import annotations

import contextlib
import getpass
import shutil
import subprocess
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers import IndiServer
from peers import free_port
from peers import terminate
from peers import wait_listening
from reaper import Reaper

HINT = "install Debian's redis-server and mosquitto, or run the suite with scripts/run-tests"


def _binary(name: str, *extra: str) -> str:
    path = shutil.which(name) or next((p for p in extra if Path(p).exists()), None)
    if path is None:
        pytest.fail(f"{name} not found: {HINT}", pytrace=False)
    return path


class Served:
    """One server process on ``port`` (restartable on the same port)."""

    def __init__(self, args: list[str], port: int, workdir: Path, name: str,
                 reaper: Reaper) -> None:
        self.args, self.port, self.workdir, self.name = args, port, workdir, name
        self.reaper = reaper
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"{name}.log"

    def start(self, timeout: float = 10.0) -> Served:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.args, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.reaper.watch(self.process.pid)
        if wait_listening(self.process, self.port, timeout):
            return self
        self.stop()
        pytest.fail(f"{self.name} did not start on port {self.port}: {' '.join(self.args)}\n"
                    f"{self.log.read_text(errors='replace')[-2000:]}", pytrace=False)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            terminate(process, 5)
            self.reaper.release(process.pid)


def stop_all(stoppers: list[Callable[[], object]]) -> None:
    """Call every one of ``stoppers`` (last first), even when one raises (then re-raised)."""
    with contextlib.ExitStack() as stack:
        for stop in stoppers:
            stack.callback(stop)


@pytest.fixture(scope="session")
def reaper() -> Iterator[Reaper]:
    """The session's watchdog (see reaper.py)."""
    watchdog = Reaper()
    try:
        yield watchdog
    finally:
        watchdog.close()


@pytest.fixture
def indiserver_factory(indiserver_factory: Callable[..., IndiServer],
                       reaper: Reaper) -> Iterator[Callable[..., IndiServer]]:
    """tests/peers.py's indiservers, each also watched by the reaper and stopped at teardown
    (the outer fixture stops them again: a no-op)."""
    started: list[IndiServer] = []

    def start(*drivers: str, **kwargs: object) -> IndiServer:
        server = indiserver_factory(*drivers, **kwargs)
        assert server.process is not None
        reaper.watch(server.process.pid)
        started.append(server)
        return server

    def stop(server: IndiServer) -> None:
        pid = server.process.pid if server.process is not None else None
        server.stop()
        if pid is not None:
            reaper.release(pid)

    yield start
    stop_all([lambda server=server: stop(server) for server in started])


def _redis(workdir: Path, reaper: Reaper, password: str = "") -> Served:
    port = free_port()
    conf = workdir / "redis.conf"
    lines = [f"port {port}", "bind 127.0.0.1", f"dir {workdir}", 'save ""', "appendonly no",
             "daemonize no", "protected-mode yes", "loglevel notice"]
    if password:
        lines.append(f"requirepass {password}")
    conf.write_text("\n".join(lines) + "\n")
    return Served([_binary("redis-server"), str(conf)], port, workdir, "redis", reaper)


@pytest.fixture
def redis_factory(tmp_path: Path, reaper: Reaper) -> Iterator[Callable[..., Served]]:
    """Start redis-servers: ``redis_factory(password="")``; each stopped at teardown."""
    started: list[Served] = []

    def start(password: str = "") -> Served:
        workdir = tmp_path / f"redis-{len(started)}"
        workdir.mkdir()
        served = _redis(workdir, reaper, password)
        started.append(served)
        return served.start()

    yield start
    stop_all([served.stop for served in started])


@pytest.fixture
def redis_port(redis_factory: Callable[..., Served]) -> int:
    """A fresh redis-server's port."""
    return redis_factory().port


def mosquitto_conf(workdir: Path, port: int, *, passwords: dict[str, str] | None = None,
                   tls: tuple[Path, Path, Path] | None = None,
                   require_certificate: bool = False, debug: bool = False) -> Path:
    """A mosquitto 2 config: one listener on 127.0.0.1; anonymous, or a password file made
    with ``mosquitto_passwd``; TLS with (cafile, certfile, keyfile), and with
    ``require_certificate`` every client must show a certificate the CA signed; with
    ``debug`` its log names every packet (and its QoS) it sends and receives."""
    # Run as root, mosquitto drops to user "mosquitto", which cannot read the test's folder.
    lines = [f"user {getpass.getuser()}", "per_listener_settings false",
             f"listener {port} 127.0.0.1",
             "persistence false", "set_tcp_nodelay true", "log_dest stderr",
             "log_type error", "log_type warning",
             ] + (["log_type debug"] if debug else [])
    if passwords:
        pwfile = workdir / "passwords"
        pwfile.write_text("")
        tool = _binary("mosquitto_passwd")
        for user, password in passwords.items():
            subprocess.run([tool, "-b", str(pwfile), user, password], check=True,
                           capture_output=True)
        pwfile.chmod(0o600)
        lines += ["allow_anonymous false", f"password_file {pwfile}"]
    else:
        lines.append("allow_anonymous true")
    if tls is not None:
        ca, cert, key = tls
        lines += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
        if require_certificate:
            lines.append("require_certificate true")
    conf = workdir / "mosquitto.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


@pytest.fixture
def mosquitto_factory(tmp_path: Path, reaper: Reaper) -> Iterator[Callable[..., Served]]:
    """Start mosquitto brokers: ``mosquitto_factory(passwords=..., tls=...)``."""
    started: list[Served] = []

    def start(**options: object) -> Served:
        workdir = tmp_path / f"mosquitto-{len(started)}"
        workdir.mkdir()
        port = free_port()
        conf = mosquitto_conf(workdir, port, **options)  # type: ignore[arg-type]
        served = Served([_binary("mosquitto", "/usr/sbin/mosquitto"), "-c", str(conf)], port,
                        workdir, "mosquitto", reaper)
        started.append(served)
        return served.start()

    yield start
    stop_all([served.stop for served in started])


def _openssl(*args: str) -> None:
    subprocess.run([_binary("openssl"), *args], check=True, capture_output=True)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA (``ca.crt``, ``ca.key``) and a server certificate for 127.0.0.1/localhost, made
    with the openssl CLI: (ca, cert, key)."""
    ca_key, ca = folder / "ca.key", folder / "ca.crt"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out",
             str(ca), "-days", "2", "-subj", "/CN=indiredis test CA")
    cert, key = signed_certificate(folder, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost")
    return ca, cert, key


def signed_certificate(folder: Path, name: str,
                       extension: str = "extendedKeyUsage=clientAuth") -> tuple[Path, Path]:
    """A key and a certificate ``name`` signed by ``make_certificates``'s CA in ``folder``
    (a client certificate unless another ``extension`` is given): (cert, key)."""
    key, csr, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
    ext = folder / f"{name}.cnf"
    ext.write_text(extension + "\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
             "-subj", f"/CN={name}")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(folder / "ca.crt"), "-CAkey",
             str(folder / "ca.key"), "-CAcreateserial", "-out", str(cert), "-days", "2",
             "-extfile", str(ext))
    return cert, key
