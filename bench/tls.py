"""BLOBs and round trips over TLS: our TLS port, our plain port, and indiserver behind stunnel.

    python bench/tls.py                 # 3 reps of 50 BLOBs of 10 MiB, 16 pairs x 2000 trips
    python bench/tls.py -r 5 --count 20 --trips 1000 --rt-reps 24
    python bench/tls.py --trips-only    # the round trips alone
    python bench/tls.py --aa            # plain against plain: the round trip's noise floor

Issue 60 item 8. What users run today for TLS is indilib's ``indiserver`` behind ``stunnel``
(Debian ``stunnel4``): the same stream through it is the bar for our TLS port. Every TLS
connection here presents a client certificate and the server requires one (ours:
``--tls-client-ca``; stunnel: ``verifyChain``), with certificates made by ``openssl`` in a
temporary folder (EC P-256, TLS 1.3, the ciphers both choose by default). The client reads
and writes its socket on a TLS port exactly as on a plain one (one ``recv_into`` of all there
is, one ``sendall`` a message) and encrypts in memory (``rawclient.TLSSession``): an
``ssl.SSLSocket`` read one record a wake-up with two read(2)s, which timed the bench's client
on top of the server.

* BLOBs: one client takes ``--count`` BLOBs of 10 MiB from the bench's traffic driver (run.py's
  blob scenario, libindi style), through a fresh server of each kind, the kinds alternated rep
  by rep; MB/s medians.
* Round trips: a client's new number to the driver and the driver's set back, through our plain
  port and our TLS port, timed as ``roundtrip_ab.py`` times two servers: ``--rt-reps`` fresh
  pairs (plain and TLS), alternating which starts first, the trips interleaved as run.py's
  round trip does. Where the kernel places a server and its driver moves one server's p50 by
  10 % or more from one pair to the next, so the figure is the median of the per-pair TLS/plain
  p50 ratios, with their range; ``--aa`` times plain against plain, the floor of that noise.

The issue's bars: TLS BLOBs >= 0.5 x plain, >= 1.0 x indiserver behind stunnel; TLS round trip
p50 <= 1.2 x plain. The load average is printed with the figures (the machine is shared).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parent))

import roundtrip_ab
import run
from processes import stop_group

KINDS = ("ours plain", "ours TLS", "indiserver+stunnel")

#: openssl commands making the CA, the server's and the client's certificates (run in order,
#: in the folder; each a list of arguments after ``openssl``).
_NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_OPENSSL = [
    ["req", "-x509", *_NEW_KEY, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
     "-subj", "/CN=bench CA"],
    *[step for name in ("server", "client") for step in (
        ["req", *_NEW_KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
         f"/CN={name}"],
        ["x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext"])],
]
_EXTENSIONS = {"server.ext": "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
               "client.ext": "extendedKeyUsage=clientAuth\n"}


def make_certificates(folder: Path) -> None:
    for name, text in _EXTENSIONS.items():
        (folder / name).write_text(text)
    for args in _OPENSSL:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


@dataclass
class TLSPort:
    """A server as `run.connect` sees it, reached on another port over TLS (`tls`)."""

    server: run.Server
    port: int
    tls: ssl.SSLContext

    @property
    def kind(self) -> str:
        return self.server.kind

    def log_tail(self) -> str:
        return self.server.log_tail()


class Stunnel:
    """stunnel4 in front of a server: TLS on `port` (client certificates required), plain
    to `target`."""

    def __init__(self, certs: Path, target: int) -> None:
        self.port = run.free_port()
        conf = certs / f"stunnel-{self.port}.conf"
        conf.write_text(
            "foreground = yes\npid =\n[indi]\n"
            f"accept = {run.HOST}:{self.port}\nconnect = {run.HOST}:{target}\n"
            f"cert = {certs / 'server.crt'}\nkey = {certs / 'server.key'}\n"
            f"CAfile = {certs / 'ca.crt'}\nverifyChain = yes\nrequireCert = yes\n")
        self.proc = subprocess.Popen([STUNNEL, str(conf)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_listening(self.port, self.proc)

    def log_tail(self) -> str:
        return ""

    def stop(self) -> None:
        stop_group(self.proc)


STUNNEL = shutil.which("stunnel4") or shutil.which("stunnel") or "stunnel4"


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Return once something accepts connections on `port`; RuntimeError if `proc` ends or
    time runs out first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            socket.create_connection((run.HOST, port), timeout=0.5).close()
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def tls_server(stack: contextlib.ExitStack, kind: str, certs: Path,
               context: ssl.SSLContext, args: tuple[str, ...] = ()) -> TLSPort | run.Server:
    """A fresh server of `kind` (one of KINDS) as the bench's clients reach it."""
    if kind == "ours plain":
        return stack.enter_context(run.Server("ours", args=args))
    if kind == "ours TLS":
        port = run.free_port()
        srv = stack.enter_context(run.Server("ours", args=(
            *args, "--tls-port", str(port), "--tls-host", run.HOST, "--tls-cert",
            str(certs / "server.crt"), "--tls-key", str(certs / "server.key"),
            "--tls-client-ca", str(certs / "ca.crt"))))
        wait_listening(port, srv.proc)
        return TLSPort(srv, port, context)
    srv = stack.enter_context(run.Server("indiserver", args=args))
    tunnel = Stunnel(certs, srv.port)
    stack.callback(tunnel.stop)
    return TLSPort(srv, tunnel.port, context)


