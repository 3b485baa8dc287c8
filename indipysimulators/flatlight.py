"""The light a flat is made of: a light panel's, else the twilight sky's. Pure, standard
library only; the optical path's vignetting and dust are `sensorfaults`'.

The panel (indilib's light box interface, e.g. ``indi_simulator_lightpanel``, which our CCD
simulator snoops through its ACTIVE_DEVICES member ACTIVE_LIGHTBOX: FLAT_LIGHT_CONTROL's
FLAT_LIGHT_ON and FLAT_LIGHT_INTENSITY's FLAT_LIGHT_INTENSITY_VALUE): `PANEL_RATE`, 200
electrons a second a pixel at the centre for each unit of intensity with no filter, so the
level is proportional to the intensity, the exposure and the filter's `throughput`
(intensity 100 for 1 s: 20,000 e-; off: none).

The twilight (no panel): the sky's surface brightness is `SUNSET_SKY`, 4 V mag/arcsec^2, with
the Sun on the horizon, and one magnitude fainter for every degree the Sun is below it, ten
times darker every 2.5 degrees (the zenith's twilight fades about so between 0 and -12
degrees), until it meets the night sky's 21 (`photometry.SKY_BRIGHTNESS`), about -17
degrees; above the horizon it stays at the sunset's. `sun_altitude` is the Sun's (the
Astronomical Almanac's low-precision formulas, about 0.01 degree) at the site the mount says.
A sky flat at -8 degrees (12 mag/arcsec^2, 6,300 e-/s a 2.49" pixel unfiltered) takes about
5 s; the stars show through it as it darkens.

`throughput`: each filter's share of the unfiltered 400-700 nm band's light (`THROUGHPUT`,
by the filter names indilib's and our filter wheel simulators give): a broadband colour
filter passes about a third of the band at 90 % (0.3), a narrowband one 3-7 nm of a continuum
(0.02), a light-pollution filter 0.8, luminance all of it; a name not in the table (or no
filter) passes all.
"""

from __future__ import annotations

import math
from datetime import UTC
from datetime import datetime

from indipycore.astro import altitude
from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time

from . import photometry

#: Electrons a second a pixel (centre, no filter) per unit of FLAT_LIGHT_INTENSITY.
PANEL_RATE = 200.0
#: The twilight sky with the Sun on the horizon, V mag/arcsec^2.
SUNSET_SKY = 4.0
#: Magnitudes fainter for each degree of the Sun's depression (2.5: ten times per 2.5 deg).
MAG_PER_DEGREE = 1.0
#: Each filter's share of the unfiltered band's light.
THROUGHPUT = {"luminance": 1.0, "red": 0.3, "green": 0.3, "blue": 0.3, "lpr": 0.8,
              "h_alpha": 0.02, "sii": 0.02, "oiii": 0.02}

_J2000 = datetime(2000, 1, 1, 12, 0, 0, tzinfo=UTC)


def throughput(filter_name: str | None) -> float:
    """The share of the light the filter named passes (1 for none or one not known)."""
    return THROUGHPUT.get((filter_name or "").strip().lower(), 1.0)


def panel_electrons(intensity: float, seconds: float, filter_name: str | None) -> float:
    """Electrons a pixel (centre, binning 1) from a lit panel of that intensity."""
    return PANEL_RATE * max(0.0, intensity) * seconds * throughput(filter_name)


def sun_radec(when: datetime) -> tuple[float, float]:
    """The Sun's right ascension (hours) and declination (degrees) of date."""
    n = (when - _J2000).total_seconds() / 86400.0
    anomaly = math.radians(357.528 + 0.9856003 * n)
    ecliptic = math.radians(280.460 + 0.9856474 * n + 1.915 * math.sin(anomaly)
                            + 0.020 * math.sin(2 * anomaly))
    obliquity = math.radians(23.439 - 0.0000004 * n)
    ra = math.atan2(math.cos(obliquity) * math.sin(ecliptic), math.cos(ecliptic))
    dec = math.asin(math.sin(obliquity) * math.sin(ecliptic))
    return math.degrees(ra) / 15.0 % 24.0, math.degrees(dec)


def sun_altitude(when: datetime, latitude: float, longitude: float) -> float:
    """The Sun's altitude (degrees) at `when` from the site (`longitude` east, as INDI's)."""
    ra, dec = sun_radec(when)
    return altitude(hour_angle(local_sidereal_time(when, longitude), ra), dec, latitude)


def twilight_brightness(sun_alt: float) -> float:
    """The sky's surface brightness (V mag/arcsec^2) with the Sun at `sun_alt` degrees."""
    depression = max(0.0, -sun_alt)
    return min(photometry.SKY_BRIGHTNESS, SUNSET_SKY + MAG_PER_DEGREE * depression)


def twilight_electrons(sun_alt: float, seconds: float, arcsec_per_pixel: float,
                       filter_name: str | None) -> float:
    """Electrons a pixel (centre, binning 1) from the twilight sky in `seconds`."""
    per_arcsec2 = photometry.electrons_per_second(twilight_brightness(sun_alt))
    return per_arcsec2 * arcsec_per_pixel ** 2 * seconds * throughput(filter_name)
