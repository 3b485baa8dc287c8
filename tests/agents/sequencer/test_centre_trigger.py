"""Issue 80 item 4 (and item 5's night part): the centre trigger on the rig's doubles with a
solver double that sees the sky off the mount by a pointing error a SYNC removes: due after
the slew, the flip, a pointing again and a drift past the limit; each policy on a failed
solve (retry: `DeviceLost`; skip: `SkipFrame` for the target's frames; uncentred: on);
a solved frame's WCS cards. The solver itself and the real sky are proved with the real
peers (tests/agents/astrometry, tests/agents/night/test_night_centres.py), and so are the
re-centring after a flip and after a drift (tests/agents/night/test_night_recentres.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from seqdoubles import MountDouble
from seqdoubles import rigged
from test_triggers import at
from test_triggers import hands_on
from test_triggers import notes

from indipyagents.astrometry.hints import Hints
from indipyagents.astrometry.solver import SolveFailed
from indipyagents.astrometry.solver import Solver
from indipyagents.astrometry.wcs import Solution
from indipyagents.plan.centresettings import Centre
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.rig.protocols import DeviceLost
from indipyagents.sequencer.hands import Flipped
from indipyagents.sequencer.hands import Pointed
from indipyagents.sequencer.hands import SkipFrame
from indipyagents.sequencer.hands import Slewed
from indipyagents.sequencer.headers import with_cards
from indipyagents.sequencer.triggers.centre import CentreTarget

RA, DEC = 5.5, 10.0


class SolverDouble(Solver):
    """Sees the frame's centre where the mount truly points: its position off by `error`
    (hours, degrees) until the mount is synced; `fail` makes every solve fail."""

    def __init__(self, mount: MountDouble, error: tuple[float, float] = (0.01, 0.3)) -> None:
        super().__init__()
        self.mount = mount
        self.error = error
        self.fail = ""
        self.solved = 0

    async def solve(self, image: bytes, hints: Hints, *, suffix: str = ".fits",
                    field_width: float = 0.0) -> Solution:
        if self.fail:
            raise SolveFailed(self.fail)
        self.solved += 1
        ra, dec = self.mount.at
        if not self.mount.synced:
            ra, dec = ra + self.error[0], dec + self.error[1]
        return Solution(ra=ra, dec=dec, scale=1.5, parity=1, width=0.5, height=0.4,
                        wcs=(("CRVAL1", ra * 15.0), ("CRVAL2", dec), ("CRPIX1", 640.5),
                             ("CRPIX2", 512.5), ("CD1_1", -4e-4), ("CD1_2", 0.0),
                             ("CD2_1", 0.0), ("CD2_2", 4e-4)))


def night(**centre: object) -> Plan:
    return Plan("p", (Target("M42", RA, DEC, (Batch(2, 5.0), Batch(1, 5.0, frame_type="Dark")),
                             centre=replace(Centre(enabled=True), **centre)),  # type: ignore[arg-type]
                      Target("Plain", RA, DEC, (Batch(1, 5.0),))))


async def test_centred_after_the_slew_and_the_flip_not_before_darks() -> None:
    r = rigged()
    plan = night()
    hands = hands_on(r, plan)
    solver = SolverDouble(r.mount)
    centre = CentreTarget(hands, solver)
    light, dark, plain = at(plan, 0), at(plan, 2), at(plan, 3)
    await r.mount.slew_to(RA, DEC)
    centre.hear(Slewed(0, "WEST"))
    assert await centre.due(dark) is None and await centre.due(plain) is None
    due = await centre.due(light)
    assert due is not None and due.why == "after its slew"
    await centre.carry_out(light, due)
    # Off by 0.3 degrees: synced on the solution, slewed back, then within the tolerance.
    assert r.mount.synced == [(RA + 0.01, DEC + 0.3)] and solver.solved == 2
    assert len(r.mount.slews) == 2 and r.mount.at == (RA, DEC)
    assert notes(hands, "centre")[-1]["ok"] is True
    assert await centre.due(light) is None
    centre.hear(Flipped(0, "EAST"))
    again = await centre.due(light)
    assert again is not None and again.why == "after the meridian flip"
    centre.hear(Pointed(0))
    assert await centre.due(at(plan, 0, unsafe=True)) is None


async def test_a_failed_centring_by_each_policy() -> None:
    for policy in ("retry", "skip", "uncentred"):
        r = rigged()
        plan = night(policy=policy)
        hands = hands_on(r, plan)
        solver = SolverDouble(r.mount)
        solver.fail = "no solution: too few stars (clouds?)"
        centre = CentreTarget(hands, solver)
        light = at(plan, 0)
        centre.hear(Slewed(0, "WEST"))
        due = await centre.due(light)
        assert due is not None
        if policy == "retry":
            with pytest.raises(DeviceLost, match="clouds"):
                await centre.carry_out(light, due)
            assert await centre.due(light) is not None  # tried again with the step
        elif policy == "skip":
            with pytest.raises(SkipFrame, match="remaining frames are skipped"):
                await centre.carry_out(light, due)
            for index in (1, 2):  # the target's other frames, a dark too
                later = await centre.due(at(plan, index))
                assert later is not None
                with pytest.raises(SkipFrame):
                    await centre.carry_out(at(plan, index), later)
            assert await centre.due(at(plan, 3)) is None  # the next target is not skipped
            restored = CentreTarget(hands_on(r, plan), solver)
            restored.restore({"centre": notes(hands, "centre")[-1]})
            assert await restored.due(at(plan, 1)) is not None
        else:
            await centre.carry_out(light, due)
            assert await centre.due(light) is None
        assert notes(hands, "centre")[-1]["ok"] is False


async def test_a_solved_frame_gets_its_wcs_and_a_drift_recentres() -> None:
    r = rigged()
    plan = night(solve_frames=True, drift=60.0)
    hands = hands_on(r, plan)
    solver = SolverDouble(r.mount, error=(0.0, 0.01))  # 36": within the drift's limit
    centre = CentreTarget(hands, solver)
    await r.mount.slew_to(RA, DEC)
    light = at(plan, 0)
    frame = (await r.camera.expose(5.0)).data
    cards = await hands.frame_readers[0](light.step, frame)
    keys = {key: value for key, value, _ in cards}
    assert keys["CTYPE1"] == "RA---TAN" and keys["CTYPE2"] == "DEC--TAN"
    assert keys["EQUINOX"] == 2000.0 and keys["CRVAL2"] == pytest.approx(DEC + 0.01)
    assert {"CRPIX1", "CRPIX2", "CD1_1", "CD1_2", "CD2_1", "CD2_2"} <= set(keys)
    assert b"RA---TAN" in with_cards(frame, cards)
    centre.centred.add(0)
    assert await centre.due(light) is None
    solver.error = (0.0, 0.05)  # 180": past 60"
    await hands.frame_readers[0](light.step, frame)
    due = await centre.due(light)
    assert due is not None and due.why.startswith("drifted 180")
    solver.fail = "no stars"
    assert await hands.frame_readers[0](light.step, frame) == []  # saved without a WCS
    assert await hands.frame_readers[0](at(plan, 2).step, frame) == []  # a dark: not solved
