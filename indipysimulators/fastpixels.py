"""The simulated cameras' per-pixel arithmetic on numpy where numpy is importable: the same
pixels as the pure path's, bit for bit, at a fraction of its CPU.

Why: the camera simulators were the suite's biggest single cost (issue 90 item 6), a frame's
noise looked up and its stars added by Python's C loops over lists. numpy is optional: the
base install has none, and the simulators, installed as executables, keep the standard
library path (`sensorfaults.expose_pixels`, `ccd.SimulatedCamera._draw_stars`), which stays
the definition; this module only redoes its arithmetic. Every random number comes from the
camera's own generator in the same order: drawn by the callers, or the frame's noise words
by numpy's MT19937 from that generator's state (`random_words`: the same algorithm, its
state handed back); what is done here is exact in IEEE arithmetic alike in both (a table
lookup, multiplication, addition, square root, round half to even, integer sums), so
tests/simulators/test_fast_pixels.py holds both paths to byte-identical frames.

`ENABLED` says whether numpy was found; a test sets it False to run the pure path.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Sequence
from typing import Any

try:
    import numpy as np
    ENABLED = True
except ImportError:  # the base install: the standard library path
    ENABLED = False

__all__ = ["ENABLED", "Frame", "StarRows", "add_stars", "clipped", "noisy_frame", "random_words",
           "shade", "to_pixels"]

#: A pixel's largest value (`photometry.FULL_SCALE`).
FULL = 65535
#: A frame's pixels while numpy works on them (numpy's int64 array).
Frame = Any


#: The noise tables as numpy arrays, by their list's identity (`sensorfaults` keeps each list
#: in its own cache; the list is held here too, so its identity is not reused).
_TABLES: dict[int, tuple[Sequence[int], Frame]] = {}


def _table(table: Sequence[int]) -> Frame:
    kept = _TABLES.get(id(table))
    if kept is None or kept[0] is not table:
        if len(_TABLES) >= 8:
            _TABLES.pop(next(iter(_TABLES)))
        kept = _TABLES[id(table)] = (table, np.asarray(table, dtype=np.int32))
    return kept[1]


def shade(deficit: array[float], light: float) -> Frame:
    """What the optical path takes from `light` ADU at each pixel: ``round(light * deficit)``
    (0 or less), as `sensorfaults`' own shade rounds it (half to even)."""
    return np.rint(np.frombuffer(deficit, dtype=np.float64) * light).astype(np.int32)


