"""bench/blobspeed.py times BLOB streams with each process's CPU, for several servers
alternated; a broken bench must not print a figure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from serverkit import library_elsewhere
from serverkit import load_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "blobspeed.py"


def test_cpu_ms_reads_all_threads_of_this_process_as_they_work() -> None:
    blobspeed = load_bench("blobspeed")
    before = blobspeed.cpu_ms(os.getpid())
    end = before + 50
    while blobspeed.cpu_ms(os.getpid()) < end:  # the clock ticks in steps of 10 ms
        sum(range(100_000))
    assert blobspeed.cpu_ms(os.getpid()) >= end


def test_the_command_streams_through_indiserver_and_two_libraries(tmp_path: Path) -> None:
    """One rep of three short streams for indiserver, this checkout and a library by folder:
    one row each with a positive speed. CPU times are read in clock ticks of 10 ms, so a
    process that did little in three BLOBs (the pre-encoded driver) may show 0; never less.
    Unasked, ours runs with its own default (``--shared-blobs auto``), which gives the
    script driver the socketpair indiserver gives it, and the title says so."""
    other = library_elsewhere(tmp_path)
    done = subprocess.run(
        [sys.executable, str(BENCH), "indiserver", "ours", f"ours={other}", "-r", "1",
         "--count", "3"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ours --shared-blobs auto," in done.stdout
    rows = {line.split("|")[1].strip(): line for line in done.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| server")}
    assert set(rows) == {"indiserver", "ours", f"ours={other}"}
    for row in rows.values():
        cells = row.split("|")
        speed, server, driver, client = (float(cells[i].replace(",", "")) for i in (2, 5, 6, 7))
        assert speed > 0 and server >= 0 and driver >= 0 and client >= 0


def test_the_libindi_harness_streams_every_blob_through_both_servers() -> None:
    """The issue-45 harness (the driver writing libindi's pieces on the socketpair a libindi
    driver gets from either server, the client reading 64 KiB at a time) runs through
    indiserver and ours: a row each with a positive speed and the ratio
    to the first; the table's title names the harness so a figure is never mistaken for the
    default one."""
    done = subprocess.run(
        [sys.executable, str(BENCH), "indiserver", "ours", "-r", "1", "--count", "3",
         "--writes", "libindi", "--read-size", "65536", "--shared-blobs", "on"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "driver writes libindi, ours --shared-blobs on, client reads 65,536 B" in done.stdout
    rows = [line.split("|") for line in done.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| server")]
    assert [r[1].strip() for r in rows] == ["indiserver", "ours"]
    assert all(float(r[2].replace(",", "")) > 0 for r in rows)
    assert rows[0][4].strip() == "1.00x"


def test_libindi_pieces_are_what_libindi_writes() -> None:
    """The driver's BLOB goes out in stdio's 4096-byte writes on a pipe and in driverio's
    64 KiB on a Unix socket, every byte once and in order; its stdout here is a pipe, which
    it tells from a socket as libindi does."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import trafficdriver as t\n"
        "data = bytes(range(256)) * 1000\n"
        "for sock in (False, True):\n"
        "    p = t.libindi_pieces(data, sock)\n"
        "    assert b''.join(p) == data\n"
        "    sys.stderr.write(f'{sorted({len(x) for x in p[:-1]})} ')\n"
        "sys.stderr.write(str(t._out_is_unix_socket()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(BENCH.parent)],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.split() == ["[4096]", "[65536]", "False"]


def test_an_unknown_server_is_refused_before_anything_starts() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "nginx"], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode != 0 and "unknown library 'nginx'" in done.stderr


def test_the_socket_floor_streams_every_blob_as_the_servers_do() -> None:
    """`blobspeed.py sockfloor` (floor.py's bare forwarder with the driver on a socketpair,
    the bound under any relay's BLOB rate) streams every BLOB of the pinging driver: a row
    with a positive speed."""
    done = subprocess.run(
        [sys.executable, str(BENCH), "sockfloor", "-r", "1", "--count", "3"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("| sockfloor")]
    assert float(row.split("|")[2].replace(",", "")) > 0
