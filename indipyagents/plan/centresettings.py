"""A target's centring by plate solving, read and written: pure, no I/O.

A target's keys (beside its ra and dec): ``centre = true`` centres it after its slew and
after a meridian flip (expose, solve, sync, slew until within ``centre_tolerance`` arcsec,
``centre_tries`` at most, each frame ``centre_exposure`` seconds); ``solve_frames = true``
solves each light frame, writes its WCS into the frame's FITS header, and, with ``centre``,
re-centres before the next frame when the frame's centre drifted past ``centre_drift`` arcsec.
``centre_policy`` says what a failed centring does: "retry" (the default: by the run's retry
policy, as a lost device; then the run waits naming the solver and tries the centring again
by itself ``centre_retry_after`` seconds later, 300 unless said; 0: it pauses until a client's
START), "skip" (the target's remaining frames are skipped) or "uncentred" (the frames are
taken where the mount points).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import fields
from .fields import Invalid
from .fields import Table
from .locate import KeyPath
from .locate import format_path

__all__ = ["CENTRE_KEYS", "POLICIES", "Centre", "centre_pairs", "read_centre"]

CentrePolicy = Literal["retry", "skip", "uncentred"]
POLICIES: tuple[CentrePolicy, ...] = ("retry", "skip", "uncentred")
CENTRE_KEYS = ("centre", "centre_tolerance", "centre_drift", "centre_tries", "centre_exposure",
               "centre_policy", "centre_retry_after", "solve_frames")
#: Bounds of sense: a tolerance past a degree or a minute's frame is a typo.
MAX_TOLERANCE = 3600.0
MAX_TRIES = 20
MAX_EXPOSURE = 60.0
#: A day: a wait past it is a typo (the night's end ends the wait anyway).
MAX_RETRY_AFTER = 86400.0


@dataclass(frozen=True)
class Centre:
    """A target's centring (`enabled`: ``centre = true``) and frame solving (`solve_frames`)."""

    enabled: bool = False
    tolerance: float = 30.0
    drift: float = 60.0
    tries: int = 5
    exposure: float = 5.0
    policy: CentrePolicy = "retry"
    retry_after: float = 300.0   # seconds; 0: "retry" pauses for a client's START
    solve_frames: bool = False


def read_centre(data: Table, path: KeyPath) -> Centre:
    """A target's centring keys (the others are the target's); `Invalid` at the key."""
    enabled = fields.boolean(data, path, "centre", False)
    given = [key for key in CENTRE_KEYS[1:-1] if key in data]
    if given and not enabled:
        raise Invalid(path + (given[0],),
                      f"{format_path(path + (given[0],))} is set but {format_path(path)} does "
                      "not centre: add centre = true")
    centre = Centre(
        enabled=enabled,
        tolerance=fields.number(data, path, "centre_tolerance", 30.0, low=0.0, above=True,
                                cap=MAX_TOLERANCE),
        drift=fields.number(data, path, "centre_drift", 60.0, low=0.0, above=True,
                            cap=MAX_TOLERANCE),
        tries=fields.whole(data, path, "centre_tries", 5, low=1, cap=MAX_TRIES),
        exposure=fields.number(data, path, "centre_exposure", 5.0, low=0.0, above=True,
                               cap=MAX_EXPOSURE),
        policy=fields.choice(data, path, "centre_policy", "retry", POLICIES),
        retry_after=fields.number(data, path, "centre_retry_after", 300.0, low=0.0,
                                  cap=MAX_RETRY_AFTER),
        solve_frames=fields.boolean(data, path, "solve_frames", False))
    if enabled and "ra" not in data:
        raise Invalid(path + ("centre",),
                      f"{format_path(path + ('centre',))}: centring needs the target's ra and "
                      "dec")
    return centre


def centre_pairs(centre: Centre) -> dict[str, object]:
    """The keys `read_centre` reads back equal (none for a target that neither centres nor
    solves)."""
    pairs: dict[str, object] = {}
    if centre.enabled:
        pairs = {"centre": True, "centre_tolerance": centre.tolerance,
                 "centre_drift": centre.drift, "centre_tries": centre.tries,
                 "centre_exposure": centre.exposure, "centre_policy": centre.policy,
                 "centre_retry_after": centre.retry_after}
    if centre.solve_frames:
        pairs["solve_frames"] = True
    return pairs
