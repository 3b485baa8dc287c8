"""Darks and bias in a night's schedule: a target with no coordinates whose batches are all
darks or bias (the night's flat-darks, `plan.steps.FLAT_DARKS_TARGET`, and its darks for the
library, `calframes.tonight.LIBRARY_TARGET`) needs no sky, so the greedy does not place it in
the dark (it was placed at RA 0, Dec 0, in the first dark hours that point was up, and took
them from the light frames). It takes a block after the night's last (the dawn flats' too),
one after another in the plan's order, each as long as its frames left (each its exposure
and the schedule's `frame_overhead`); on a night with no block, from the re-plan's moment (the
lights done, a restart during the darks). Pure: the plan, the frames left and the moment
given."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from indipyagents.plan.model import Plan

__all__ = ["NO_SKY", "dark_targets", "placed_after"]

#: The frame types taken with the shutter closed.
NO_SKY = ("Dark", "Bias")


def dark_targets(plan: Plan) -> list[int]:
    """The targets, by index, with no coordinates and only darks or bias."""
    return [index for index, target in enumerate(plan.targets)
            if (target.ra is None or target.dec is None) and target.batches
            and all(batch.frame_type in NO_SKY for batch in target.batches)]


def placed_after(plan: Plan, targets: list[int], left: list[list[int]], begin: datetime,
                 overhead: float) -> list[tuple[int, int, datetime, datetime]]:
    """The dark targets placed from `begin`: (target index, frames, start, end) for each
    with frames left, one after another, their frames taken (`left` updated)."""
    found = []
    for index in targets:
        frames = sum(left[index])
        if not frames:
            continue
        seconds = sum(count * (batch.exposure + overhead)
                      for count, batch in zip(left[index], plan.targets[index].batches))
        end = begin + timedelta(seconds=seconds)
        left[index] = [0] * len(left[index])
        found.append((index, frames, begin, end))
        begin = end
    return found
