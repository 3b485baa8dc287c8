"""The FITS header cards a camera writes from what it snooped (`snooped.SnoopedValues`).

Names, values and comments as indilib 1.9.9's INDI::CCD writes them (``addFITSKeywords``), a
card only where its value is known: TELESCOP, FILTER, FOCALLEN, APTDIA, MPSAS, ROTATANG,
FOCUSPOS, FOCUSTEM, SCALE; and for a light frame whose pointing is known, SITELAT/SITELONG,
AIRMASS/OBJCTAZ/OBJCTALT (with the site), OBJCTRA/OBJCTDEC (J2000, sexagesimal text with
spaces, ``"14 14 32.42"``), RA/DEC in degrees, PIERSIDE and EQUINOX 2000. The pointing is the
telescope's EQUATORIAL_EOD_COORD (JNow) precessed to J2000, or its EQUATORIAL_COORD when that
is all it sends; the altitude is the JNow position's at the site at `when`.

Pure: everything comes in as arguments (the camera passes the clock's time).
"""

from __future__ import annotations

from datetime import datetime

from indipycore.astro import airmass
from indipycore.astro import altitude
from indipycore.astro import azimuth
from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000
from indipycore.fits import Card

from .snooped import SnoopedValues

__all__ = ["sexagesimal", "snooped_cards"]

#: Arc seconds in a radian: a pixel of p microns behind f mm sees p / f * this.
ARCSEC_PER_RADIAN = 206264.806


def sexagesimal(value: float) -> str:
    """`value` as indilib's ``fs_sexa(out, value, 2, 360000)`` with its colons made spaces:
    the whole part at least two wide (space padded, so ``" 5 30 00.00"``), then minutes and
    seconds to a hundredth (``"-30 07 27.33"``; ``"-0 30 00.00"`` just below zero)."""
    negative = value < 0
    units = int(abs(value) * 360000 + 0.5)
    whole, rest = divmod(units, 360000)
    minutes, hundredths = divmod(rest, 6000)
    seconds, fraction = divmod(hundredths, 100)
    head = f"{'-' if negative else ''}{whole}"
    return f"{head:>2} {minutes:02d} {seconds:02d}.{fraction:02d}"


def snooped_cards(values: SnoopedValues, *, when: datetime, telescope: str = "",
                  light: bool = True, pixel_size: float | None = None,
                  binning: int = 1) -> list[Card]:
    """The header cards `values` allow, in indilib's order.

    `telescope` is the name for TELESCOP ("" for none); `light` says a light frame (only those
    get the pointing); `pixel_size` (microns, unbinned) and `binning` give SCALE with the focal
    length.
    """
    v = values
    cards: list[Card] = []
    if telescope:
        cards.append(("TELESCOP", telescope, "Telescope name"))
    if (name := v.filter) is not None:
        cards.append(("FILTER", name, "Filter"))
    if v.focal_length is not None:
        cards.append(("FOCALLEN", float(v.focal_length), "Focal Length (mm)"))
    if v.aperture is not None:
        cards.append(("APTDIA", float(v.aperture), "Telescope diameter (mm)"))
    if v.sky_quality is not None:
        cards.append(("MPSAS", float(v.sky_quality), "Sky Quality (mag per arcsec^2)"))
    if v.rotator_angle is not None:
        cards.append(("ROTATANG", float(v.rotator_angle), "Rotator angle in degrees"))
    if v.focus_position is not None:
        cards.append(("FOCUSPOS", int(v.focus_position), "Focus position in steps"))
    if v.focus_temperature is not None:
        cards.append(("FOCUSTEM", float(v.focus_temperature),
                      "Focuser temperature in degrees C"))
    if v.focal_length is not None and pixel_size:
        scale = pixel_size / v.focal_length * ARCSEC_PER_RADIAN / 1000.0 * binning
        cards.append(("SCALE", round(scale, 6), "arcsecs per pixel"))
    if light:
        cards += _pointing(v, when)
    return cards


def _pointing(v: SnoopedValues, when: datetime) -> list[Card]:
    """The pointing cards: J2000 position, site, altitude and airmass, pier side."""
    if v.ra is not None and v.dec is not None:
        jnow = (v.ra, v.dec)
        ra, dec = precess_to_j2000(v.ra, v.dec, when)
    elif v.j2000_ra is not None and v.j2000_dec is not None:
        ra, dec = v.j2000_ra, v.j2000_dec
        jnow = precess_from_j2000(ra, dec, when)
    else:
        return []
    cards: list[Card] = []
    if v.latitude is not None and v.longitude is not None:
        # SITELONG in -180..180 east positive, as indilib turns INDI's 0..360 into.
        longitude = v.longitude - 360.0 if v.longitude > 180.0 else v.longitude
        cards.append(("SITELAT", float(v.latitude), "Latitude of the imaging site in degrees"))
        cards.append(("SITELONG", float(longitude), "Longitude of the imaging site in degrees"))
        ha = hour_angle(local_sidereal_time(when, v.longitude), jnow[0])
        alt = altitude(ha, jnow[1], v.latitude)
        mass = airmass(alt)
        if mass is not None:
            cards.append(("AIRMASS", round(mass, 6), "Airmass"))
        cards.append(("OBJCTAZ", round(azimuth(ha, jnow[1], v.latitude), 6),
                      "Azimuth of center of image in Degrees"))
        cards.append(("OBJCTALT", round(alt, 6), "Altitude of center of image in Degrees"))
    cards.append(("OBJCTRA", sexagesimal(ra), "Object J2000 RA in Hours"))
    cards.append(("OBJCTDEC", sexagesimal(dec), "Object J2000 DEC in Degrees"))
    cards.append(("RA", round(ra * 15.0, 6), "Object J2000 RA in Degrees"))
    cards.append(("DEC", round(dec, 6), "Object J2000 DEC in Degrees"))
    if v.pier_side == "WEST":
        cards.append(("PIERSIDE", "WEST", "West, looking East"))
    elif v.pier_side == "EAST":
        cards.append(("PIERSIDE", "EAST", "East, looking West"))
    cards.append(("EQUINOX", 2000, "Equinox"))
    return cards
