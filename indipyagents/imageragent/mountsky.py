"""`mount_sky_note`: what a night rehearsed on a sky clock says at its start about its mount
(issue 89 item 5). Our mount simulator follows the sky clock (``INDIPY_AGENT_SKY_CLOCK``);
any other mount (indilib's drivers, real hardware) keeps the wall's sky, so its meridian,
pier side and limits are not the night's: the night says so rather than fail a flip later
without a word. Pure: the mount's DRIVER_INFO in, the sentence out."""

from __future__ import annotations

from dataclasses import replace

from ..sequencer.contracts import Observer
from ..sequencer.contracts import Progress

__all__ = ["SKY_CLOCK_MOUNTS", "Noted", "mount_sky_note"]

#: The mounts that follow the sky clock, by DRIVER_EXEC: our simulator
#: (``indipysimulators.telescope``, whether executable or in-process).
SKY_CLOCK_MOUNTS = frozenset({"indipy_simulator_telescope"})


def mount_sky_note(mount: str, driver_exec: str | None, driver_name: str | None) -> str | None:
    """None when the mount `mount` follows the sky clock, else the sentence that says its sky
    is the wall's (naming its driver from DRIVER_INFO, when it has one)."""
    if driver_exec in SKY_CLOCK_MOUNTS:
        return None
    driver = " ".join(f"({text})" for text in (driver_exec or driver_name,) if text)
    return (f"sky clock: the mount {mount!r}{' ' + driver if driver else ''} does not follow "
            "it: its sky is the wall's, so its meridian, pier side and limits are not the "
            "rehearsal's (only our simulator indipy_simulator_telescope follows it)")


class Noted:
    """`observer`, its reports carrying `note` (SEQUENCE_STATE's message says it) until the
    run saves its first frame: the start's word held until the night moves on, so a client
    that looks a few seconds late still reads it (the log alone was seen by nobody)."""

    def __init__(self, observer: Observer, note: str) -> None:
        self.observer = observer
        self.note = note

    async def progress(self, progress: Progress) -> None:
        """The report, with the note while it holds."""
        await self.observer.progress(replace(progress, note=self.note) if self.note
                                     else progress)

    async def frame(self, name: str, data: bytes) -> None:
        """A frame saved: the night has moved on, the note is dropped."""
        self.note = ""
        await self.observer.frame(name, data)
