"""What astrometry.net's ``solve-field`` says, read: pure, no I/O.

`read_cards` reads a FITS header (80-character cards in 2880-byte blocks, up to END) into its
keywords; `solution` turns the cards of a ``.wcs`` file into a `Solution`: the centre of the
frame (CRVAL moved from CRPIX to the frame's middle through the CD matrix and the gnomonic
projection: SIP distortion ignored, under a pixel here), the rotation and parity as
astrometry.net prints them ("up is A degrees E of N", ``tan_get_orientation``), the scale,
the field's size, the index that matched. A header that cannot be read gives a `Solution`
whose `problems` say why, never an exception: the agent shows them (AGENT_START_PROCESS
Alert).

`check_image` tells whether bytes a client uploaded are an image ``solve-field`` can read
(FITS whole, JPEG, PNG): INDIGO's own agent read a truncated frame out of bounds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

__all__ = ["BLOCK", "CARD", "Solution", "check_image", "read_cards", "separation", "solution"]

BLOCK = 2880
CARD = 80
_KEY = re.compile(r"[A-Z0-9_-]{1,8}")
_INDEX_ID = re.compile(r"index id:\s*(\d+)")
#: Magic numbers of the other formats solve-field reads (through netpbm/python).
_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}


@dataclass(frozen=True, slots=True)
class Solution:
    """A solved frame, J2000: `ra` hours, `dec` degrees of the frame's centre, `angle`
    degrees (astrometry.net's "up is ANGLE degrees E of N"), `scale` arcsec a pixel,
    `parity` 1 (normal, as the sky is seen) or -1 (flipped), `width`/`height` degrees, the
    `index` that matched (4107...), and the `problems` that make it no solution."""

    ra: float = 0.0
    dec: float = 0.0
    angle: float = 0.0
    scale: float = 0.0
    parity: int = 0
    width: float = 0.0
    height: float = 0.0
    index: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)
    #: The WCS as solve-field wrote it: CRVAL1/2 (degrees), CRPIX1/2, CD1_1...CD2_2.
    wcs: tuple[tuple[str, float], ...] = ()
    #: How it was solved: "stars" (our star list), "image" (solve-field's own star finder).
    via: str = ""

    @property
    def solved(self) -> bool:
        return not self.problems


def _value(text: str) -> str | float | bool:
    """A card's value: a string ('...', quotes doubled), a logical, or a number."""
    text = text.strip()
    if text.startswith("'"):
        end = 1
        while True:
            end = text.find("'", end)
            if end < 0:
                raise ValueError("a string value with no closing quote")
            if text[end + 1:end + 2] == "'":
                end += 2
                continue
            return text[1:end].replace("''", "'").rstrip()
    text = text.split("/", 1)[0].strip()
    if text in ("T", "F"):
        return text == "T"
    return float(text.replace("D", "E"))


def read_cards(data: bytes) -> tuple[dict[str, str | float | bool], list[str], list[str]]:
    """The header at the start of `data`: (keywords, their COMMENT lines, problems). Reading
    stops at END; a card that cannot be read is a problem and skipped."""
    cards: dict[str, str | float | bool] = {}
    comments: list[str] = []
    problems: list[str] = []
    if not data.startswith(b"SIMPLE  ="):
        return cards, comments, ["not a FITS file (no SIMPLE card)"]
    ended = False
    for start in range(0, len(data) - CARD + 1, CARD):
        raw = data[start:start + CARD]
        try:
            card = raw.decode("ascii")
        except UnicodeDecodeError:
            problems.append(f"card {start // CARD + 1} is not ASCII")
            continue
        key = card[:8].rstrip()
        if key == "END":
            ended = True
            break
        if key in ("COMMENT", "HISTORY", ""):
            if key == "COMMENT":
                comments.append(card[8:].rstrip())
            continue
        if card[8:10] != "= " or not _KEY.fullmatch(key):
            continue
        try:
            cards[key] = _value(card[10:])
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
    if not ended:
        problems.append("the header has no END card (truncated)")
    return cards, comments, problems


def _number(cards: Mapping[str, object], key: str, problems: list[str]) -> float:
    value = cards.get(key)
    if isinstance(value, float) and math.isfinite(value):
        return value
    problems.append(f"{key} missing" if value is None else f"{key} is not a number")
    return math.nan


def solution(data: bytes) -> Solution:
    """The `Solution` a ``.wcs`` file's bytes hold, or one whose problems say what is
    missing (a file that is not FITS, no CRVAL, a singular CD matrix)."""
    cards, comments, problems = read_cards(data)
    if problems and not cards:
        return Solution(problems=tuple(problems))
    problems = []
    ra0, dec0 = (_number(cards, key, problems) for key in ("CRVAL1", "CRVAL2"))
    px, py = (_number(cards, key, problems) for key in ("CRPIX1", "CRPIX2"))
    cd = [_number(cards, key, problems) for key in ("CD1_1", "CD1_2", "CD2_1", "CD2_2")]
    width_px, height_px = (_number(cards, key, problems) for key in ("IMAGEW", "IMAGEH"))
    if problems:
        return Solution(problems=tuple(problems))
    det = cd[0] * cd[3] - cd[1] * cd[2]
    if not det or not -90 <= dec0 <= 90 or width_px <= 0 or height_px <= 0:
        return Solution(problems=("the WCS is degenerate (a singular CD matrix, a declination "
                                  "past a pole or no image size)",))
    # The frame's middle (FITS pixels count from 1) through CD to the tangent plane.
    dx, dy = (width_px + 1) / 2 - px, (height_px + 1) / 2 - py
    xi = math.radians(cd[0] * dx + cd[1] * dy)
    eta = math.radians(cd[2] * dx + cd[3] * dy)
    ra, dec = _deproject(xi, eta, ra0, dec0)
    parity = 1 if det < 0 else -1  # astrometry.net: det < 0 "pos", the sky as seen
    sign = 1.0 if det >= 0 else -1.0
    angle = -math.degrees(math.atan2(sign * cd[2] - cd[1], sign * cd[0] + cd[3]))
    scale = math.sqrt(abs(det)) * 3600.0
    index = 0
    for line in comments:
        found = _INDEX_ID.search(line)
        if found:
            index = int(found.group(1))
    wcs = (("CRVAL1", ra0), ("CRVAL2", dec0), ("CRPIX1", px), ("CRPIX2", py),
           *zip(("CD1_1", "CD1_2", "CD2_1", "CD2_2"), cd, strict=True))
    return Solution(ra=ra / 15.0, dec=dec, angle=angle, scale=scale, parity=parity,
                    width=width_px * scale / 3600.0, height=height_px * scale / 3600.0,
                    index=index, wcs=wcs)


def _deproject(xi: float, eta: float, ra0: float, dec0: float) -> tuple[float, float]:
    """The inverse gnomonic projection: standard coordinates (radians) about (`ra0`,
    `dec0`) degrees -> (ra, dec) degrees, ra in [0, 360)."""
    d0 = math.radians(dec0)
    rho = math.hypot(xi, eta)
    c = math.atan(rho)
    if rho == 0:
        return ra0 % 360.0, dec0
    dec = math.asin(math.cos(c) * math.sin(d0) + eta * math.sin(c) * math.cos(d0) / rho)
    ra = math.radians(ra0) + math.atan2(
        xi * math.sin(c), rho * math.cos(d0) * math.cos(c) - eta * math.sin(d0) * math.sin(c))
    return math.degrees(ra) % 360.0, math.degrees(dec)


def separation(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """The angle between two points (RA hours, Dec degrees), arcseconds (haversine: exact
    for the arcseconds a centring compares)."""
    a1, d1, a2, d2 = (math.radians(ra1 * 15.0), math.radians(dec1), math.radians(ra2 * 15.0),
                      math.radians(dec2))
    h = (math.sin((d2 - d1) / 2) ** 2
         + math.cos(d1) * math.cos(d2) * math.sin((a2 - a1) / 2) ** 2)
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(h)))) * 3600.0


