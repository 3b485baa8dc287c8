"""A fleet of observatory sites on one broker, and the central side storing them in redis.

    python bench/fleet.py                          # N = 10, 100, 300 cheap sites, 1 mqtttoredis
    python bench/fleet.py -n 300 --central 2       # two mqtttoredis, each --share k/2
    python bench/fleet.py -n 10 --deployed         # sites as deployed: IPyServer + inditomqtt

Each site has ten devices, each updating a one-member number vector once a second. In the
default *cheap* mode a site is only its MQTT side: the bridges' own ``MqttLink`` (the same
client, QoS, Last Will and retained ``online`` status as ``inditomqtt``) publishing on
``from_indi/<site>`` the elements an INDI server would send it (written by the protocol's
serialiser), one element a message, and answering ``getProperties`` on ``to_indi`` with the
definitions, so that one machine can load the central side alone. With ``--deployed`` each site
is an ``IPyServer`` with a driver of ten devices and an ``inditomqtt`` before it. Sites run in
``--publishers`` processes of their own.

The central side: one mosquitto, ``--central`` ``python -m indiredis mqtttoredis`` processes
(with more than one, each ``--share k/K``), one redis-server, all started here on free loopback
ports and stopped at the end. This process reads redis's ``from_indi`` channel (a bare RESP
reader, so that it costs little) and times each setNumberVector from its driver timestamp to its
arrival: p50, p99 and max. Each central process's CPU per stored message is its user+system CPU
over the window (/proc/PID/stat) divided by the messages stored in it (for a share: by its
sites' messages), and its RSS is read at the start and end of the window.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bridges import free_port
from bridges import server_process
from processes import cpu_seconds
from processes import free_ports
from processes import rss_mib
from processes import stop_group

DEVICES = 10
VECTOR = "READING"
MEMBER = "value"
_STAMP = re.compile(rb'timestamp="([^"]+)"')
_DEVICE = re.compile(rb'device="([^"]+)"')


def site_name(index: int) -> str:
    return f"site{index:05d}"


def device_name(site: str, index: int) -> str:
    return f"{site}-dev{index}"


# -- the sites (in publisher processes) --------------------------------------------------------


def definitions(site: str) -> list[bytes]:
    """What an INDI server answers a getProperties with for the site's devices."""
    from indipycore.protocol import Perm
    from indipycore.protocol import State
    from indipycore.protocol import events as ev
    from indipycore.protocol import serialise
    from indipycore.protocol.timestamps import now_timestamp

    return [serialise(ev.DefNumberVector(
        device_name(site, i), VECTOR, State.OK, Perm.RO,
        (ev.Number(MEMBER, "0", "Value", "%.3f", "0", "1000", "0"),), label="Reading",
        group="Main", timeout="0", timestamp=now_timestamp())) for i in range(DEVICES)]


def clock_value() -> float:
    """A reading's value: the driver's clock (seconds modulo 1000, shown to the millisecond),
    so that an open web page's update can be timed from the value it shows."""
    return time.time() % 1000


def clock_age_ms(shown: float, now: float) -> float:
    """How long ago (ms) a value of `clock_value` was taken, seen at wall-clock `now`."""
    return ((now % 1000 - shown) % 1000) * 1000


def reading(device: str, value: float) -> bytes:
    from indipycore.protocol import State
    from indipycore.protocol import events as ev
    from indipycore.protocol import serialise
    from indipycore.protocol.timestamps import now_timestamp

    return serialise(ev.SetNumberVector(device, VECTOR, (ev.Number(MEMBER, f"{value:.3f}"),),
                                        State.OK, timestamp=now_timestamp()))