def random_words(rng: random.Random, count: int) -> Frame:
    """``rng.randbytes(2 * count)`` as `count` native 16-bit numbers, drawn by numpy's
    MT19937 from `rng`'s state, which is then handed back: the same generator as Python's
    (its 624 words and position), so the same bytes and the same state after, at half the
    CPU (Python makes the bytes through one big integer). The bytes are the 32-bit words in
    little-endian order, the last one's top half when `count` is odd, as `getrandbits` fills
    them."""
    version, internal, gauss_next = rng.getstate()
    generator = np.random.MT19937()
    generator.state = {"bit_generator": "MT19937",
                       "state": {"key": np.asarray(internal[:-1], dtype=np.uint32),
                                 "pos": internal[-1]}}
    words = generator.random_raw((count + 1) // 2).astype("<u4")
    if count % 2:
        words[-1] >>= 16
    after = generator.state["state"]
    rng.setstate((version, (*after["key"].tolist(), int(after["pos"])), gauss_next))
    return np.frombuffer(words.tobytes(), dtype=np.uint16)[:count]  # read natively, as array


def noisy_frame(table: Sequence[int], uniform: Frame, taken: Frame | None) -> Frame:
    """Each 16-bit number of `uniform` (`random_words`) looked up in `table`, plus the shade
    `taken` (`shade`) when given: int32, unclipped."""
    values = np.take(_table(table), uniform)
    if taken is not None:
        values += taken
    return values


def clipped(values: Frame, top: int = FULL) -> Frame:
    """`values` clipped to 0..`top` (in place; looked at first, as most frames need none)."""
    if values.size and (int(values.min()) < 0 or int(values.max()) > top):
        np.clip(values, 0, top, out=values)
    return values


def to_pixels(values: Frame, top: int = FULL) -> array[int]:
    """`values` clipped to 0..`top` as an ``array('H')``."""
    pixels = array("H")
    pixels.frombytes(clipped(values, top).astype(np.uint16).tobytes())
    return pixels


class StarRows:
    """The stars' rows of one frame, gathered in the pure path's order and added at once by
    `add_stars`: the stars' column profiles end to end, and each row as (its first pixel's
    index in the frame, its length, its scale, its first profile value's index in
    `profiles`, its offset into the normals pool)."""

    def __init__(self) -> None:
        self.profiles: list[float] = []
        self.rows: list[tuple[int, int, float, int, int]] = []

    def profile(self, values: list[float]) -> int:
        """A star's column profile kept; where it starts."""
        at = len(self.profiles)
        self.profiles.extend(values)
        return at


def _normals(pool: tuple[float, ...], divisor: float) -> Frame:
    kept = _POOLS.get(id(pool))
    if kept is None or kept[0] is not pool:
        _POOLS.clear()
        kept = _POOLS[id(pool)] = (pool, np.asarray(pool, dtype=np.float64))
    return kept[1] / divisor


#: The normals' pool as an array, by its tuple's identity (`photometry.normals` keeps one).
_POOLS: dict[int, tuple[tuple[float, ...], Frame]] = {}


def add_stars(values: Frame, rows: StarRows, pool: tuple[float, ...], divisor: float) -> None:
    """Each row's light (its scale times its profile), with its shot noise (the light's
    square root times the normals, `pool` each over `divisor`, from its offset), rounded,
    added to `values` in place; a pixel clipped to 0..65535 after each star's addition, as
    the pure path does: where no partial sum can leave that range the sums are order-free
    integers, and the few pixels where one might (a saturated core) are folded star by
    star."""
    if not rows.rows:
        return
    starts, lengths, scales, firsts, normals_at = zip(*rows.rows, strict=True)
    sizes = np.asarray(lengths, dtype=np.int64)
    begins = np.cumsum(sizes) - sizes
    offset = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(begins, sizes)
    where = np.repeat(np.asarray(starts, dtype=np.int64), sizes) + offset
    light = np.repeat(np.asarray(scales, dtype=np.float64), sizes) * \
        np.asarray(rows.profiles, dtype=np.float64)[
            np.repeat(np.asarray(firsts, dtype=np.int64), sizes) + offset]
    shot = np.sqrt(light) * _normals(pool, divisor)[
        np.repeat(np.asarray(normals_at, dtype=np.int64), sizes) + offset]
    added = np.rint(light + shot).astype(np.int64)
    # Sums over the touched pixels (exact: integers far below 2**53 as float64 weights).
    touched, index = np.unique(where, return_inverse=True)
    base = values[touched]
    summed = base + np.bincount(index, weights=added)
    # In range where not risky; a risky pixel's (however far out) is folded again below.
    values[touched] = np.clip(summed, -1, FULL + 1).astype(values.dtype)
    rises = np.bincount(index, weights=np.maximum(added, 0))
    falls = np.bincount(index, weights=np.minimum(added, 0))
    risky = (base + rises > FULL) | (base + falls < 0)
    if risky.any():
        _fold(values, dict(zip(touched[risky].tolist(), base[risky].tolist(), strict=True)),
              where, added)


def _fold(values: Frame, base: dict[int, int], where: Frame, added: Frame) -> None:
    """The pixels of `base` (their values before the stars) summed again in the stars'
    order, clipped after each addition."""
    chosen = np.flatnonzero(np.isin(where, np.fromiter(base, dtype=np.int64)))
    for at, amount in zip(where[chosen].tolist(), added[chosen].tolist(), strict=True):
        base[at] = min(FULL, max(0, base[at] + amount))
    for at, value in base.items():
        values[at] = value
