"""How long the server's event loop is held while it inlines a C driver's shared BLOBs.

A fake indilib C driver (a Python script on a Unix-socket stdout, ``shared_blobs=True``) sends
COUNT images of SIZE bytes as memfds, each with its ``pingRequest``, the next after our reply;
a client in its own process takes them all. The server runs here, with a task that wakes every
loop iteration and records the iteration's CPU time (``time.thread_time``: what our own code
used, unlike wall time, which also counts being descheduled on a busy machine) and wall time.
Recording starts once the processes are spawned (spawning blocks the loop in fork/exec).

    python bench/shared_blob_stall.py                      # 2.6 MB and 10 MB, 7 images each
    python bench/shared_blob_stall.py --code OTHER_CHECKOUT -s 2626560   # compare another
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from processes import SCRIPT_WAIT_FOR

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

DRIVER = textwrap.dedent(
    """
    import array, os, socket, sys
    size, count = int(sys.argv[1]), int(sys.argv[2])
    out = socket.socket(fileno=1)
    # wait_for
    image = os.urandom(size)
    wait_for(b"getProperties")
    out.sendall(b"<defBLOBVector device='Fake' name='CCD1' state='Idle' perm='ro'>"
                b"<defBLOB name='CCD1'/></defBLOBVector>\\n"
                b"<defTextVector device='Fake' name='GO' state='Idle' perm='rw'>"
                b"<defText name='GO'/></defTextVector>\\n")
    wait_for(b"newTextVector")
    for n in range(count):
        fd = os.memfd_create("shm_anon", os.MFD_CLOEXEC)
        os.write(fd, image)
        os.ftruncate(fd, (size + (1 << 20) - 1) & ~((1 << 20) - 1))  # whole MiB, as indilib
        xml = ("<setBLOBVector device='Fake' name='CCD1' state='Ok'>\\n  <oneBLOB name='CCD1' "
               "size='%d' format='.fits' len='%d' attached='true'>\\n  </oneBLOB>\\n"
               "</setBLOBVector>\\n<pingRequest uid='SetBLOB/%d' />\\n" % (size, size, n))
        out.sendmsg([xml.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                      array.array("i", [fd]).tobytes())])
        os.close(fd)
        wait_for(b"SetBLOB/%d" % n)
    out.sendall(b"<message device='Fake' message='done'/>\\n")
    wait_for(b"never")
    """
).replace("# wait_for\n", SCRIPT_WAIT_FOR)

CLIENT = textwrap.dedent(
    """
    import socket, sys, time
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"<getProperties version='1.7'/><enableBLOB device='Fake'>Also</enableBLOB>")
    buf = b""
    while b"defTextVector" not in buf:
        buf += s.recv(65536)
    time.sleep(float(sys.argv[2]))  # the server starts recording meanwhile
    s.sendall(b"<newTextVector device='Fake' name='GO'><oneText name='GO'>x</oneText>"
              b"</newTextVector>")
    total, tail = 0, b""
    while b"message='done'" not in tail:
        data = s.recv(1 << 20)
        if not data:
            break
        total += len(data)
        tail = (tail + data)[-100:]
    print(total)
    """
)


async def measure(size: int, count: int, folder: Path) -> str:
    from indipyserver import IPyServer
    from indipyserver.drivers.executable import ExDriverConnection

    conn = ExDriverConnection(sys.executable, str(folder / "driver.py"), str(size), str(count),
                              shared_blobs=True, max_restarts=0)
    server = IPyServer(conn, host="127.0.0.1", port=0, handle_signals=False)
    serving = asyncio.create_task(server.asyncrun())
    await server.started()
    client = await asyncio.create_subprocess_exec(
        sys.executable, str(folder / "client.py"), str(server.port), "0.5",
        stdout=asyncio.subprocess.PIPE,
    )
    await asyncio.sleep(0.3)  # spawns done: from here on the loop only serves
    wall: list[float] = []
    cpu: list[float] = []
    stop = False

    async def ticker() -> None:
        last, last_cpu = time.perf_counter(), time.thread_time()
        while not stop:
            await asyncio.sleep(0)
            now, now_cpu = time.perf_counter(), time.thread_time()
            wall.append(now - last)
            cpu.append(now_cpu - last_cpu)
            last, last_cpu = now, now_cpu

    ticking = asyncio.create_task(ticker())
    out, _ = await client.communicate()
    stop = True
    await ticking
    server.shutdown()
    await serving
    busy = sorted(w for w, c in zip(wall, cpu, strict=True) if c > 0.5 * w)
    top = sorted(cpu)[-5:]
    return (f"{size:>10} B x {count}: client got {int(out):,} B; {len(cpu)} loop iterations; "
            f"longest CPU per iteration {top[-1] * 1e3:.2f} ms (next {', '.join(f'{t * 1e3:.2f}' for t in reversed(top[:-1]))}); "
            f"longest busy wall gap {busy[-1] * 1e3:.2f} ms; longest wall gap {max(wall) * 1e3:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-s", "--size", type=int, action="append",
                        help="image bytes (repeatable; default 2626560 and 10485760)")
    parser.add_argument("-n", "--count", type=int, default=7, help="images per size (7)")
    parser.add_argument("--code", default=str(Path(__file__).resolve().parents[1]),
                        help="checkout whose indipyserver is measured (default: this one)")
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.code))
    import indipyserver

    print(f"measuring {Path(indipyserver.__file__).parent}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "driver.py").write_text(DRIVER)
        (folder / "client.py").write_text(CLIENT)
        for size in args.size or [2_626_560, 10_485_760]:
            print(asyncio.run(measure(size, args.count, folder)), flush=True)


if __name__ == "__main__":
    main()
