"""The agent's cards in a frame's FITS header: the camera wrote the frame (with what it snooped:
filter, mount, focuser); the agent knows what the camera cannot, the target's name, the plan,
the step and the last autofocus (AFHFR, AFPOS), and adds them before the frame is saved.
"""

from __future__ import annotations

from collections.abc import Sequence

from indipycore.fits import BLOCK
from indipycore.fits import Card
from indipycore.fits import format_card
from indipycore.fits import read_header

CARD = 80


def with_cards(data: bytes, cards: Sequence[Card]) -> bytes:
    """`data` (a FITS file) with `cards` in its primary header: a keyword already there is
    replaced in place, a new one goes before END; the header is padded to whole blocks again
    and the data follows unchanged. `FITSError` when `data` is not FITS or a card cannot be
    written."""
    header = read_header(data)
    end = header.data_offset
    raw = data[:end]
    lines = [raw[i:i + CARD] for i in range(0, end, CARD)]
    end_at = next(i for i, line in enumerate(lines) if line[:8].rstrip() == b"END")
    kept = lines[:end_at]
    for keyword, value, comment in cards:
        card = format_card(keyword, value, comment)
        key = card[:8]
        for i, line in enumerate(kept):
            if line[:8] == key:
                kept[i] = card
                break
        else:
            kept.append(card)
    body = b"".join(kept) + b"END".ljust(CARD)
    body += b" " * (-len(body) % BLOCK)
    return body + data[end:]
