"""The web client's pictures compared (issue 79 item 5): an element's screenshot in Chromium
against the stored PNG in ``tests/data/web/``, as tests/agents/schedule/test_schedule_picture.py
compares. What changes from run to run (clocks, ports, paths, a frame's noise) is masked; after
a deliberate change of the page, ``INDIPY_UPDATE_PICTURES=1`` writes the stored pictures again
(look at each before committing it)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import Locator

STORED = Path(__file__).resolve().parents[1] / "data" / "web"
UPDATE = "INDIPY_UPDATE_PICTURES"
#: What a mask paints: a colour no page of the client uses, the same in every run.
MASK = "#ff00ff"


def element_picture(element: Locator, masks: Sequence[Locator] = ()) -> bytes:
    """`element`'s screenshot, the pointer moved off it, focus and caret gone, animations
    stopped and `masks` painted over (each mask keeps its box, so the layout still counts).
    Playwright scrolls it into view and finds it again if the page redrew it (the
    Instruments list does, as its counts change)."""
    page = element.page
    # A vector's box takes its own height, not its grid row's: the row grows with whatever
    # a neighbouring box says at that moment (a message, a wrapped line).
    page.add_style_tag(content="section.vector { align-self: start !important; }")
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement && document.activeElement.blur && "
                  "document.activeElement.blur()")
    return element.screenshot(animations="disabled", caret="hide", scale="css",
                              mask=list(masks), mask_color=MASK)


def still_clocks(element: Locator) -> None:
    """The times shown in `element` all say the same (of the page's format, digits of one
    width): for a time that wraps across lines, which a mask, one box, would paint whole."""
    element.evaluate("e => { for (const t of e.querySelectorAll('time')) "
                     "t.textContent = '2026-01-01 00:00:00'; }")


def same_picture(shot: bytes, name: str, keep: Path | None = None) -> None:
    """`shot` is the stored ``name`` (a PNG in tests/data/web) but for text smoothed a little
    differently; the picture taken is kept in `keep` (a folder) to look at when it is not."""
    stored_file = STORED / name
    if keep is not None:
        (keep / name).write_bytes(shot)
    if os.environ.get(UPDATE):
        stored_file.write_bytes(shot)
    assert stored_file.exists(), f"no stored {stored_file}: write it with {UPDATE}=1"
    taken = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)
    stored = np.asarray(Image.open(stored_file).convert("RGB"), dtype=np.int16)
    # an element a fraction of a pixel high is shot a pixel higher or lower, as it sits
    assert all(abs(t - s) <= 1 for t, s in zip(taken.shape, stored.shape, strict=True)), (
        f"{name}: {taken.shape[1]}x{taken.shape[0]} px taken, "
        f"{stored.shape[1]}x{stored.shape[0]} stored")
    height, width = min(taken.shape[0], stored.shape[0]), min(taken.shape[1], stored.shape[1])
    taken, stored = taken[:height, :width], stored[:height, :width]
    moved, mean = min(_difference(taken, stored, dx, dy)
                      for dx in (-1, 0, 1) for dy in (-1, 0, 1))
    # Antialiased edges may differ a little, and the element may sit a fraction of a pixel
    # higher (where the page scrolled to): nothing drawn may move more or change colour.
    assert moved < 0.002 and mean < 1.0, (
        f"{name} differs from the stored picture: {moved:.4f} of its pixels, "
        f"mean difference {mean:.2f}")


def _difference(taken: np.ndarray, stored: np.ndarray, dx: int, dy: int
                ) -> tuple[float, float]:
    """How much `taken` moved `dx`, `dy` pixels differs from `stored`: the share of pixels
    far off (a channel more than 64 away) and the mean difference, over what overlaps."""
    height, width = stored.shape[:2]
    a = taken[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)]
    b = stored[max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)]
    difference = np.abs(a - b).max(axis=2)
    return float((difference > 64).mean()), float(difference.mean())
