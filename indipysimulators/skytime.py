"""`sky_time`: the simulators' "now", the rehearsal sky the agents follow (issue 89 item 5):
a mount on the wall's time while the imager agent ran a sky clock put a target past the
agent's meridian east of its own, and the flip "failed". The setting and its parsing are
`indipycore.skyclock`'s, one for both."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC
from datetime import datetime

from indipycore.skyclock import SkyClock
from indipycore.skyclock import sky_clock_from

__all__ = ["sky_time"]

logger = logging.getLogger(__name__)


def sky_time(sky: SkyClock | None = None) -> Callable[[], datetime]:
    """The simulators' "now" (aware UTC): `sky`'s time, else the one
    ``INDIPY_AGENT_SKY_CLOCK`` says (read once, here), else the wall's; a bad setting is a
    `ValueError` saying why, as the agent refuses it."""
    sky = sky or sky_clock_from(os.environ, datetime.now(UTC))
    if sky is None:
        return lambda: datetime.now(UTC)
    logger.info("the simulated sky follows the sky clock %s", sky.text())
    clock = sky
    return lambda: clock.at(datetime.now(UTC))
