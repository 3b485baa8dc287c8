"""indilib's CCD simulator at its full frame rate, through indiserver and ours, to N clients.

    python bench/ccdrate.py                      # 0 and 4 BLOB clients, 30 frames, 3 reps
    python bench/ccdrate.py -n 0 -n 1 -n 4 -f 50 -r 5

The simulator (`indi_simulator_ccd`, an indilib ELF driver: both servers give it a Unix
socket, and it attaches each image as a memfd) is connected and told to expose for
`--exposure` seconds; each time its exposure turns Ok (the image has been handed to the
server) a control client, which takes no BLOBs, starts the next, from a thread of its own.
`N` more clients take BLOBs (``enableBLOB Also``) and read everything at once. Frames/s = frames / (first exposure ->
the last client's last image). With 0 BLOB clients it is the simulator alone behind the
server: what "keeps up with the simulator's full frame rate" is compared with. indilib >= 1.9.7
waits for the server's pingReply to the previous image before it sends the next, so a server
that queues images slowly slows the simulator itself. Fresh servers per run, the servers'
order alternated every rep, medians and min-max. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import run
from indirequests import enable_blob
from indirequests import get_properties
from indirequests import new_number
from indirequests import switch_on
from rawclient import Hub
from rawclient import RawClient

CCD = "CCD Simulator"
args_poll = [10]  # --poll-ms
UNIX = [False]  # --unix
# As the simulator writes them (which ours passes on) and as indiserver rewrites them.
EXPOSURE_OK = (b"name='CCD_EXPOSURE'\n  state='Ok'", b'name="CCD_EXPOSURE" state="Ok"')
EXPOSURE_DEF = (b"name='CCD_EXPOSURE'", b'name="CCD_EXPOSURE"')


def frames_per_second(kind: str, clients: int, frames: int, exposure: float) -> tuple[float, int]:
    """(frames/s, images the slowest BLOB client got) of one run on a fresh server."""
    with run.Server(kind, exe=Path("indi_simulator_ccd"), args=run.BIG_QUEUE,
                    unix=UNIX[0]) as srv:
        ctl = RawClient(run.HOST, srv.port, "ctl")
        for j in (0, 1):
            ctl.watch(f"exp{j}", EXPOSURE_DEF[j])
            ctl.watch(f"ok{j}", EXPOSURE_OK[j])
        ctl.send(get_properties() + enable_blob(CCD, "Never"))
        hub = Hub([ctl])
        if not hub.run_until(lambda: ctl.defs() >= 3, 30):
            raise RuntimeError(f"{kind}: no definitions {srv.log_tail()}")
        ctl.send(switch_on(CCD, "CONNECTION", "CONNECT"))
        if not hub.run_until(lambda: ctl.counts["exp0"] + ctl.counts["exp1"] > 0, 30):
            raise RuntimeError(f"{kind}: the simulator did not connect {ctl.counts} "
                               f"{srv.log_tail()}")
        # The simulator's exposure timer ticks at its polling period (1 s by default): 10 ms
        # lets it deliver images as fast as it can make them.
        ctl.send(new_number(CCD, "POLLING_PERIOD", "PERIOD_MS", args_poll[0]))
        hub.close()
        readers = [RawClient(run.HOST, srv.port, f"c{i}",
                             unix_path=srv.unix_path if UNIX[0] else None)
                   for i in range(clients)]
        for c in readers:
            c.watch("exp0", EXPOSURE_DEF[0])
            c.watch("exp1", EXPOSURE_DEF[1])
            c.send(get_properties() + enable_blob(CCD, "Also"))
        hub = Hub(readers)
        if not hub.run_until(lambda: all(c.counts["exp0"] + c.counts["exp1"] > 0 for c in readers), 30):
            raise RuntimeError(f"{kind}: clients got no definitions")
        time.sleep(0.3)  # their enableBLOBs reach the server before the first image
        for c in readers:
            c.reset()
        ctl.reset()
        # The control client runs the exposures in a thread of its own, as a capture program
        # does beside the others: in the readers' loop, each exposure's Ok waited behind
        # their reads of the image before the next exposure started (both servers alike).
        expose = new_number(CCD, "CCD_EXPOSURE", "CCD_EXPOSURE_VALUE", exposure)
        failed: list[str] = []

        def exposures() -> None:
            ctl_hub = Hub([ctl])
            for k in range(frames):
                ctl.send(expose)
                if not ctl_hub.run_until(lambda k=k: ctl.counts["ok0"] + ctl.counts["ok1"] > k,
                                         60):
                    failed.append(f"{kind}: exposure {k} did not complete")
                    break
            ctl_hub.close()

        controller = threading.Thread(target=exposures, name="ccdrate-exposures")
        t0 = time.perf_counter()
        controller.start()
        if readers:
            hub.run_until(lambda: all(c.counts["setBLOB"] >= frames for c in readers) or bool(failed),
                          60 + frames, idle=5)
        controller.join()
        hub.close()
        if failed:
            raise RuntimeError(failed[0])
        got = min((c.counts["setBLOB"] for c in readers), default=frames)
        end = max((c.last.get("setBLOB", t0) for c in readers),
                  default=max(ctl.last.get("ok0", t0), ctl.last.get("ok1", t0)))
        for c in [ctl, *readers]:
            c.close()
    return frames / (end - t0), got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--clients", type=int, action="append",
                    help="BLOB clients (repeatable; default 0 and 4)")
    ap.add_argument("-f", "--frames", type=int, default=30)
    ap.add_argument("-r", "--reps", type=int, default=3)
    ap.add_argument("--exposure", type=float, default=0.01, help="seconds per exposure")
    ap.add_argument("--servers", default="indiserver,ours")
    ap.add_argument("--poll-ms", type=int, default=10, help="the simulator's POLLING_PERIOD")
    ap.add_argument("--unix", action="store_true",
                    help="the BLOB clients on the servers' Unix socket (-u), where both pass "
                         "the simulator's memfds on instead of base64")
    args = ap.parse_args(argv)
    args_poll[0] = args.poll_ms
    UNIX[0] = args.unix
    counts = args.clients or [0, 4]
    servers = args.servers.split(",")
    results: dict[tuple[str, int], list[float]] = {}
    lost: dict[tuple[str, int], int] = {}
    for i in range(args.reps):
        for kind in servers if i % 2 == 0 else servers[::-1]:
            for n in counts:
                fps, got = frames_per_second(kind, n, args.frames, args.exposure)
                results.setdefault((kind, n), []).append(fps)
                lost[(kind, n)] = max(lost.get((kind, n), 0), args.frames - got)
                print(f"[rep {i + 1} {kind} {n} clients] {fps:.2f} frames/s, "
                      f"{got}/{args.frames} images", file=sys.stderr, flush=True)
    print(f"{args.reps} reps of {args.frames} frames, exposure {args.exposure} s, "
          f"BLOB clients on {'the Unix socket' if args.unix else 'TCP'}, "
          f"polling period {args.poll_ms} ms, "
          f"-m 1000; medians (min-max); load {os.getloadavg()[0]:.1f}")
    print("| server | BLOB clients | frames/s | min-max | x alone | images lost (worst) |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in servers:
        alone = statistics.median(results[(kind, counts[0])])
        for n in counts:
            runs = results[(kind, n)]
            med = statistics.median(runs)
            print(f"| {kind} | {n} | {med:.2f} | {min(runs):.2f}-{max(runs):.2f} "
                  f"| {med / alone:.2f}x | {lost[(kind, n)]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
