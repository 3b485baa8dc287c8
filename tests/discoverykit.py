"""Debian's avahi-daemon on the loopback interface, the real DNS-SD peer of the discovery tests.

The `avahi` fixture starts, for one test, a system D-Bus of its own (``dbus-daemon`` with a
configuration written here, in a temporary folder; ``DBUS_SYSTEM_BUS_ADDRESS`` points avahi and
its tools at it) and ``avahi-daemon`` restricted to ``lo`` (``allow-interfaces=lo``,
``use-ipv6=no``, ``publish-workstation=no``), with loopback multicast turned on for the test
(``ip link set lo multicast on``; off again afterwards if it was off). Multicast never leaves
the loopback interface.

Each pytest worker has a network of its own (tests/ownnetwork.py), so this ``lo`` and what is
announced on it are the worker's alone; avahi-daemon, which keeps its pid file and socket at a
path compiled in (``/run/avahi-daemon``), runs in a mount namespace of its own with a tmpfs
there. So workers run their avahi side by side, with no lock and no cross-talk (issue 90 item
2). Starting avahi takes about a second.

`Avahi.browse(type)` is ``avahi-browse -rpt`` parsed into `Record`s; `Avahi.publish(...)` is
``avahi-publish -s`` as a context manager that returns once avahi says the name is
established (`published_name` holds the name avahi settled on).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ownnetwork
import pytest
from peers import OurServer
from waiting import wait_for

#: Where avahi-daemon keeps its pid file and socket (compiled in), a tmpfs of its own.
RUN = Path("/run/avahi-daemon")

_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

_AVAHI_CONF = """[server]
allow-interfaces=lo
use-ipv4=yes
use-ipv6=no
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-workstation=no
publish-hinfo=no
publish-aaaa-on-ipv4=no
[reflector]
enable-reflector=no
[rlimits]
"""

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(\d{3}|.)")


def unescape(text: str) -> str:
    r"""avahi's escaping undone: ``\032`` (a decimal byte), ``\.``, ``\\``, ``\"``."""
    raw = _ESCAPE.sub(lambda m: chr(int(m.group(1))) if m.group(1).isdigit() else m.group(1),
                      text)
    return raw.encode("latin-1").decode("utf-8", "replace")


@dataclass(frozen=True)
class Record:
    """One resolved service as ``avahi-browse -rpt`` prints it (an ``=`` line)."""

    interface: str
    protocol: str
    name: str
    type: str
    domain: str
    host: str
    address: str
    port: int
    txt: tuple[str, ...]

    @property
    def txt_dict(self) -> dict[str, str]:
        """The TXT strings as key -> value (a key without ``=`` has the value "")."""
        pairs = (text.partition("=") for text in self.txt)
        return {key: value for key, _, value in pairs}


def parse_browse(output: str) -> list[Record]:
    """The resolved services (``=`` lines) in ``avahi-browse -rpt``'s parsable output."""
    found = []
    for line in output.splitlines():
        fields = line.split(";", 9)
        if len(fields) < 10 or fields[0] != "=":
            continue
        _, iface, proto, name, stype, domain, host, address, port, txt = fields
        found.append(Record(iface, proto, unescape(name), stype, domain, host, address,
                            int(port), tuple(unescape(t) for t in _QUOTED.findall(txt))))
    return found


