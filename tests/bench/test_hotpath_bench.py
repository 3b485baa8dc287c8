"""bench/hotpath.py drives the real round-trip objects; a broken bench must not report a figure."""

from __future__ import annotations

import asyncio

import pytest
from serverkit import load_bench


@pytest.mark.parametrize("evict", [0, 1 << 16])
def test_every_trip_reaches_the_driver_and_the_client(evict: int) -> None:
    hotpath = load_bench("hotpath")
    trips = 50
    elapsed, to_driver, to_client = asyncio.run(hotpath.measure(trips, evict))
    assert elapsed > 0
    new = len(b'<newNumberVector device="Bench" name="NUM"><oneNumber name="v">'
              b"</oneNumber></newNumberVector>")
    digits = sum(len(str(i)) for i in range(trips))
    # Exactly each element (without the newline between elements) went on: nothing dropped,
    # duplicated or rebuilt on the way.
    assert to_driver == trips * new + digits
    set_ = len(b'<setNumberVector device="Bench" name="NUM" state="Ok"><oneNumber name="v">'
               b"</oneNumber></setNumberVector>")
    assert to_client == trips * set_ + digits
