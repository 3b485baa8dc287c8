"""bench/roundtrip_ab.py, the A/B runner for round trips: it must time both servers of every
pair, alternate which one starts first and summarise B/A, or a comparison made with it (the
notes on lanes' handing over cite one) would rest on a broken tool."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_an_a_a_run_times_both_servers_of_every_pair_and_alternates_the_start() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "roundtrip_ab.py"), "ours", "ours", "-n", "30", "-r", "2",
         "--settle", "0"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    rows = re.findall(r"^\| (\d) \| ([AB]) \| (\d+) \| (\d+) \| ([\d.]+) \|", out, re.MULTILINE)
    assert [(rep, first) for rep, first, *_ in rows] == [("1", "A"), ("2", "B")]
    for _, _, a, b, ratio in rows:
        assert int(a) > 0 and int(b) > 0
        assert abs(float(ratio) - int(b) / int(a)) < 0.03  # the times are printed rounded
    assert re.search(r"B/A p50: median [\d.]+ \(range [\d.]+-[\d.]+\), geometric mean [\d.]+, B faster in \d of 2 reps", out)
    assert re.search(r"B/A p99: median [\d.]+ \(range [\d.]+-[\d.]+\), geometric mean [\d.]+, B faster in \d of 2 reps", out)


def _refused(server: str) -> str:
    """What roundtrip_ab.py says on stderr when given `server` as B (it must exit non-zero)."""
    r = subprocess.run(
        [sys.executable, str(BENCH / "roundtrip_ab.py"), "ours", server, "-r", "1"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert r.returncode != 0
    return r.stderr


def test_an_unknown_server_is_refused_with_what_is_known() -> None:
    err = _refused("nginx")
    assert "unknown server 'nginx': indiserver, ours, ours=DIR, ours+OPTION or one of floor" \
        in err
    assert "rawfloor" in err


def test_a_bare_forwarder_from_floor_py_is_timed_beside_a_server() -> None:
    # What bounds a round trip is read off a bare forwarder against the same peer
    # (`indiserver rawfloor`): the runner must start floor.py's forwarders as it starts servers.
    out = subprocess.run(
        [sys.executable, str(BENCH / "roundtrip_ab.py"), "ours", "rawfloor", "-n", "30", "-r",
         "1", "--settle", "0"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    rows = re.findall(r"^\| 1 \| A \| (\d+) \| (\d+) \|", out, re.MULTILINE)
    assert len(rows) == 1 and all(int(t) > 0 for t in rows[0])
    assert "A = ours, B = rawfloor" in out


def test_a_directory_is_only_for_ours() -> None:
    assert "unknown server 'rawfloor=/tmp'" in _refused("rawfloor=/tmp")


def test_options_are_only_for_ours_and_reach_its_command_line() -> None:
    """``ours+--no-announce`` (issue 73's A/B of announcing) starts ours with that option: a
    pair is timed; an option given to another server is refused, and one ours does not know
    stops the run with indipyserver's own complaint."""
    out = subprocess.run(
        [sys.executable, str(BENCH / "roundtrip_ab.py"), "ours+--no-announce", "ours", "-n",
         "30", "-r", "1", "--settle", "0"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert len(re.findall(r"^\| 1 \| A \| (\d+) \| (\d+) \|", out, re.MULTILINE)) == 1
    assert "A = ours+--no-announce, B = ours" in out
    assert "unknown server 'rawfloor'" in _refused("rawfloor+--no-announce")
    assert "unrecognized arguments: --no-such-option" in _refused("ours+--no-such-option")
