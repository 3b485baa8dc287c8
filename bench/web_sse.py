"""indipyweb's live updates under load: a driver streaming setNumberVectors to a device page open
in N SSE clients.

Three processes, all on 127.0.0.1: our INDI server with a driver that sets a number RATE times a
second (its value is the wall-clock time the set was sent), the web client (``python -m
indipyweb``, whose CPU and RSS are measured from /proc), and this one with N plain HTTP clients,
each logged in and reading its own SSE stream of the device page. Each update's latency is the
time it arrives at a client minus the time the driver sent it (the value in the fragment).

    python bench/web_sse.py                      # N = 1, 10, 50; 20 s each; then a stuck client
    python bench/web_sse.py -n 1 -n 10 -d 3      # a smoke run
    python bench/web_sse.py --browser            # plus one real browser (Debian's chromium)
    python bench/web_sse.py --vs-021             # and bernie-skipole's indipyweb 0.2.1 beside it

With ``--vs-021`` the same driver and clients run against indipyweb 0.2.1 (PyPI, in a throw-away
venv made on first use at /tmp/indipyweb021-venv) measured the same way where it can be: its
streams carry event names only (``vector_ID``), so each of its clients fetches the vector's
fragment (``/vector/update/ID``) on each event, as htmx does there, and the latency runs to that
answer. Its streams and fragments need no log-in (``exclude_from_auth``). Ratios are printed.

The last phase opens one client that never reads beside 10 readers: its updates are coalesced
to the latest per vector, so the web server's RSS must stay flat. Targets (issue 32): p99 under
100 ms at 50 clients, RSS flat. Bounded in time; stops only the processes it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

ROOT = Path(__file__).resolve().parent.parent
DEVICE = "Bench"
sys.path.insert(0, str(ROOT / "bench"))

from processes import cpu_seconds
from processes import free_ports
from processes import rss_mib
from processes import stop

PASSWORD = "bench-password"
VALUE = re.compile(rb'data-member="T"><th>[^<]*</th><td class="value">([0-9.]+)</td>')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_viewer(dbfolder: str, env: dict[str, str]) -> None:
    """Add the user 'bench' (a viewer, password PASSWORD) to the web client's database."""
    subprocess.run([sys.executable, "-m", "indipyweb", "adduser", "bench", "--role", "viewer",
                    "--dbfolder", dbfolder], input=PASSWORD + "\n", text=True, env=env,
                   capture_output=True, check=True)


# -- the INDI side (run as a subprocess: `web_sse.py --indi PORT RATE`) ----------------------

def serve_indi(port: int, rate: float) -> None:
    import indipydriver as ipd
    from indipyserver import IPyServer

    class Streamer(ipd.IPyDriver):
        async def rxevent(self, event: ipd.RxEvent) -> None:
            pass

        async def hardware(self) -> None:
            vector = self[DEVICE]["CLOCK"]
            period = 1.0 / rate
            next_at = time.monotonic()
            while True:
                next_at += period
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                vector["T"] = time.time()
                await vector.send_setVector()

    clock = ipd.NumberVector("CLOCK", "Clock", "Main", "ro", "Ok", [
        ipd.NumberMember("T", "Sent at", "%.6f", "0", "0", "0", membervalue=time.time())])
    IPyServer(Streamer(ipd.Device(DEVICE, [clock])), port=port).run()


# -- measuring -------------------------------------------------------------------------------