def check_image(data: bytes) -> str:
    """"" when `data` is an image solve-field can read, else why not: FITS with a primary
    image whose data are all there (NAXIS1 x NAXIS2 x |BITPIX|/8 bytes after the header),
    or a JPEG or PNG."""
    if data.startswith(tuple(_MAGIC)):
        return ""
    if not data:
        return "the file is empty"
    if not data.startswith(b"SIMPLE  ="):
        return "not an image (neither FITS, JPEG nor PNG)"
    cards, _comments, problems = read_cards(data[:BLOCK * 40])
    if problems:
        return f"a broken FITS header: {problems[0]}"
    naxis = cards.get("NAXIS")
    bitpix = cards.get("BITPIX")
    if not isinstance(naxis, float) or not isinstance(bitpix, float) or naxis < 2 \
            or bitpix not in (8.0, 16.0, 32.0, 64.0, -32.0, -64.0):
        return "a FITS file with no 2-D image in its primary HDU"
    sizes = [cards.get(f"NAXIS{i}") for i in range(1, int(naxis) + 1)]
    if not all(isinstance(size, float) and size >= 1 for size in sizes):
        return "a FITS file whose NAXISn are missing"
    header_end = 0
    for start in range(0, len(data) - CARD + 1, CARD):
        if data[start:start + 8] == b"END     ":
            header_end = (start // BLOCK + 1) * BLOCK
            break
    needed = abs(int(bitpix)) // 8
    for size in sizes:
        needed *= int(size)  # type: ignore[arg-type]
    if len(data) - header_end < needed:
        return (f"a truncated FITS image: {len(data) - header_end} bytes of data where "
                f"{needed} are needed")
    return ""
