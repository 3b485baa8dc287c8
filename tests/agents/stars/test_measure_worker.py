"""Issue 93 item 1: a graded night's frames are measured in a process of its own
(`MeasureWorker`), so the event loop that asks the next exposure is never held by sep.

A ticker in the loop (a 1 ms sleep, each wake's gap kept) runs while a 1280x1024 frame of our
camera simulator is measured: in the worker no gap comes near sep's hold; the same probe beside
`measure_frame` in a thread (as grading measured before) sees it. A worker killed mid-frame
says so (`WorkerLost`) and the next frame is measured by a new one; an agent killed (SIGKILL)
leaves no worker behind."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
from waiting import wait_for

from indipyagents.stars.framemeasure import measure_frame
from indipyagents.stars.measureworker import MeasureWorker
from indipyagents.stars.measureworker import WorkerLost
from indipycore.fits import fits_bytes
from indipydriver.standard.camera import Exposure
from indipysimulators.ccd import SimulatedCamera

#: A loop gap the worker must stay well under: sep holds the GIL ~20 ms and more on such a
#: frame (21.5 ms seen beside a thread), the loop's own wakes a millisecond or two.
HELD_MS = 10.0
#: Frames measured for each median.
ROUNDS = 5


@pytest.fixture(scope="module")
def frame() -> bytes:
    """One 1280x1024 light frame of our camera simulator, as a night saves it."""
    camera = SimulatedCamera()
    camera.pointing = lambda: (5.5, 20.0)
    image = camera.render(Exposure(seconds=1.0, x=0, y=0, width=1280, height=1024))
    return fits_bytes(image.width, image.height, image.pixels)


async def widest_gap(work: Awaitable[Any]) -> tuple[Any, float]:
    """`work`'s outcome and the widest gap (ms) a 1 ms ticker in this loop saw meanwhile."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.ensure_future(ticker())
    try:
        outcome = await work
    finally:
        done.set()
        await ticking
    return outcome, 1000.0 * max(gaps)


async def test_the_loop_is_not_held_while_the_worker_measures(frame: bytes) -> None:
    """The median of five measures' widest gaps: a shared machine's one late wake is not the
    measure's."""
    worker = MeasureWorker()
    try:
        first = await worker.measure(frame)  # the worker started, numpy and sep imported
        assert first.stars > 0
        gaps = []
        for _ in range(ROUNDS):
            measured, gap = await widest_gap(worker.measure(frame))
            assert measured == first
            gaps.append(gap)
        gap = statistics.median(gaps)
        assert gap < HELD_MS, f"the loop was held {gaps} ms while the worker measured"
        # the same probe sees sep where it was: measured in a thread of this process
        held = statistics.median([(await widest_gap(asyncio.to_thread(measure_frame, frame)))[1]
                                  for _ in range(ROUNDS)])
        assert held > gap, (held, gaps)
    finally:
        await worker.close()


async def test_a_worker_killed_mid_frame_is_said_and_the_next_frame_measured(
        frame: bytes) -> None:
    worker = MeasureWorker()
    try:
        await worker.measure(frame)
        pid = worker.pid()
        assert pid is not None
        measuring = asyncio.ensure_future(worker.measure(frame))
        await asyncio.sleep(0)  # one turn of the loop: the frame handed to the worker
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerLost, match="the measuring worker died"):
            await asyncio.wait_for(measuring, 30)
        again = await asyncio.wait_for(worker.measure(frame), 60)  # a new worker
        assert again.stars > 0 and worker.pid() not in (None, pid)
    finally:
        await worker.close()


def ended(pid: int) -> bool:
    """Whether `pid` is gone (or a zombie no one reaped yet: it runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


AGENT = """
import asyncio, sys
from indipyagents.stars.measureworker import MeasureWorker
async def main():
    worker = MeasureWorker()
    await worker.measure(sys.stdin.buffer.read())
    print(worker.pid(), flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_agent_leaves_no_worker_behind(frame: bytes, tmp_path: Path) -> None:
    agent = subprocess.Popen([sys.executable, "-c", AGENT], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, cwd=tmp_path)
    with agent:
        assert agent.stdin is not None and agent.stdout is not None
        agent.stdin.write(frame)
        agent.stdin.close()
        pid = int(agent.stdout.readline())
        assert not ended(pid)
        agent.kill()
        agent.wait(10)
        wait_for(lambda: ended(pid), 10, what=f"the worker {pid} to end with its agent")