async def cheap_site(site: str, mport: int, rate: float) -> None:
    """One site's MQTT side as ``inditomqtt`` has it (see the module docstring)."""
    from indiredis import mqtt_server
    from indiredis.indilink import GET_PROPERTIES
    from indiredis.mqttlink import MqttLink
    from indiredis.topics import Topics

    host = mqtt_server("127.0.0.1", mport)
    topics = Topics.of(host)
    out = f"{topics.from_indi}/{site}"
    link: MqttLink
    devices = [device_name(site, i) for i in range(DEVICES)]

    async def from_broker(topic: str, payload: bytes) -> None:
        """A getProperties answered as an INDI server does: every device's definitions, or
        only the named device's (none when it is not this site's)."""
        if topic.startswith(topics.to_indi + "/") and payload.startswith(GET_PROPERTIES[:14]):
            named = _DEVICE.search(payload)
            for device, data in zip(devices, definitions(site), strict=True):
                if named is None or named.group(1).decode() == device:
                    await link.send(out, data)

    link = MqttLink(host, site, [*topics.site_subscriptions(()),
                                 f"{topics.snoop_control}/#", f"{topics.snoop_data}/{site}"],
                    from_broker, status_topic=f"{topics.status}/{site}")
    runner = asyncio.create_task(link.run())
    await asyncio.sleep(random.random() / rate)
    tick = time.monotonic()
    while True:
        if link.connected.is_set():
            for device in devices:
                link.publish(out, reading(device, clock_value()))
        tick += 1 / rate
        await asyncio.sleep(max(0.0, tick - time.monotonic()))
        if runner.done():
            runner.result()


async def deployed_site(site: str, mport: int, rate: float) -> None:
    """One site as deployed: an IPyServer with a driver of ten devices, and inditomqtt."""
    from indipydriver import Device
    from indipydriver import IPyDriver
    from indipydriver import NumberMember
    from indipydriver import NumberVector
    from indipyserver import IPyServer
    from indiredis import indi_server
    from indiredis import inditomqtt_async
    from indiredis import mqtt_server

    class Readings(IPyDriver):
        async def hardware(self) -> None:
            vectors = [self[device_name(site, i)][VECTOR] for i in range(DEVICES)]
            await asyncio.sleep(random.random() / rate)
            tick = time.monotonic()
            while True:
                for vector in vectors:
                    vector[MEMBER] = round(clock_value(), 3)
                    await vector.send_setVector()
                tick += 1 / rate
                await asyncio.sleep(max(0.0, tick - time.monotonic()))

    driver = Readings(*(Device(device_name(site, i), [NumberVector(
        VECTOR, "Reading", "Main", "ro", "Ok",
        [NumberMember(MEMBER, "Value", "%.3f", 0, 1000, 0, 0)])]) for i in range(DEVICES)))
    server = IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)
    serving = asyncio.create_task(server.asyncrun())
    await server.started()
    try:
        await inditomqtt_async(indi_server("127.0.0.1", server.port), site,
                               mqtt_server("127.0.0.1", mport))
    finally:
        server.shutdown()
        serving.cancel()


async def publisher(first: int, count: int, mport: int, rate: float, deployed: bool) -> None:
    kind = deployed_site if deployed else cheap_site
    async with asyncio.TaskGroup() as group:
        for index in range(first, first + count):
            group.create_task(kind(site_name(index), mport, rate))
            await asyncio.sleep(0.01)  # connections spread a little


# -- the web client over redis (--web) ---------------------------------------------------------

