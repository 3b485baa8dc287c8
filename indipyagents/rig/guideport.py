"""`GuidePort`: the rig's one guide port, a device's TELESCOPE_TIMED_GUIDE_NS and
TELESCOPE_TIMED_GUIDE_WE (indilib's GuiderInterface: a mount's, or a camera's ST4 port), used
by the mount (`IndiMount.pulse`, dithering) and by the guider agent (its pulse device, the
mount or the camera ACTIVE_GUIDER names).

A pulse is given as north and west milliseconds (negative: south, east). Each axis is sent
with both its members, the one pulsed and the other 0 (as Ekos sends them; indilib's
GuiderInterface pulses the first non-zero member, ours the first above 0), so a member left
over from an earlier pulse is never taken again. Each length is clipped to the member's range
as the device defines it (indilib's and ours: 0..60000 ms; `PULSE_MAX_MS` where a device
defines none), so a device never refuses a pulse as out of range. Both axes are sent at once
and both waited for (indilib ends a pulse Idle, ours Ok), through `indiset.command`: a refusal
is `DeviceRefused`, silence `DeviceLost`, as for every instrument of the rig.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from indipyclient import Client
from indipycore.protocol import State

from .indiset import command
from .protocols import DeviceRefused

__all__ = ["AXES", "PULSE_GRACE", "PULSE_MAX_MS", "GuidePort"]

logger = logging.getLogger(__name__)

#: Seconds a guide pulse's answer may come after the pulse's own length.
PULSE_GRACE = 10.0
#: The longest pulse (ms) where a device's member defines no range: indilib's.
PULSE_MAX_MS = 60000.0
#: Each axis: its vector, the member of a positive length, the member of a negative one.
AXES = (("TELESCOPE_TIMED_GUIDE_NS", "TIMED_GUIDE_N", "TIMED_GUIDE_S"),
        ("TELESCOPE_TIMED_GUIDE_WE", "TIMED_GUIDE_W", "TIMED_GUIDE_E"))


class GuidePort:
    """The timed guide pulses of `device` (a mount, or a camera with an ST4 port) on
    `client`'s server."""

    def __init__(self, client: Client, device: str) -> None:
        self.client = client
        self.name = device

    def _vector(self, name: str) -> Any:
        found = self.client.devices.vector(self.name, name)
        return found if found is not None and found.enable else None

    def present(self) -> bool:
        """Whether the device defines both axes (TELESCOPE_TIMED_GUIDE_NS and _WE)."""
        return all(self._vector(vector) is not None for vector, _, _ in AXES)

    def longest(self, member: str) -> float:
        """The longest pulse `member` (TIMED_GUIDE_N, _S, _W or _E) takes, ms: its range's
        maximum as the device defines it, `PULSE_MAX_MS` where it defines none."""
        vector = next(v for v, plus, minus in AXES if member in (plus, minus))
        found = self._vector(vector)
        if found is None or member not in found:
            return PULSE_MAX_MS
        try:
            top = float(found.member(member).max)
            bottom = float(found.member(member).min)
        except (TypeError, ValueError):
            return PULSE_MAX_MS
        return top if math.isfinite(top) and top > bottom else PULSE_MAX_MS

    def members(self, north_ms: float, west_ms: float) -> list[tuple[str, dict[str, int]]]:
        """The sets a pulse of `north_ms`, `west_ms` makes: each axis with a length, both its
        members, the length clipped to the member's range. ValueError for a length that is
        not a number."""
        sets = []
        for (vector, plus, minus), ms in zip(AXES, (north_ms, west_ms)):
            if not math.isfinite(ms):
                raise ValueError(f"a guide pulse of {ms!r} ms is not a length")
            length = round(abs(ms))
            if not length:
                continue
            member = plus if ms > 0 else minus
            top = self.longest(member)
            if length > top:
                logger.info("%s: a %s pulse of %d ms clipped to its range's %g ms", self.name,
                            member, length, top)
                length = int(top)
            sets.append((vector, {plus: length if member == plus else 0,
                                  minus: length if member == minus else 0}))
        return sets

    async def pulse(self, north_ms: float, west_ms: float) -> None:
        """Guide north `north_ms` and west `west_ms` milliseconds (negative: south, east),
        both axes at once; returns when both pulses ended. `DeviceRefused` when the device
        has no TELESCOPE_TIMED_GUIDE_NS/WE, or refuses a pulse."""
        sets = self.members(north_ms, west_ms)
        if not sets:
            return
        if not self.present():
            raise DeviceRefused(self.name, "it takes no timed guide pulses "
                                           "(no TELESCOPE_TIMED_GUIDE_NS/WE)")
        results = await asyncio.gather(*(
            command(self.client, self.name, vector, values,
                    timeout=max(values.values()) / 1000 + PULSE_GRACE,
                    accept=(State.OK, State.IDLE))
            for vector, values in sets), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
