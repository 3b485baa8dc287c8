"""The kit's scripted executable drivers (`serverkit.stdio_driver`) answer each element in the
order it came, however the reads cut the stream: a loaded machine's whole-suite run saw a
scripted wheel drop a turn it read in one piece with a client's getProperties (2026-11-29)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serverkit import stdio_driver

from indipycore.protocol import GetProperties
from indipycore.protocol import NewNumberVector
from indipycore.protocol import Number
from indipycore.protocol import serialise

ASK = serialise(GetProperties())
TURN = serialise(NewNumberVector("Wheel", "FILTER_SLOT", (Number("FILTER_SLOT_VALUE", "3"),)))


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The script: "DEF" for a getProperties, "NEW <value>" for a new*Vector."""
    script = tmp_path / "driver.py"
    script.write_text(stdio_driver(
        'os.write(1, b"DEF\\n")',
        'os.write(1, b"NEW " + re.search(rb">\\s*([0-9.]+)\\s*<", chunk)[1] + b"\\n")'))
    with subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE) as process:
        yield process
        process.kill()


def test_a_get_properties_and_a_new_vector_in_one_read_are_both_answered(
        driver: subprocess.Popen[bytes]) -> None:
    assert driver.stdin and driver.stdout
    driver.stdin.write(ASK + TURN)
    driver.stdin.close()
    assert driver.stdout.read().split(b"\n") == [b"DEF", b"NEW 3", b""]


def test_a_new_vector_split_over_two_reads_is_answered_once(
        driver: subprocess.Popen[bytes]) -> None:
    assert driver.stdin and driver.stdout
    half = len(TURN) // 2
    driver.stdin.write(ASK + TURN[:half])
    driver.stdin.flush()
    # The driver's answer to the getProperties: it has read the first half (in that read).
    assert driver.stdout.readline() == b"DEF\n"
    driver.stdin.write(TURN[half:] + ASK)
    driver.stdin.close()
    assert driver.stdout.read().split(b"\n") == [b"NEW 3", b"DEF", b""]