class Avahi:
    """A running avahi-daemon on ``lo`` with its own system bus; `env` is what its tools need."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.bus = f"unix:path={workdir / 'system_bus'}"
        self.env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus}
        self.log = workdir / "avahi-daemon.log"
        self._processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        conf = self.workdir / "bus.conf"
        conf.write_text(_BUS_CONF.format(socket=self.workdir / "system_bus"))
        (self.workdir / "avahi-daemon.conf").write_text(_AVAHI_CONF)
        self._spawn(["dbus-daemon", "--config-file", str(conf), "--nofork", "--nopidfile"],
                    self.workdir / "dbus.log")
        wait_for(lambda: (self.workdir / "system_bus").exists(), 10, "the private D-Bus")
        # avahi-daemon keeps its pid file and socket at a path compiled in, /run/avahi-daemon:
        # in a mount namespace of its own with a tmpfs there, each worker's avahi has its own
        # (every worker has its own network already: tests/ownnetwork.py), so no lock is needed.
        RUN.mkdir(parents=True, exist_ok=True)
        daemon = self._spawn(["unshare", "--mount", "sh", "-c",
                              f"mount -t tmpfs avahi-test {RUN} && exec \"$@\"", "sh",
                              "avahi-daemon", "-f", str(self.workdir / "avahi-daemon.conf"),
                              "--no-drop-root", "--no-chroot", "--no-rlimits",
                              "--no-proc-title"], self.log)
        wait_for(lambda: "Server startup complete" in self.log.read_text()
                 or daemon.poll() is not None, 20, "avahi-daemon's start")
        if daemon.poll() is not None:
            raise RuntimeError(f"avahi-daemon did not start: {self.log.read_text()}")

    def _spawn(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            process = subprocess.Popen(args, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self._processes.append(process)
        return process

    def stop(self) -> None:
        """avahi-daemon first (it leaves the multicast group and says goodbye), then the bus."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
        self._processes.clear()

    def browse(self, service_type: str = "_indi._tcp", timeout: float = 10.0) -> list[Record]:
        """What ``avahi-browse -rpt`` resolves of `service_type` now (avahi's cache and the
        answers to its query)."""
        done = subprocess.run(["avahi-browse", "-rpt", service_type], env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"avahi-browse failed: {done.stderr}")
        return parse_browse(done.stdout)

    @contextmanager
    def watch(self, service_type: str = "_indi._tcp") -> Iterator[Watch]:
        """``avahi-browse -rp`` kept running for the block: each service resolved (``=``)
        and removed (``-``) as avahi reports it, with the time it was read (`Watch`). What
        ``browse`` (``-t``) cannot time: it waits about a second for avahi's "all for now"."""
        process = subprocess.Popen(["avahi-browse", "-rp", service_type], env=self.env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True,
                                   start_new_session=True)
        watch = Watch()
        reader = threading.Thread(target=watch.read, args=(process,), daemon=True)
        reader.start()
        try:
            yield watch
        finally:
            process.terminate()
            process.wait(10)
            reader.join(10)
            if process.stdout is not None:
                process.stdout.close()

    def names(self, service_type: str = "_indi._tcp") -> set[str]:
        """The instance names `browse` resolves."""
        return {record.name for record in self.browse(service_type)}

    @contextmanager
    def publish(self, name: str, service_type: str, port: int,
                txt: Mapping[str, str] | Sequence[str] = ()) -> Iterator[Published]:
        """``avahi-publish -s NAME TYPE PORT TXT...`` while the block runs; entered once
        avahi has established the name (the one it settled on, renamed after a conflict,
        is `Published.name`)."""
        strings = [f"{k}={v}" for k, v in txt.items()] if isinstance(txt, Mapping) else list(txt)
        log = self.workdir / f"publish-{len(self._processes)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(["avahi-publish", "-s", name, service_type, str(port),
                                        *strings], env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            settled = wait_for(
                lambda: re.search(r"Established under name '(.*)'", log.read_text())
                or process.poll() is not None, 20, f"avahi-publish of {name!r}")
            if process.poll() is not None or not isinstance(settled, re.Match):
                raise RuntimeError(f"avahi-publish failed: {log.read_text()}")
            yield Published(settled.group(1), process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(10)


class Watch:
    """What a running ``avahi-browse -rp`` has reported: (monotonic time, `Record`) for each
    service resolved, (time, name) for each removed."""

    def __init__(self) -> None:
        self.resolved: list[tuple[float, Record]] = []
        self.removed: list[tuple[float, str]] = []

    def read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            now = time.monotonic()
            if line.startswith("="):
                self.resolved += [(now, record) for record in parse_browse(line)]
            elif line.startswith("-"):
                fields = line.split(";")
                if len(fields) >= 6:
                    self.removed.append((now, unescape(fields[3])))

    def resolved_on(self, port: int, since: float = 0.0) -> list[tuple[float, Record]]:
        """The resolutions of services on `port` read at `since` or later."""
        return [(t, r) for t, r in self.resolved if r.port == port and t >= since]

    def removed_name(self, name: str, since: float = 0.0) -> list[float]:
        """When `name` was reported removed, at `since` or later."""
        return [t for t, n in self.removed if n == name and t >= since]


@dataclass(frozen=True)
class Published:
    """A service `Avahi.publish` holds: the name avahi settled on."""

    name: str
    process: subprocess.Popen[bytes]


class MdnsSniffer:
    """Every multicast DNS packet that reaches this host on the interfaces of `addresses`
    (joined to 224.0.0.251 there), kept as (monotonic time, source address, packet): an
    observer beside avahi (the port is shared, SO_REUSEADDR), for what avahi cannot time
    (when a goodbye left) or cannot tell (which interface a packet was sent from)."""

    def __init__(self, addresses: Sequence[str] = ("127.0.0.1",)) -> None:
        self.packets: list[tuple[float, str, bytes]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self._sock.setsockopt(socket.IPPROTO_IP, _IP_MULTICAST_ALL, 0)
        self._sock.bind(("", 5353))
        for address in addresses:
            self._sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                                  socket.inet_aton("224.0.0.251") + socket.inet_aton(address))
        self._sock.settimeout(0.1)
        self._running = True
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while self._running:
            try:
                data, (source, _) = self._sock.recvfrom(9000)
            except TimeoutError:
                continue
            except OSError:
                return
            self.packets.append((time.monotonic(), source, data))

    def close(self) -> None:
        self._running = False
        self._thread.join(5)
        self._sock.close()

    def records(self, name: str, since: float = 0.0) -> list[tuple[float, str, int, str]]:
        """(time, source, TTL, record type) of each answer naming `name` (an instance name's
        start, or a host's) in the responses read at `since` or later."""
        from zeroconf import DNSIncoming

        found = []
        for when, source, data in list(self.packets):
            if when < since:
                continue
            message = DNSIncoming(data)
            if not message.is_response():
                continue
            for answer in message.answers():
                if name in answer.name or (hasattr(answer, "alias") and name in answer.alias):
                    found.append((when, source, answer.ttl, type(answer).__name__))
        return found


_IP_MULTICAST_ALL = 49  # Linux: deliver only the groups this socket joined


@contextmanager
def sniffing(addresses: Sequence[str] = ("127.0.0.1",)) -> Iterator[MdnsSniffer]:
    """An `MdnsSniffer` for the block."""
    sniffer = MdnsSniffer(addresses)
    try:
        yield sniffer
    finally:
        sniffer.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[OurServer]:
    """``indipyserver --demo`` as its user runs it: announcing itself on lo, the Thermostat."""
    work = tmp_path / "demo"
    work.mkdir()
    with OurServer("--demo", workdir=work) as server:
        yield server


def lo_multicast() -> bool:
    """Whether the loopback interface (this worker's: tests/ownnetwork.py) has multicast on."""
    return ownnetwork.lo_multicast()


def set_lo_multicast(on: bool) -> None:
    """``ip link set lo multicast on|off`` (root; idempotent)."""
    subprocess.run(["ip", "link", "set", "lo", "multicast", "on" if on else "off"], check=True,
                   capture_output=True, timeout=10)


@contextmanager
def running_avahi(workdir: Path) -> Iterator[Avahi]:
    """avahi-daemon on ``lo`` (this worker's) with multicast on, for the block."""
    missing = [p for p in ("avahi-daemon", "avahi-browse", "avahi-publish", "dbus-daemon", "ip")
               if shutil.which(p) is None]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} missing: scripts/run-tests installs "
                           "avahi-daemon, avahi-utils and dbus")
    was_on = lo_multicast()
    set_lo_multicast(True)
    daemon = Avahi(workdir)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
        if not was_on:
            set_lo_multicast(False)


@pytest.fixture
def avahi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Avahi]:
    """avahi-daemon on the loopback interface (multicast on) with a private system bus, for
    one test."""
    with running_avahi(tmp_path_factory.mktemp("avahi")) as daemon:
        yield daemon