WEB_VALUE = re.compile(rb'data-member="value"><th>[^<]*</th><td class="value">\s*([0-9.]+)')
BROWSER_PROBE = """
() => {
  window.__ages = []; window.__counting = false;
  let last = null;
  new MutationObserver(() => {
    const cell = document.querySelector('tr[data-member="value"] td.value');
    if (!cell || cell.textContent === last) return;
    last = cell.textContent;
    if (!window.__counting) return;
    const now = Date.now() / 1000;
    window.__ages.push(((now % 1000 - parseFloat(last)) % 1000 + 1000) % 1000 * 1000);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def serve_web(rport: int, wport: int, dbfolder: str) -> None:
    """The web client over redis as ``python -m indiredis`` and ``make_wsgi_app`` serve it: the
    indipyweb app over a ``RedisSource``, here under uvicorn (a process of its own)."""
    import uvicorn

    from indipyweb.app import make_app
    from indiredis import redis_server
    from indiredis.websource import RedisSource

    app = make_app(RedisSource(redis_server("127.0.0.1", rport)), dbfolder=dbfolder)
    uvicorn.run(app, host="127.0.0.1", port=wport, log_level="warning")


class WebPages:
    """Open device pages of the web client over redis: ``--pages`` SSE clients as
    ``web_sse.py`` has them (logged in, each its own stream of one device's page, reading what
    the browser's EventSource would), and with ``--browser`` one chromium page. An update's age
    is its arrival's wall-clock time against the driver's clock in the value the page shows
    (``clock_value``): driver -> inditomqtt's MQTT side -> mosquitto -> mqtttoredis -> redis ->
    the web client's RedisSource -> its SSE stream -> (the browser's DOM)."""

    def __init__(self) -> None:
        self.ages: list[float] = []
        self.browser: list[float] = []
        self.counting = False
        self.showing: set[str] = set()  # the devices whose page has shown a value
        self.page: object = None
        self.playwright: object = None

    async def login(self, port: int, timeout: float = 60.0) -> str:
        from web_sse import login

        deadline = time.monotonic() + timeout
        while True:
            try:
                return await login(port)
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def reader(self, port: int, cookie: str, device: str, stop: asyncio.Event) -> None:
        from web_sse import stream_chunks

        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
        writer.write(f"GET /stream?page=device&device={device} HTTP/1.1\r\nHost: bench\r\n"
                     f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"stream refused: {head[:200]!r}")
        try:
            async for chunk in stream_chunks(reader, stop):
                if not self.counting:
                    if WEB_VALUE.search(chunk):
                        self.showing.add(device)
                    continue
                now = time.time()
                for match in WEB_VALUE.finditer(chunk):  # one split across reads is missed
                    self.ages.append(clock_age_ms(float(match.group(1)), now))
        finally:
            writer.close()

    async def open_browser(self, port: int, cookie: str, device: str) -> None:
        from playwright.async_api import async_playwright

        self.playwright = playwright = await async_playwright().start()
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = await browser.new_context()
        name, value = cookie.split("=", 1)
        await context.add_cookies([{"name": name, "value": value,
                                    "url": f"http://127.0.0.1:{port}"}])
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{port}/device/{device}")
        await page.wait_for_selector("body[data-stream=open]", state="attached",
                                     timeout=60_000)
        await page.evaluate(BROWSER_PROBE)
        self.page = page

    async def count(self, on: bool) -> None:
        self.counting = on
        if self.page is not None:
            await self.page.evaluate(f"window.__counting = {'true' if on else 'false'}")  # type: ignore[attr-defined]
            if not on:
                self.browser = await self.page.evaluate("window.__ages")  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self.playwright is not None:
            await self.playwright.stop()  # type: ignore[attr-defined]


def watched_devices(n: int, pages: int) -> list[str]:
    """`pages` devices spread over the fleet (over its sites and its publisher processes)."""
    return [device_name(site_name(k * n // pages), k % DEVICES) for k in range(pages)]


# -- the measuring side ---------------------------------------------------------------------


def _age_ms(stamp: bytes, now: float) -> float:
    when = datetime.strptime(stamp.decode(), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    return (now - when.timestamp()) * 1000


class Listener:
    """A bare RESP subscriber to ``from_indi``: each setNumberVector's age on arrival."""

    def __init__(self) -> None:
        self.ages: list[float] = []
        self.sites: dict[str, int] = {}
        self.counting = False

    async def run(self, rport: int, channel: str = "from_indi") -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", rport, limit=1 << 24)
        name = channel.encode()
        writer.write(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(name), name))
        while True:
            head = await reader.readline()  # *3
            parts = []
            for _ in range(int(head[1:])):
                kind = await reader.readline()
                if kind[:1] == b":":
                    parts.append(kind[1:].strip())
                    continue
                size = int(kind[1:])
                parts.append((await reader.readexactly(size + 2))[:-2])
            if parts[0] != b"message" or not self.counting:
                continue
            data = parts[2]
            if not data.startswith(b"<setNumberVector"):
                continue
            now = time.time()
            stamp = _STAMP.search(data)
            device = _DEVICE.search(data)
            if stamp is None or device is None:
                continue
            self.ages.append(_age_ms(stamp.group(1), now))
            site = device.group(1).decode().rsplit("-", 1)[0]
            self.sites[site] = self.sites.get(site, 0) + 1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def wait_devices(rport: int, want: int, timeout: float) -> int:
    import redis.asyncio as aioredis

    r = aioredis.Redis(port=rport)
    try:
        deadline = time.monotonic() + timeout
        have = 0
        while time.monotonic() < deadline:
            have = await r.scard("indi_devices")
            if have >= want:
                break
            await asyncio.sleep(0.5)
        return int(have)
    finally:
        await r.aclose()


