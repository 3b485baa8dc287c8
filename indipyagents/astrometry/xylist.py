"""A frame's stars as the star list (xylist) ``solve-field`` takes instead of the image (issue
90 item 6): found by the house's star measuring (`indipyagents.stars.measure`, sep on numpy:
the optional extra [agents]), so solve-field skips its own star finder, ``image2xy``, which was
measured to be about 0.8 s of a solve's 0.95 s of CPU on a 1280 x 1024 frame.

`star_list` returns None (the agent then solves the image as before) when numpy and sep are
not installed, the frame is not a FITS image they read, or fewer than `MIN_STARS` are found.
The list holds the `MAX_STARS` (50) brightest, brightest first, in FITS' pixel convention (the
first pixel's centre is 1, 1: image2xy's, measured to match sep's 0-based centres plus one),
in the columns X, Y and FLUX of `indipycore.fits.table_bytes`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from indipycore.fits import FITSError
from indipycore.fits import table_bytes

from .hints import MAX_OBJECTS

__all__ = ["DETECT_SIGMAS", "MAX_STARS", "MIN_STARS", "StarList", "star_list"]

logger = logging.getLogger(__name__)

#: The brightest stars handed over (at most solve-field's own cut, ``--objs``). Measured on
#: 21 of the simulator's 5 s frames of the 0.89 degree field (bench/RESULTS.md, issue 90
#: item 6): the 19 that solve at all solved from their 20 brightest as from 30, 50, 100 or
#: 200; the sparse field that solves neither way searched 0.15 s of CPU with 20, 1.05 s with
#: 50 and 5.5 s with 100 before giving up. 50 is 2.5 times what the sky needed, and a list
#: that does not solve leaves the image to solve.
MAX_STARS = min(50, MAX_OBJECTS)
#: Fewer stars than this and the image is solved instead: astrometry.net matches quads of
#: four stars and verifies them on the others; image2xy (8 sigma peaks on a smoothed image)
#: may still find a faint one sep's threshold left out.
MIN_STARS = 10
#: sep's detection threshold in background sigmas (autofocus's: faint stars count).
DETECT_SIGMAS = 5.0


@dataclass(frozen=True, slots=True)
class StarList:
    """A frame's star list: the xylist's bytes, the frame's `width` and `height` in pixels,
    and how many stars sep found (`found`) of which `kept` are listed."""

    data: bytes
    width: int
    height: int
    found: int
    kept: int


def star_list(fits: bytes) -> StarList | None:
    """The frame's brightest stars as an xylist; None when it cannot be made (see the
    module's docstring). CPU bound (some tens of milliseconds): run it in a thread."""
    try:
        import numpy as np

        from ..stars import measure
    except ImportError as exc:
        logger.debug("no star list without the extra [agents]: %s", exc)
        return None
    try:
        pixels, _ = measure.image(fits)
        _, found, _ = measure.detect(pixels, DETECT_SIGMAS)
    except FITSError as exc:
        logger.debug("no star list: %s", exc)
        return None
    height, width = (int(size) for size in pixels.shape)
    if len(found) < MIN_STARS:
        logger.info("%d stars found (fewer than %d): the image is solved instead", len(found),
                    MIN_STARS)
        return None
    brightest = found[np.argsort(found["flux"], kind="stable")[::-1][:MAX_STARS]]
    data = table_bytes([("X", (brightest["x"] + 1.0).tolist()),
                        ("Y", (brightest["y"] + 1.0).tolist()),
                        ("FLUX", brightest["flux"].tolist())],
                       cards=[("IMAGEW", width, "image width, pixels"),
                              ("IMAGEH", height, "image height, pixels")])
    return StarList(data, width, height, len(found), len(brightest))