async def login(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"username": "bench", "password": PASSWORD}).encode()
    writer.write(b"POST /api/login HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
    answer = await reader.read()
    writer.close()
    cookie = re.search(rb"set-cookie: (indipyweb_session=[^;]+)", answer, re.IGNORECASE)
    if cookie is None:
        raise RuntimeError(f"log-in failed: {answer[:200]!r}")
    return cookie.group(1).decode()


async def open_stream(port: int, cookie: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    writer.write(f"GET /stream?page=device&device={DEVICE} HTTP/1.1\r\nHost: bench\r\n"
                 f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"stream refused: {head[:200]!r}")
    return reader, writer


async def stream_chunks(reader: asyncio.StreamReader,
                        stop: asyncio.Event) -> AsyncIterator[bytes]:
    """What an event stream sends, a read at a time, until `stop` is set or it ends."""
    while not stop.is_set():
        try:
            chunk = await asyncio.wait_for(reader.read(1 << 16), 1.0)
        except TimeoutError:
            continue
        if not chunk:
            return
        yield chunk


async def read_client(port: int, cookie: str, latencies: list[float], stop: asyncio.Event) -> None:
    reader, writer = await open_stream(port, cookie)
    try:
        async for chunk in stream_chunks(reader, stop):
            now = time.time()
            for match in VALUE.finditer(chunk):  # an event split across reads is simply missed
                latencies.append((now - float(match.group(1))) * 1000)
    finally:
        writer.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


BROWSER_PROBE = """
() => {
  window.__latencies = [];
  new MutationObserver(() => {
    const cell = document.querySelector('tr[data-member="T"] td.value');
    if (cell) window.__latencies.push(Date.now() - parseFloat(cell.textContent) * 1000);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


async def open_browser(port: int, cookie: str) -> tuple[object, object]:
    """One chromium page on the device page, recording each update's latency in the page."""
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    context = await browser.new_context()
    name, value = cookie.split("=", 1)
    await context.add_cookies([{"name": name, "value": value, "url": f"http://127.0.0.1:{port}"}])
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{port}/device/{DEVICE}")
    await page.wait_for_selector("body[data-stream=open]")
    await page.evaluate(BROWSER_PROBE)
    return playwright, page


async def phase(port: int, cookies: list[str], web_pid: int, seconds: float,
                stuck: int = 0, page: object = None) -> dict[str, float]:
    stop = asyncio.Event()
    per_client: list[list[float]] = [[] for _ in cookies]
    stuck_streams = [await open_stream(port, cookies[0]) for _ in range(stuck)]
    tasks = [asyncio.create_task(read_client(port, cookie, lat, stop))
             for cookie, lat in zip(cookies, per_client, strict=True)]
    await asyncio.sleep(1.0)  # connected and past the first whole-page part
    for lat in per_client:
        lat.clear()
    if page is not None:
        await page.evaluate("window.__latencies = []")  # type: ignore[attr-defined]
    cpu0, wall0, rss0 = cpu_seconds(web_pid), time.monotonic(), rss_mib(web_pid)
    rss_peak = rss0
    end = wall0 + seconds
    while time.monotonic() < end:
        await asyncio.sleep(0.5)
        rss_peak = max(rss_peak, rss_mib(web_pid))
    cpu = (cpu_seconds(web_pid) - cpu0) / (time.monotonic() - wall0)
    stop.set()
    await asyncio.gather(*tasks)
    for _, writer in stuck_streams:
        writer.close()
    latencies = [x for lat in per_client for x in lat]
    browser: list[float] = []
    if page is not None:
        browser = await page.evaluate("window.__latencies")  # type: ignore[attr-defined]
    return {"browser_p50": percentile(browser, 0.5), "browser_p99": percentile(browser, 0.99),
            "browser_updates": len(browser),"updates": len(latencies), "per_client_per_s": len(latencies) / len(cookies) / seconds,
            "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "cpu": cpu * 100, "rss0": rss0, "rss_peak": rss_peak, "rss_end": rss_mib(web_pid)}


async def measure(args: argparse.Namespace, webport: int,
                  web_pid: int) -> list[tuple[str, dict[str, float]]]:
    deadline = time.monotonic() + 20
    while True:
        try:
            cookie = await login(webport)
            break
        except (OSError, RuntimeError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)
    await asyncio.sleep(1.0)  # the device defined
    playwright, page = await open_browser(webport, cookie) if args.browser else (None, None)
    print(f"driver: {args.rate:g} setNumberVector/s; web server pid {web_pid}")
    print(f"{'clients':>8} {'updates/s/client':>17} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU %':>6} {'RSS MiB start/peak/end':>24}")
    rows = [(str(n), await phase(webport, [cookie] * n, web_pid, args.duration, page=page))
            for n in args.clients]
    rows.append(("10+stuck", await phase(webport, [cookie] * 10, web_pid, args.duration,
                                         stuck=1)))
    for name, r in rows:
        print(f"{name:>8} {r['per_client_per_s']:>17.1f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
              f"{r['cpu']:>6.1f} {r['rss0']:>10.1f}/{r['rss_peak']:.1f}/{r['rss_end']:.1f}")
    print("the stuck client's cost: its row's RSS and CPU beside the 10-client row's")
    if page is not None:
        print("the browser beside them (latency from the driver's send to the page's DOM):")
        for name, r in rows[:-1]:
            print(f"{name:>8} {r['browser_updates'] / args.duration:>17.1f} "
                  f"{r['browser_p50']:>8.1f} {r['browser_p99']:>8.1f}")
        await playwright.stop()  # type: ignore[attr-defined]
    return rows


def bench(args: argparse.Namespace) -> int:
    indiport, webport = free_ports(2)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        add_viewer(tmp, env)
        indi = subprocess.Popen([sys.executable, __file__, "--indi", str(indiport),
                                 str(args.rate)], env=env)
        web = subprocess.Popen([sys.executable, "-m", "indipyweb", "--port", str(webport),
                                "--indiport", str(indiport), "--dbfolder", tmp],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ours = asyncio.run(measure(args, webport, web.pid))
            if args.vs_021:
                web.send_signal(signal.SIGINT)  # one web server at a time on the 2 cores
                web.wait(10)
                theirs = run021(args, indiport)
                print("indipyweb 0.2.1, the same driver and clients (event, then a fetch):")
                for name, r in theirs:
                    print(f"{name:>8} {r['per_client_per_s']:>17.1f} {r['p50']:>8.1f} "
                          f"{r['p99']:>8.1f} {r['cpu']:>6.1f} "
                          f"{r['rss0']:>10.1f}/{r['rss_peak']:.1f}/{r['rss_end']:.1f}")
                print("ratios, 0.2.1 / ours (above 1: ours is better):")
                for (name, a), (_, b) in zip(ours, theirs, strict=False):
                    print(f"{name:>8} p50 {b['p50'] / a['p50']:.2f}  p99 {b['p99'] / a['p99']:.2f}"
                          f"  CPU {b['cpu'] / max(a['cpu'], 0.01):.2f}"
                          f"  updates/s {a['per_client_per_s'] / max(b['per_client_per_s'], 0.01):.2f}")
        finally:
            for proc in (web, indi):
                proc.send_signal(signal.SIGINT)
            for proc in (web, indi):
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return 0


# -- indipyweb 0.2.1 beside it ----------------------------------------------------------------

VENV021 = Path("/tmp/indipyweb021-venv")
VALUE021 = re.compile(rb'id="member_\d+" hx-swap-oob="true">\s*([0-9.]+)\s*</p>')
EVENT021 = re.compile(rb"event: ?vector_(\d+)")


def python021() -> Path:
    python = VENV021 / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV021} with indipyweb==0.2.1 from PyPI")
        subprocess.run([sys.executable, "-m", "venv", str(VENV021)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "indipyweb==0.2.1"],
                       check=True)
    return python


async def http_get(port: int, path: str) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


async def open_stream021(port: int, deviceid: int) -> tuple[asyncio.StreamReader,
                                                            asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    writer.write(f"GET /device/devicechange/{deviceid} HTTP/1.1\r\nHost: bench\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0] or b"event-stream" not in head:
        writer.close()
        raise RuntimeError(f"no stream for device {deviceid}")
    return reader, writer


async def read_client021(port: int, deviceid: int, latencies: list[float],
                         stop: asyncio.Event) -> None:
    reader, writer = await open_stream021(port, deviceid)
    fetcher, fetch_writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async for chunk in stream_chunks(reader, stop):
            for vectorid in {m.group(1) for m in EVENT021.finditer(chunk)}:
                # what htmx does there on the event: fetch the fragment (keep-alive)
                fetch_writer.write(b"GET /vector/update/" + vectorid +
                                   b" HTTP/1.1\r\nHost: bench\r\n\r\n")
                head = await fetcher.readuntil(b"\r\n\r\n")
                length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
                body = await fetcher.readexactly(int(length.group(1))) if length else b""
                now = time.time()
                for match in VALUE021.finditer(body):
                    latencies.append((now - float(match.group(1))) * 1000)
    finally:
        writer.close()
        fetch_writer.close()


async def phase021(port: int, deviceid: int, n: int, web_pid: int,
                   seconds: float) -> dict[str, float]:
    stop = asyncio.Event()
    per_client: list[list[float]] = [[] for _ in range(n)]
    tasks = [asyncio.create_task(read_client021(port, deviceid, lat, stop))
             for lat in per_client]
    await asyncio.sleep(1.0)
    for lat in per_client:
        lat.clear()
    cpu0, wall0, rss0 = cpu_seconds(web_pid), time.monotonic(), rss_mib(web_pid)
    rss_peak = rss0
    while time.monotonic() < wall0 + seconds:
        await asyncio.sleep(0.5)
        rss_peak = max(rss_peak, rss_mib(web_pid))
    cpu = (cpu_seconds(web_pid) - cpu0) / (time.monotonic() - wall0)
    stop.set()
    await asyncio.gather(*tasks)
    latencies = [x for lat in per_client for x in lat]
    return {"per_client_per_s": len(latencies) / n / seconds,
            "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "cpu": cpu * 100, "rss0": rss0, "rss_peak": rss_peak, "rss_end": rss_mib(web_pid)}


async def measure021(args: argparse.Namespace, webport: int,
                     web_pid: int) -> list[tuple[str, dict[str, float]]]:
    deadline = time.monotonic() + 30
    deviceid = None
    while deviceid is None:  # its ids are its client's item numbers: find the device's
        for candidate in range(1, 20):
            try:
                _reader, writer = await open_stream021(webport, candidate)
            except (OSError, RuntimeError):
                continue
            writer.close()
            deviceid = candidate
            break
        if deviceid is None:
            if time.monotonic() > deadline:
                raise RuntimeError("indipyweb 0.2.1 never showed the device")
            await asyncio.sleep(0.5)
    return [(str(n), await phase021(webport, deviceid, n, web_pid, args.duration))
            for n in args.clients]


def run021(args: argparse.Namespace, indiport: int) -> list[tuple[str, dict[str, float]]]:
    import sqlite3

    python = python021()
    webport = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        command = [str(python), "-m", "indipyweb", "--port", str(webport), "--host",
                   "127.0.0.1", "--dbfolder", tmp]
        # cwd: `-m indipyweb` from this checkout would run ours
        first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 cwd=tmp)
        try:  # its first start makes the database; its INDI port is a setting in there
            deadline = time.monotonic() + 30
            while not list(Path(tmp).glob("*.db")) or not _listening(webport):
                if time.monotonic() > deadline:
                    raise RuntimeError("indipyweb 0.2.1 did not start")
                time.sleep(0.3)
        finally:
            first.terminate()
            first.wait(10)
        for db in Path(tmp).glob("*.db"):
            with sqlite3.connect(db) as con:
                con.execute("UPDATE parameters SET indiport = ?", (indiport,))
        web = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=tmp)
        try:
            return asyncio.run(measure021(args, webport, web.pid))
        finally:
            stop(web)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    if sys.argv[1:2] == ["--indi"]:
        serve_indi(int(sys.argv[2]), float(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--clients", type=int, action="append",
                        help="SSE clients (repeatable; default 1, 10, 50)")
    parser.add_argument("-d", "--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("-r", "--rate", type=float, default=100.0, help="sets per second")
    parser.add_argument("--vs-021", action="store_true",
                        help="also bernie-skipole's indipyweb 0.2.1 (throw-away venv), ratios")
    parser.add_argument("--browser", action="store_true",
                        help="also one headless chromium on the page (Playwright)")
    args = parser.parse_args()
    args.clients = args.clients or [1, 10, 50]
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
