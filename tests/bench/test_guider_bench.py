"""bench/guider.py (issue 81 item 6) at a tiny size: our server and the Guider Agent as
processes of their own, short windows, guide frames of 1 s and one dither; each figure is
printed with its target and its verdict, and the exit status says whether one was missed.
The smoke run also holds the figures a sample this small proves (issue 90 item 8: a run that
passed whatever the figures were could not fail)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from peers import free_port
from serverkit import run_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "guider.py"


@pytest.mark.timeout(600)
def test_each_figure_is_measured_and_judged(tmp_path: Path) -> None:
    """Each figure is printed with its target and verdict, and the smallest honest targets
    hold: calibration completes within its 120 s (it is frames and pulses, the same at any
    window); guided RMS at most 1/3 of unguided, the full bench's target (over 60 s windows
    the ratio was 0.152-0.172 in two loaded runs, 2026-11-29, the unguided RMS 8.2-8.3"); the
    agent's CPU under 5 % of a core (its own CPU seconds from /proc over the guided window:
    the machine's load does not add to them, and 1 s frames cost it about 1 %); the one
    dither settles (1 of 1: a 3 px dither settled in 10.6-16.7 s of its 40 s timeout in
    six runs of six, 2026-11-29, at load averages of 4-16 on 2 cores)."""
    # Windows of 60 s: one whole period of the periodic error. Over half a period both
    # figures hang on the phase each window began at (the unguided RMS about its lock spans
    # 6.6-19.8" over 30 s windows of a 15" sine, 10.6-18.4" over 60 s), and a whole-suite
    # run (2026-11-29, at caa7a0e4) read 0.441 where six loaded runs had read 0.086-0.165.
    # Frames of 1 s and one dither: the same figures, a shorter run.
    # The guider tests' calibration (guiderkit.QUICK: a drift of 6 px, half the default, in
    # pulses of 1 s, half the frames of the steps sized from the guide rate): the same
    # calibration in less wall time (issue 90 item 6).
    # Its three ports from the suite's own helper (this worker's band, each claimed), so no
    # two alike: a server and the agent's PHD2 server once got the same one.
    ports = ",".join(str(free_port()) for _ in range(3))
    done = run_bench("guider.py", "--window", "60", "--dithers", "1", "--exposure", "1",
                     "--calibration-drift", "6", "--calibration-step", "1", "--ports", ports,
                     folder=tmp_path, timeout=540)
    out = done.stdout
    verdict = r"(PASS|FAIL)$"
    calibration = re.search(r"^calibration: ([\d.]+) s \(target <= 120 s\) " + verdict, out,
                            re.MULTILINE)
    assert calibration, out + done.stderr
    assert calibration[2] == "PASS", out
    rms = re.search(r"^true pointing RMS against the lock over 60 s: unguided ([\d.]+)\", "
                    r"guided ([\d.]+)\" .* guided/unguided ([\d.]+) \(target <= 0.333\) "
                    + verdict, out, re.MULTILINE)
    assert rms, out
    assert float(rms[2]) < float(rms[1]), f"guided RMS not below unguided: {out}"
    assert rms[4] == "PASS", f"guided/unguided {rms[3]} above 1/3: {out}"
    # Half a period of 15" (RA scaled by cos 57 degrees at the Double Cluster) moves the
    # mount about 2.3" RMS at the least; 1.70" was once seen over a 20 s window.
    assert float(rms[1]) > 1.5, "15\" of periodic error barely moved the unguided mount"
    cpu = re.search(r"^agent CPU while guiding 1 s frames: ([\d.]+) s over [\d.]+ s = "
                    r"[\d.]+% of a core \(target < 5%\) " + verdict, out, re.MULTILINE)
    assert cpu and float(cpu[1]) > 0, "the agent's process took no CPU: not measured"
    assert cpu[2] == "PASS", out
    dithers = re.search(r"^dithers of 3 px settled \(1.5 px, 8 s, 40 s timeout\): (\d+) of 1, "
                        r".* \(target >= 1 of 1\) " + verdict, out, re.MULTILINE)
    assert dithers, out
    assert dithers[1] == "1" and dithers[2] == "PASS", out
    assert re.search(r"^load average: ", out, re.MULTILINE)
    last = out.rstrip().splitlines()[-1]
    assert last == "all targets met" or last.startswith("missed: "), last
    assert ("FAIL" in out) == (last != "all targets met")
    assert done.returncode == (0 if last == "all targets met" else 1), done.stderr


def test_the_benchs_three_ports_are_never_two_alike() -> None:
    """The bench's server, the agent's PHD2 server and the agent's INDI server got their ports
    from three probes, each bound and closed in turn: the kernel may hand one port out twice
    (18 triples in 100 000 on this machine, 2026-11-29), and one run started the server on the
    PHD2 port ("text outside any element", then "mount CONNECTION not defined in 20 s"). Its
    ports are now bound all at once before any is handed out, and a --ports with two alike is
    refused."""
    from serverkit import load_bench

    processes = load_bench("processes")
    for _ in range(2000):
        ports = processes.free_ports(3)
        assert len(set(ports)) == 3, ports
    refused = subprocess.run([sys.executable, str(BENCH), "--ports", "7000,7000,7001"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2 and "three distinct ports" in refused.stderr
