"""A night's folder of frames from our camera simulator (`SimulatedCamera.render`, the
pixels the served camera sends), in the layout the sequencer saves (``lights/<filter>/``,
``flats/<filter>/``, ``darks/``, ``biases/``), each with the cards our camera driver writes
(IMAGETYP, EXPTIME, XBINNING, CCD-TEMP, INSTRUME, DATE-OBS) and the snooped FILTER: the
sky's light frames, darks at their exposure and temperature, panel flats per filter, bias."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from indipycore.fits import Card
from indipycore.fits import fits_bytes
from indipydriver.standard.camera import Exposure
from indipysimulators import ccd
from indipysimulators.ccd import SimulatedCamera

#: The simulator's chip binned 2 x 2 (640 x 512): the frames render in about a second.
BINNING = 2
W, H = ccd.SENSOR.width // BINNING, ccd.SENSOR.height // BINNING
#: A warm chip (20 C, 1 e-/s of dark current): a minute shows each hot pixel.
CELSIUS = 20.0
#: The panel flats' exposure (s) at intensity 100: about 24,000 ADU through Red or Green.
FLAT_SECONDS = 1.0
START = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)


def camera() -> SimulatedCamera:
    """The simulator as the night's driver wires it: its chip at `CELSIUS`."""
    sim = SimulatedCamera()
    sim.temperature = lambda: CELSIUS
    return sim


def save(sim: SimulatedCamera, path: Path, kind: str, seconds: float, taken: datetime,
         filter_name: str | None = None, celsius: float = CELSIUS) -> None:
    """One frame of `kind` rendered and written as our camera driver writes it."""
    sim.filter_name = lambda: filter_name
    sim.temperature = lambda: celsius
    image = sim.render(Exposure(seconds, 0, 0, ccd.SENSOR.width, ccd.SENSOR.height, BINNING,
                                BINNING, frame_type=kind))
    cards: list[Card] = [("EXPTIME", float(seconds), ""), ("XBINNING", BINNING, ""),
                         ("YBINNING", BINNING, ""), ("IMAGETYP", f"{kind} Frame", ""),
                         ("CCD-TEMP", celsius, ""), ("INSTRUME", ccd.DEVICE, ""),
                         ("DATE-OBS", taken.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3], "")]
    if filter_name is not None:
        cards.append(("FILTER", filter_name, ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fits_bytes(image.width, image.height, image.pixels, cards=cards))


def make_night(folder: Path, *, lights: int = 4, seconds: float = 60.0,
               light_filter: str = "Red", flats: Sequence[str] = ("Red", "Green"),
               darks: int = 5, biases: int = 5, flat_count: int = 5,
               flat_darks: int = 0, start: datetime = START) -> Path:
    """A night in `folder`: `lights` of `seconds` through `light_filter`, `darks` at that
    exposure, `flat_count` panel flats through each of `flats` and `flat_darks` darks at
    their exposure (``darkflats/<filter>/``, as the night saves them), `biases`; returns
    `folder`."""
    sim, at = camera(), start
    tick = timedelta(minutes=2)
    for number in range(1, lights + 1):
        save(sim, folder / "lights" / light_filter /
             f"Sky_{light_filter}_Light_{number:03d}.fits", "Light", seconds, at, light_filter)
        at += tick
    sim.panel = lambda: (True, 100.0)
    for name in flats:
        for number in range(1, flat_count + 1):
            save(sim, folder / "flats" / name / f"Flats_{name}_Flat_{number:03d}.fits", "Flat",
                 FLAT_SECONDS, at, name)
            at += tick
        for number in range(1, flat_darks + 1):
            save(sim, folder / "darkflats" / name / f"Flat_darks_{name}_Dark_{number:03d}.fits",
                 "Dark", FLAT_SECONDS, at, name)
            at += tick
    for number in range(1, darks + 1):
        save(sim, folder / "darks" / f"Darks_NoFilter_Dark_{number:03d}.fits", "Dark",
             seconds, at)
        at += tick
    for number in range(1, biases + 1):
        save(sim, folder / "biases" / f"Darks_NoFilter_Bias_{number:03d}.fits", "Bias",
             0.001, at)
        at += tick
    return folder
