"""Issue 93 item 3 (clouds) in the engine, on the rig's doubles with the sky's clock: frames
through cloud in a row hold the night (the control's CLOUDS), a client's SAFE meanwhile does
not end that hold, the test frames (5 s, binned 2x2, never saved) come ``clouds_every``
seconds apart on the night's clock, and the first that shows the stars lets the night go on
by itself and take again the frames rejected through cloud. The camera double draws our
camera simulator's stars, or none (through cloud), as the test says."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import rigged
from test_engine import east_of_meridian
from test_engine import sequencer

from indipyagents.plan.grading import Grading
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.rig.protocols import Frame
from indipyagents.sequencer.contracts import RunState
from indipyagents.sequencer.engine import Sequencer
from indipycore.fits import fits_bytes
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Sensor
from indipysimulators.ccd import SimulatedCamera

WIDTH, HEIGHT = 320, 256


def drawn(stars: int) -> SimulatedCamera:
    camera = SimulatedCamera(Sensor(WIDTH, HEIGHT, 5.2), stars=stars)
    camera.seeing_jitter = 0.0
    return camera


async def test_clouds_hold_until_a_test_frame_and_a_clients_safe_does_not_end_it() -> None:
    r = rigged()
    plan = Plan("clouded", (Target("M42", east_of_meridian(120, 10), 10.0,
                                   (Batch(4, 30.0, "Red"),)),),
                grading=Grading(min_frames=1, clouds_after=2, clouds_test=5.0,
                                clouds_every=60.0))
    journal = MemoryJournal()
    night: Sequencer = sequencer(plan, r, journal, MemoryStore())
    clear, cloud = drawn(40), drawn(0)
    seen = {"lights": 0, "tests": 0}
    plain = r.camera.expose

    async def expose(seconds: float, **options: Any) -> Frame:
        """Lights from the third on are through cloud until the third test frame, which is
        clear; at the first test frame a client says safe."""
        if options.get("binning", 1) == 2:
            seen["tests"] += 1
            if seen["tests"] == 1:
                await night.set_safety(True)
            cloudy = seen["tests"] < 3
        else:
            seen["lights"] += 1
            cloudy = seen["lights"] >= 3 and seen["tests"] < 3
        await plain(seconds, **options)
        image = (cloud if cloudy else clear).render(Exposure(seconds, 0, 0, WIDTH, HEIGHT))
        return Frame(fits_bytes(WIDTH, HEIGHT, image.pixels,
                                cards=[("EXPTIME", seconds, ""), ("IMAGETYP", "Light", "")]))

    r.camera.expose = expose  # type: ignore[method-assign]
    assert await night.run() is RunState.DONE

    records = journal.records()
    notes = [i for i, record in enumerate(records) if record["kind"] == "note"
             and record["note"] == "clouds"]
    assert [records[i]["data"]["held"] for i in notes] == [True, False]
    began, ended = notes
    assert not [record for record in records[began:ended] if record["kind"] == "begin"
                and "/Light/" in record["step"]]
    verdicts = [(record["step"], record["verdict"]) for record in records
                if record["kind"] == "graded"]
    assert sorted(step for step, verdict in verdicts if verdict == "accepted") == [
        f"M42/0/Red/Light/00{n}" for n in range(1, 5)]
    assert sum(verdict == "rejected" for _, verdict in verdicts) == 3
    # The client's safe came with the first test frame, and the hold stood: two more test
    # frames, each at least 60 s after the one before on the night's clock.
    tests = [(start, end) for start, end in r.camera.exposures if end - start == 5.0]
    assert seen["tests"] == 3 and len(tests) == 3, (seen, r.camera.exposures)
    assert all(later[0] - earlier[1] >= 60.0 for earlier, later in pairwise(tests)), tests
    assert not night.control.unsafe
