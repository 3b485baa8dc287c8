"""Timed guiding on an Alpaca PulseGuide: the GUIDER role (`TimedGuide`, the driver's
standard role, ``indipydriver.standard.guide``) with `alpaca_pulse` as its hook.

An Alpaca telescope or camera whose CanPulseGuide is True guides by ``pulseguide``
(Direction 0 north, 1 south, 2 east, 3 west; Duration in ms) and says ``ispulseguiding``
until the pulse is over; the role's TELESCOPE_TIMED_GUIDE_NS/_WE Busy is sent once the device
has taken the pulse (sent before, a loaded machine let a client read IsPulseGuiding False
while the vector said Busy).
"""

from __future__ import annotations

import asyncio
import time

from indipydriver.standard.guide import Pulse
from indipydriver.standard.guide import Started
from indipydriver.standard.guide import TimedGuide

from .client import AlpacaClient

__all__ = ["ALPACA_DIRECTIONS", "Pulse", "Started", "TimedGuide", "alpaca_pulse"]

#: Alpaca's GuideDirection of each direction letter.
ALPACA_DIRECTIONS = {"N": 0, "S": 1, "E": 2, "W": 3}


async def alpaca_pulse(client: AlpacaClient, path: str, direction: str, ms: int,
                       started: Started) -> None:
    """A pulse on the Alpaca device at `path`: PulseGuide, `started()`, then IsPulseGuiding
    polled until False (bounded: the pulse's length and 10 s more)."""
    await client.put(path, "pulseguide", Direction=ALPACA_DIRECTIONS[direction], Duration=ms)
    await started()
    end = time.monotonic() + ms / 1000 + 10
    step = min(0.2, max(0.02, ms / 5000))
    while await client.get(path, "ispulseguiding") is True:
        if time.monotonic() > end:
            raise TimeoutError(f"{path}: IsPulseGuiding still True {ms / 1000 + 10:.0f} s "
                               "after a pulse")
        await asyncio.sleep(step)
