"""A client that reads, but slowly: a phone or a laptop on Wi-Fi beside the imaging PC.

`python bench/slowreader.py PORT MBPS` connects to 127.0.0.1:PORT, asks for everything with
BLOBs, prints ``ready`` once it has seen the definitions, then reads at most MBPS megabytes per
second in 64 KiB reads until EOF or SIGTERM, and prints one line of JSON: bytes read, BLOBs
completed, and whether the server closed it. A separate process, so that its reading costs
the benchmark's fast client nothing (run.py's ``slowread`` scenario). Standard library only.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import time

from rawclient import RawClient

REQUEST = b'<getProperties version="1.7"/>\n<enableBLOB device="Bench">Also</enableBLOB>\n'
CHUNK = 1 << 16


def main() -> None:
    port, mbps = int(sys.argv[1]), float(sys.argv[2])
    client = RawClient("127.0.0.1", port, "slowreader")
    client.send(REQUEST)
    client.sock.setblocking(True)  # (send leaves it non-blocking)
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    buf = bytearray(CHUNK)
    announced = False
    start = time.perf_counter()
    while not stopping:
        try:
            n = client.sock.recv_into(buf, CHUNK)
        except InterruptedError:
            continue
        except OSError as exc:
            print(f"read failed: {exc}", file=sys.stderr, flush=True)
            n = 0
        if n == 0:
            client.eof = True
            break
        client._account(buf, n, time.perf_counter())
        if not announced and client.defs() > 0:
            announced = True
            print("ready", flush=True)
            start = time.perf_counter()
            client.nbytes = 0
        if announced:
            ahead = client.nbytes / (mbps * 1e6) - (time.perf_counter() - start)
            if ahead > 0:
                time.sleep(ahead)
    print(json.dumps({"bytes": client.nbytes, "blobs": client.counts["setBLOB"],
                      "closed": client.eof}), flush=True)
    try:
        client.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    client.close()


if __name__ == "__main__":
    main()
