"""`ProgressReport`: indilib's PROGRESS (GROUP, IMAGE, REMAINING_TIME) as the batch reports
it, and the follower that copies the camera's countdown into REMAINING_TIME while a batch runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from collections.abc import Callable

from indipyclient import Client
from indipyclient import setNumberVector
from indipydriver import NumberVector

__all__ = ["ProgressReport", "Show"]

#: Says which (group, image) the batch exposes now; returns at once.
Show = Callable[[int, int], None]


class ProgressReport:
    """The face's PROGRESS vector, said by the batch."""

    def __init__(self, vector: NumberVector) -> None:
        self.vector = vector

    async def say(self, state: str, group: int, image: int, remaining: float = 0.0,
                  message: str = "") -> None:
        self.vector["GROUP"] = group
        self.vector["IMAGE"] = image
        self.vector["REMAINING_TIME"] = remaining
        await self.vector.send_setVector(state=state, message=message)

    async def alert(self, message: str) -> None:
        """PROGRESS Alert with `message`, where it stands."""
        await self.vector.send_setVector(state="Alert", message=message)

    @contextlib.asynccontextmanager
    async def following(self, client: Client, camera: str) -> AsyncIterator[Show]:
        """For a whole batch, REMAINING_TIME follows `camera`'s CCD_EXPOSURE; the function
        yielded says which image is next (PROGRESS Busy, its group and image).

        One follower for the batch, and that first PROGRESS a task run at the next wait, so
        between a frame's arrival and the next exposure's request nothing waits: the request
        leaves first and the camera starts again sooner (issue 71's dead time)."""
        now = [0, 0]
        said: list[asyncio.Task[None]] = []

        def show(group: int, image: int) -> None:
            for task in [task for task in said if task.done()]:
                said.remove(task)
                task.result()  # a PROGRESS that could not be sent ends the batch here
            now[:] = [group, image]
            said.append(asyncio.create_task(self.say("Busy", group, image),
                                            name="imager agent progress"))

        async def follow() -> None:
            async with client.events(maxsize=64) as stream:
                async for event in stream:
                    if isinstance(event, setNumberVector) and event.devicename == camera \
                            and event.vectorname == "CCD_EXPOSURE" \
                            and "CCD_EXPOSURE_VALUE" in event and now[1] \
                            and (event.state is None or event.state.value == "Busy"):
                        # The batch's own task, woken by the same read (a frame come), asks
                        # for the next exposure before this report is written.
                        await asyncio.sleep(0)
                        await self.say("Busy", now[0], now[1],
                                       float(event["CCD_EXPOSURE_VALUE"]))

        follower = asyncio.create_task(follow(), name="imager agent remaining time")
        try:
            yield show
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            await asyncio.gather(*said)