def blob_rate(kind: str, cfg: run.Config, certs: Path, context: ssl.SSLContext) -> float:
    """MB/s of one client taking `cfg.blob_count` BLOBs through a fresh server of `kind`."""
    with contextlib.ExitStack() as stack:
        srv = tls_server(stack, kind, certs, context, run.BIG_QUEUE)
        (c,) = run.connect(srv, blobs=True)  # type: ignore[arg-type]
        job = run.prepare(c, f"kind=blob count={cfg.blob_count} size={cfg.blob_size} "
                             "style=libindi ping=1 writes=whole")
        r = run.stream(c, [c], job, "setBLOB", cfg.blob_count, timeout=300)
        c.close()
    return run.rate(r.counts[0] * cfg.blob_size / run.MB, r.ends[0] - r.t0)


def trips(cfg: run.Config, certs: Path, context: ssl.SSLContext, kinds: tuple[str, str],
          reps: int, block: int = 1) -> roundtrip_ab.Compared:
    """Round trips through `kinds` (A, B), over `reps` fresh pairs as roundtrip_ab.py times
    them (the start order alternated, the trips interleaved); a row a rep on stderr."""
    def starter(kind: str) -> roundtrip_ab.Starter:
        return lambda stack: tls_server(stack, kind, certs, context)  # type: ignore[return-value]
    starters = (starter(kinds[0]), starter(kinds[1]))
    return roundtrip_ab.compare(starters, kinds, reps, cfg.trips, run.RT_SETTLE, sys.stderr,
                                block)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-r", "--reps", type=int, default=3, help="BLOB reps")
    ap.add_argument("--count", type=int, default=run.Config.blob_count, help="BLOBs a stream")
    ap.add_argument("--trips", type=int, default=run.Config.trips, help="round trips a rep")
    ap.add_argument("--rt-reps", type=int, default=16, help="fresh pairs for the round trips")
    ap.add_argument("--aa", action="store_true",
                    help="round trips only, plain against plain: the noise floor")
    ap.add_argument("--trips-only", action="store_true", help="no BLOBs")
    ap.add_argument("--block", type=int, default=1,
                    help="round trips in a row to one server of the pair (default 1)")
    args = ap.parse_args(argv)
    if shutil.which(STUNNEL) is None:
        sys.exit("stunnel4 is not installed (Debian: apt-get install -y stunnel4)")
    cfg = run.Config(blob_count=args.count, trips=args.trips)
    certs = Path(tempfile.mkdtemp(prefix="bench-tls-"))
    make_certificates(certs)
    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    context.load_cert_chain(str(certs / "client.crt"), str(certs / "client.key"))
    rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
    loads = [os.getloadavg()[0]]
    for i in range(0 if args.aa or args.trips_only else args.reps):
        for kind in KINDS if i % 2 == 0 else KINDS[::-1]:
            rates[kind].append(blob_rate(kind, cfg, certs, context))
            print(f"[rep {i + 1} {kind}] {rates[kind][-1]:.0f} MB/s", file=sys.stderr,
                  flush=True)
        loads.append(os.getloadavg()[0])
    pair = (KINDS[0], KINDS[0]) if args.aa else (KINDS[0], KINDS[1])
    rt = trips(cfg, certs, context, pair, args.rt_reps, args.block)
    loads.append(os.getloadavg()[0])
    shutil.rmtree(certs, ignore_errors=True)
    print(f"{len(rates[KINDS[0]])} BLOB reps of {cfg.blob_count} BLOBs of "
          f"{cfg.blob_size / 2**20:g} MiB; round trips: {args.rt_reps} fresh pairs x "
          f"{cfg.trips} trips ({args.block} in a row), the start order alternated; medians; load average "
          f"{min(loads):.1f}-{max(loads):.1f} ({time.strftime('%Y-%m-%d %H:%M')})")
    if args.aa:
        print(f"A/A, {pair[0]} against itself: {rt.summary('p50')}; {rt.summary('p99')}")
        return 0
    speed = {kind: statistics.median(xs) for kind, xs in rates.items() if xs}
    p50 = dict(zip(pair, (statistics.median(got) for got in zip(*rt.p50, strict=True)),
                   strict=True))
    p99 = dict(zip(pair, (statistics.median(got) for got in zip(*rt.p99, strict=True)),
                   strict=True))
    print("| server | BLOBs MB/s | MB/s min-max | round trip p50, us | p99, us |")
    print("|---|---:|---:|---:|---:|")
    for kind in KINDS:
        blobs = (f"{speed[kind]:,.0f} | {min(rates[kind]):,.0f}-{max(rates[kind]):,.0f}"
                 if kind in speed else "- | -")
        trip = f"{p50[kind]:,.0f} | {p99[kind]:,.0f}" if kind in p50 else "- | -"
        print(f"| {kind} | {blobs} | {trip} |")
    print(verdict(speed, rt))
    return 0


def verdict(speed: dict[str, float], rt: roundtrip_ab.Compared) -> str:
    """The issue's three ratios, each with its bar (the round trip's: the median of the
    per-pair TLS/plain p50, since one pair's placement moves its p50 by 10 % or more)."""
    ratios = rt.ratios("p50")
    trip = (f"round trip p50 TLS / plain {statistics.median(ratios):.2f} (bar <= 1.2; median "
            f"of {len(ratios)} pairs, range {min(ratios):.2f}-{max(ratios):.2f}, "
            f"<= 1.2 in {sum(x <= 1.2 for x in ratios)})")
    if not speed:
        return trip
    tls, plain, stunnel = speed["ours TLS"], speed["ours plain"], speed["indiserver+stunnel"]
    return (f"TLS / plain BLOBs {tls / plain:.2f} (bar >= 0.5); TLS / indiserver+stunnel "
            f"{tls / stunnel:.2f} (bar >= 1.0); {trip}")


if __name__ == "__main__":
    raise SystemExit(main())