def spawn(cmd: list[str], log: Path, env: dict[str, str],
          cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    """A child in a session of its own, its output to ``log``; run in ``cwd``, since
    ``python -m`` imports from there first."""
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=cwd)


def python_env(root: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    return env


async def one_run(n: int, args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    rport, mport = free_ports(2)
    work = tmp / f"n{n}"
    work.mkdir()
    (work / "m.conf").write_text(f"listener {mport} 127.0.0.1\nallow_anonymous true\n"
                                 "set_tcp_nodelay true\npersistence false\n"
                                 "max_queued_messages 100000\n")
    redis_bin = shutil.which("redis-server") or "redis-server"
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    env = python_env()
    central: list[subprocess.Popen[bytes]] = []
    sites: list[subprocess.Popen[bytes]] = []
    listener = Listener()
    pages = WebPages()
    readers: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    web: subprocess.Popen[bytes] | None = None
    with server_process([redis_bin, "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                         "--dir", str(work)], rport), \
            server_process([mosquitto, "-c", str(work / "m.conf")], mport):
        listening = asyncio.create_task(listener.run(rport))
        try:
            for k in range(args.central):
                share = ["--share", f"{k + 1}/{args.central}"] if args.central > 1 else []
                central.append(spawn(
                    [sys.executable, *profiled(args, f"central{k}-n{n}"), "-m", "indiredis",
                     "mqtttoredis", f"central{k}", str(work / "blobs"), "--mhost", "127.0.0.1",
                     "--mport", str(mport), "--rhost", "127.0.0.1", "--rport", str(rport),
                     *share, *args.central_args], work / f"central{k}.log",
                    python_env(args.central_root or ROOT), cwd=args.central_root or ROOT))
            await asyncio.sleep(1.0)
            publishers = max(1, min(args.publishers, n))
            per = -(-n // publishers)
            for first in range(0, n, per):
                cmd = [sys.executable, str(Path(__file__).resolve()), "--publish",
                       f"{first}:{min(per, n - first)}", "--mport", str(mport),
                       "--rate", str(args.rate)] + (["--deployed"] if args.deployed else [])
                sites.append(spawn(cmd, work / f"sites{first}.log", env))
            have = await wait_devices(rport, n * DEVICES, args.settle)
            if args.web:
                wport = free_port()
                web = start_web(work, rport, wport)
                await open_pages(n, args, wport, pages, readers, stop)
            await asyncio.sleep(args.warm)
            watched = {f"mqtttoredis {k + 1}": p.pid for k, p in enumerate(central)}
            watched["mosquitto"] = _pid_on(mport)
            watched["redis-server"] = _pid_on(rport)
            if web is not None:
                watched["web client"] = web.pid
            cpu0 = {name: cpu_seconds(pid) for name, pid in watched.items() if pid}
            rss0 = {name: rss_mib(pid) for name, pid in watched.items() if pid}
            samples: dict[str, list[float]] = {name: [rss] for name, rss in rss0.items()}
            load0 = os.getloadavg()
            listener.counting = True
            await pages.count(True)
            began = time.monotonic()
            while (left := began + args.seconds - time.monotonic()) > 0:
                await asyncio.sleep(min(left, args.sample))
                for name, taken in samples.items():
                    taken.append(rss_mib(watched[name]))
            listener.counting = False
            await pages.count(False)
            elapsed = time.monotonic() - began
            cpu1 = {name: cpu_seconds(pid) for name, pid in cpu0.items() if name in cpu0
                    for pid in [watched[name]]}
            rss1 = {name: rss_mib(watched[name]) for name in cpu0}
            load1 = os.getloadavg()
        finally:
            stop.set()
            await asyncio.gather(*readers, return_exceptions=True)
            await pages.close()
            if web is not None:
                stop_group(web)
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await listening
            for proc in sites:
                stop_group(proc)
            for proc in central:
                if args.profile:  # a clean end (KeyboardInterrupt) writes the profile
                    proc.send_signal(signal.SIGINT)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(20)
                stop_group(proc)
    stored = len(listener.ages)
    per_process = {}
    for name, before in cpu0.items():
        messages = stored
        if name.startswith("mqtttoredis") and args.central > 1:
            k = int(name.split()[1])
            messages = sum(count for site, count in listener.sites.items()
                           if _share_of(site, args.central) == k)
        cpu = cpu1[name] - before
        per_process[name] = (cpu, messages, rss0[name], rss1[name], samples[name])
    return {"n": n, "devices": have, "rate": stored / elapsed, "offered": n * DEVICES * args.rate,
            "p50": pct(listener.ages, .5), "p99": pct(listener.ages, .99),
            "max": max(listener.ages, default=float("nan")), "procs": per_process,
            "load": (load0, load1), "elapsed": elapsed,
            "web": [(f"{args.pages} SSE pages", pages.ages)]
            + ([("chromium page", pages.browser)] if args.browser else [])}


def start_web(work: Path, rport: int, wport: int) -> subprocess.Popen[bytes]:
    """The web client over redis (``serve_web``), a viewer 'bench' added to its users."""
    from web_sse import add_viewer

    env = python_env()
    add_viewer(str(work), env)
    return spawn([sys.executable, str(Path(__file__).resolve()), "--serve-web",
                  f"{rport}:{wport}:{work}"], work / "web.log", env)


async def open_pages(n: int, args: argparse.Namespace, wport: int, pages: WebPages,
                     readers: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    """The web client logged in to, its pages opened and showing values."""
    cookie = await pages.login(wport)
    devices = watched_devices(n, args.pages)
    readers.extend(asyncio.create_task(pages.reader(wport, cookie, device, stop))
                   for device in devices)
    deadline = time.monotonic() + args.settle
    while len(pages.showing) < len(devices) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)  # the web client has read the store and the pages are live
    if args.browser:  # on a device whose page already shows values (one defined in redis)
        shown = [device for device in devices if device in pages.showing] or devices
        await pages.open_browser(wport, cookie, shown[-1])


def profiled(args: argparse.Namespace, name: str) -> list[str]:
    """``-m cProfile -o DIR/NAME.prof`` with ``--profile DIR``."""
    if not args.profile:
        return []
    Path(args.profile).mkdir(parents=True, exist_ok=True)
    return ["-m", "cProfile", "-o", str(Path(args.profile) / f"{name}.prof")]


def _share_of(site: str, shares: int) -> int:
    from indiredis.topics import share_of

    return share_of(site, shares)


def _pid_on(port: int) -> int:
    """The pid of the process listening on a loopback TCP port (from /proc/net/tcp)."""
    inode = ""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
            inode = fields[9]
            break
    if not inode:
        return 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return int(pid)
    return 0


def report(results: list[dict[str, object]], args: argparse.Namespace) -> None:
    mode = "deployed (IPyServer + inditomqtt)" if args.deployed else "cheap (MqttLink only)"
    print(f"sites: {mode}, {DEVICES} devices each at {args.rate:g} Hz; "
          f"{args.central} mqtttoredis; {args.seconds:g} s windows")
    print(f"{'N':>5} {'devices':>7} {'offered/s':>9} {'stored/s':>9} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8}  load")
    for res in results:
        load0, load1 = res["load"]  # type: ignore[misc]
        print(f"{res['n']:>5} {res['devices']:>7} {res['offered']:>9.0f} {res['rate']:>9.0f} "
              f"{res['p50']:>8.1f} "
              f"{res['p99']:>8.1f} {res['max']:>8.1f}  {load0[0]:.2f} -> {load1[0]:.2f}")
    print(f"\n{'N':>5} {'process':<16} {'CPU s':>7} {'messages':>9} {'ms CPU/msg':>10} "
          f"{'RSS MiB start -> end':>22}")
    for res in results:
        for name, (cpu, messages, r0, r1, _) in res["procs"].items():  # type: ignore[attr-defined]
            per = cpu / messages * 1000 if messages else float("nan")
            print(f"{res['n']:>5} {name:<16} {cpu:>7.2f} {messages:>9} {per:>10.3f} "
                  f"{r0:>10.1f} -> {r1:>7.1f}")
    if args.web:
        print(f"\nan open web page over redis (driver -> page), {args.pages} SSE clients on "
              "devices spread over the fleet" + (", one chromium page" if args.browser else ""))
        print(f"{'N':>5} {'page':<16} {'updates':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for res in results:
            for name, ages in res["web"]:  # type: ignore[attr-defined]
                print(f"{res['n']:>5} {name:<16} {len(ages):>8} {pct(ages, .5):>8.1f} "
                      f"{pct(ages, .99):>8.1f} {max(ages, default=float('nan')):>8.1f}")
    if any(len(p[4]) > 2 for res in results for p in res["procs"].values()):  # type: ignore[attr-defined]
        print(f"\nRSS MiB every {args.sample:g} s of the window")
        for res in results:
            for name, proc in res["procs"].items():  # type: ignore[attr-defined]
                print(f"{res['n']:>5} {name:<16} " + " ".join(f"{x:.1f}" for x in proc[4]))


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        results = [await one_run(n, args, tmp) for n in args.n]
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs kept in {tmp}")
    report(results, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, nargs="+", default=[10, 100, 300], help="sites")
    parser.add_argument("--central", type=int, default=1, help="mqtttoredis processes")
    parser.add_argument("--deployed", action="store_true",
                        help="sites as deployed: an IPyServer and an inditomqtt each")
    parser.add_argument("--publishers", type=int, default=2,
                        help="processes the sites run in (2)")
    parser.add_argument("--rate", type=float, default=1.0, help="updates a device a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window (30)")
    parser.add_argument("--settle", type=float, default=120.0,
                        help="at most this long for every device to be stored first (120 s)")
    parser.add_argument("--central-root", type=Path, default=None, metavar="DIR",
                        help="run the mqtttoredis processes from another checkout (before/after)")
    parser.add_argument("--central-args", nargs=argparse.REMAINDER, default=[],
                        help="the rest: more options of each mqtttoredis (e.g. --qos 0)")
    parser.add_argument("--profile", metavar="DIR",
                        help="run the mqtttoredis processes under cProfile, profiles in DIR")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    parser.add_argument("--web", action="store_true",
                        help="also the web client over redis, its pages timed (see WebPages)")
    parser.add_argument("--pages", type=int, default=4,
                        help="with --web: device pages open over SSE (4)")
    parser.add_argument("--browser", action="store_true",
                        help="with --web: and one chromium page (Debian's /usr/bin/chromium)")
    parser.add_argument("--warm", type=float, default=10.0,
                        help="wait this long after the start (and the pages' opening) before "
                        "the window: a backlog of the start drained (10 s)")
    parser.add_argument("--sample", type=float, default=60.0,
                        help="read each process's RSS this often in the window (60 s)")
    parser.add_argument("--serve-web", help=argparse.SUPPRESS)  # RPORT:WPORT:DBFOLDER
    parser.add_argument("--publish", help=argparse.SUPPRESS)  # FIRST:COUNT, a site process
    parser.add_argument("--mport", type=int, help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.serve_web:
        rport, wport, dbfolder = ns.serve_web.split(":", 2)
        serve_web(int(rport), int(wport), dbfolder)
    elif ns.publish:
        first, count = (int(x) for x in ns.publish.split(":"))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(publisher(first, count, ns.mport, ns.rate, ns.deployed))
    else:
        asyncio.run(main(ns))
