"""Parsing a BLOB grows linearly with its size, not quadratically.

`python bench/parse_scaling.py` parses setBLOBVector elements of 1, 2, 4 and 8 MiB (base64
wrapped as indilib and `base64.encodebytes` write it) with `parse_element`, best of a few
repeats each, and prints milliseconds, MB/s and the 8 MiB / 1 MiB time ratio: about 8 is
linear, 64 would be quadratic. The unit tests check only that the big element parses whole
(tests/protocol/test_parser.py); the time is measured here, where a loaded machine cannot fail
a test. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from indirequests import blob_around

from indipycore.protocol import SetBLOBVector
from indipycore.protocol import parse_element

SIZES_MIB = (1, 2, 4, 8)


def blob_element(size: int) -> bytes:
    """A setBLOBVector carrying `size` bytes, as a C driver sends it."""
    body = base64.encodebytes(b"\x5a" * size)
    before, after = blob_around(SetBLOBVector, "CCD", "CCD1", "CCD1", size, ".fits")
    return before + body + after


def best_time(func: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def measure(sizes_mib: tuple[int, ...] = SIZES_MIB, repeat: int = 5) -> dict[int, float]:
    """Best parse time in seconds per size (MiB); each parse is checked to be whole."""
    times = {}
    for mib in sizes_mib:
        element = blob_element(mib << 20)
        event = parse_element(element)
        assert isinstance(event, SetBLOBVector) and len(event.members[0].data) == mib << 20
        times[mib] = best_time(partial(parse_element, element), repeat)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--repeat", type=int, default=5, help="repeats per size (best)")
    args = parser.parse_args()
    times = measure(repeat=args.repeat)
    for mib, seconds in times.items():
        print(f"{mib:2d} MiB  {seconds * 1000:8.1f} ms  {mib * 1.048576 / seconds:8.0f} MB/s")
    first, last = min(times), max(times)
    print(f"{last} MiB / {first} MiB time ratio: {times[last] / times[first]:.2f} "
          f"(linear {last // first}, quadratic {(last // first) ** 2})")


if __name__ == "__main__":
    main()
