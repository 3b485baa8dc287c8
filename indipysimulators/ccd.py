"""A simulated CCD camera: a star field as FITS, binning, an exposure countdown, abort, cooling.

Installed as the executable ``indipy_simulator_ccd`` (``python examples/ccd_simulator.py``
runs the same)::

    indipy_simulator_ccd                    # serves itself on localhost:7624
    indipy_simulator_ccd --port 7625        # (any port; --host to listen elsewhere)
    indipy_simulator_ccd --bits 12          # a 12-bit camera (CCD_INFO; pixels up to 4095)
    indipy_simulator_ccd --longest 2        # its exposures at most 2 s (CCD_EXPOSURE's max)
    indiserver -v indipy_simulator_ccd      # an executable driver under indilib's server

It serves itself when given ``--port`` or ``--host``, or when its standard input is a
terminal; otherwise (its standard input a pipe, as when indiserver starts it) it speaks INDI
on stdin/stdout (`indipyserver.standalone`). ``--stdio`` forces the driver mode.

Its stars are the real sky's (Tycho-2, `indipysimulators.starcatalogue`, from Debian's
``astrometry-data-tycho2-07``) where the mount its ACTIVE_DEVICES names truly points: its
EQUATORIAL_PE (our mount simulator's pointing with its SIM_POINTING_ERROR, the name indilib's
CCD simulator snoops), else its EQUATORIAL_EOD_COORD; placed by `skyview` (TAN projection,
north up, east left) at the plate scale of SCOPE_INFO's FOCAL_LENGTH (indilib's CCD
simulator's vector; 430 mm by default, a 0.89 x 0.71 degree field; 0 takes the mount's
TELESCOPE_INFO, as indilib). Until a mount has said where it points, or with no catalogue
installed (logged once), the frame is a fixed field of random stars as before. The stars are
as wide as the focuser its ACTIVE_DEVICES names says (that focuser's FWHM, snooped as
indilib's CCD simulator snoops it: our focuser simulator has one, `indipysimulators.focus`);
until a focuser says, 1.6 pixels sigma. Seeing moves the whole field a little every frame
(`SEEING_JITTER`, 0.3 arcsec RMS). With the mount on PIER_EAST (its TELESCOPE_PIER_SIDE,
snooped) the field is turned half round, as indilib's CCD simulator turns it: a German
mount's camera turns with the tube at a meridian flip. `guidecamera` is a second, smaller camera on the same code.

Passing cloud (our own vector, indilib's CCD simulator has none): SIM_CLOUDS' TRANSPARENCY,
1 clear to 0 overcast, settable by a client at any time, dims a light frame's stars by that
share and brightens its sky a little (`clouded`: cloud lit by the ground scatters light back);
the transparency is the one at readout, so a change during an exposure applies to the frame
being taken. The guide camera, on the same code, has it too.

Its calibration frames mean something (`sensorfaults`, `flatlight`): CCD_FRAME_TYPE's bias and
dark have no light (a 500 ADU bias, 3.5 ADU read noise, a dark current doubling every 6 C of
the cooler's temperature, warm pixels fixed on the sensor); vignetting and dust donuts fixed
on the sensor shade flats and light frames alike; a flat takes the light of the light box
ACTIVE_DEVICES' ACTIVE_LIGHTBOX names (our member: indilib's CCD has none; its
FLAT_LIGHT_CONTROL and FLAT_LIGHT_INTENSITY snooped), else the twilight's at the mount's site
(GEOGRAPHIC_COORD, snooped) on the sky clock. A light frame's sky is the night's whatever
the hour. The noise comes from the camera's `seed`: the same seed, the same frames.

The hardware part is all that is written here: `SimulatedCamera.expose` returns an image of the
frame and binning the client chose; `SimulatedCooler` moves the chip's temperature towards its
set point at 0.5 C a second. indipydriver's `Camera` role runs the INDI side (the properties,
the states, the countdown, abort, the FITS file and the BLOB); `docs/guides/camera_driver.rst`
walks through this file.
"""

from __future__ import annotations

import asyncio
import logging
import math
import operator
import random
import time
from array import array
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from datetime import datetime

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberVector
from indipydriver.rxevents import newNumberVector
from indipydriver.standard.camera import Camera
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Image
from indipydriver.standard.camera import Sensor
from indipydriver.standard.vectortables import NumberSpec
from indipydriver.standard.vectortables import Param
from indipydriver.standard.vectortables import VectorSpec
from indipydriver.standard.vectortables import build

from . import fastpixels
from . import flatlight
from . import photometry
from . import sensorfaults
from .serving import simulator_main
from .siderole import SideRole
from .skytime import sky_time
from .skyview import FOCAL_LENGTH
from .skyview import Optics
from .skyview import sky_stars
from .starcatalogue import CatalogueError
from .starcatalogue import StarCatalogue
from .starcatalogue import default_catalogue
from .telescope import LATITUDE
from .telescope import LONGITUDE

DEVICE = "Python CCD Simulator"
EXEC = "indipy_simulator_ccd"
SENSOR = Sensor(width=1280, height=1024, pixel_size=5.2, bits=16, max_binning=4)
#: ACTIVE_DEVICES at start: the other indipy simulators (indilib's CCD simulator names
#: indilib's); a client (Ekos) sets its own.
ACTIVE_DEVICES = {"ACTIVE_TELESCOPE": "Python Mount", "ACTIVE_ROTATOR": "",
                  "ACTIVE_FOCUSER": "Python Focuser", "ACTIVE_FILTER": "Python Filter Wheel",
                  "ACTIVE_SKYQUALITY": "", "ACTIVE_LIGHTBOX": ""}
#: ACTIVE_DEVICES' member of our own: the light box (panel) whose light a flat takes.
#: indilib's INDI::CCD has no such member (1.9.9 or its master: telescope, rotator, focuser,
#: filter, sky quality); named after its light box interface (LIGHTBOX_INTERFACE).
LIGHTBOX = ("ACTIVE_LIGHTBOX", "Light Box")

#: The widest star drawn (FWHM, unbinned pixels): further out of focus a star keeps this
#: size, so a frame far from focus renders as fast as one near it (its stars are lost in the
#: noise long before).
MAX_FWHM_PIXELS = 50.0
#: Seeing's frame-to-frame wander of the whole field (arcsec RMS, each axis): a guide star
#: never sits still, and a guider must not chase it.
SEEING_JITTER = 0.3
#: A Gaussian's FWHM over its sigma, 2 sqrt(2 ln 2).
FWHM_PER_SIGMA = 2 * math.sqrt(2 * math.log(2))
#: A pixel's largest value.
FULL = photometry.FULL_SCALE
#: The air around the camera, C: an uncooled chip's temperature.
AMBIENT = photometry.AMBIENT

logger = logging.getLogger(__name__)


class SimulatedCooler:
    """A thermo-electric cooler: the chip moves towards the set point (cooler on) or the
    ambient temperature (off) at `rate` degrees a second."""

    def __init__(self, ambient: float = AMBIENT, rate: float = 0.5) -> None:
        self.ambient = ambient
        self.rate = rate
        self.on = False
        self.target = ambient
        self._celsius = ambient
        self._when = time.monotonic()

    def _now(self) -> float:
        now = time.monotonic()
        goal = self.target if self.on else self.ambient
        step = self.rate * (now - self._when)
        self._when = now
        if abs(goal - self._celsius) <= step:
            self._celsius = goal
        else:
            self._celsius += math.copysign(step, goal - self._celsius)
        return self._celsius

    def celsius(self) -> float:
        """The chip's temperature now (what the dark current follows)."""
        return self._now()

    async def temperature(self) -> float:
        return self._now()

    async def set_target(self, celsius: float) -> None:
        self._now()
        self.target = celsius

    async def set_cooler(self, on: bool) -> None:
        self._now()
        self.on = on


#: indilib's CCD simulator's own optics vector (FOCAL_LENGTH wins over the mount's
#: TELESCOPE_INFO when above 0).
SCOPE_INFO = (VectorSpec("SCOPE_INFO", "Scope", "Options", "rw", (
    NumberSpec("FOCAL_LENGTH", "Focal Length (mm)", "%g", 0, 10000, 1, Param("focal_length")),
    NumberSpec("APERTURE", "Aperture (mm)", "%g", 0, 3000, 1, Param("aperture")),
), state="Ok", timeout=60),)


class ScopeInfoRole(SideRole):
    """SCOPE_INFO beside the camera role: a client's focal length and aperture, kept."""

    def __init__(self, focal_length: float = FOCAL_LENGTH, aperture: float = 80.0) -> None:
        made = build(SCOPE_INFO, focal_length=focal_length, aperture=aperture)
        super().__init__(made)
        self.vector = made.vector("SCOPE_INFO", NumberVector)

    @property
    def focal_length(self) -> float:
        return self.vector.getfloatvalue("FOCAL_LENGTH")

    async def new_numbers(self, event: newNumberVector) -> None:
        for member in ("FOCAL_LENGTH", "APERTURE"):
            if member in event:
                value = event.getfloatvalue(member)
                if not 0 <= value <= 10000:
                    await self.vector.send_setVector(
                        message=f"{member} {value} is out of range", state="Alert")
                    return
                self.vector[member] = value
        await self.vector.send_setVector(state="Ok")


#: Our own cloud vector: TRANSPARENCY 1 clear .. 0 overcast, settable at any time.
SIM_CLOUDS = (VectorSpec("SIM_CLOUDS", "Clouds", "Simulation", "rw", (
    NumberSpec("TRANSPARENCY", "Transparency (1 clear, 0 overcast)", "%.2f", 0, 1, 0.05,
               Param("transparency")),
), state="Ok", timeout=60),)
#: How much brighter the sky is under full cloud (cloud lit by the ground below): at
#: transparency t the sky is (1 + CLOUD_GLOW (1 - t)) times the clear night's.
CLOUD_GLOW = 0.5


def clouded(stars: list[tuple[float, float, float]], sky: float, transparency: float
            ) -> tuple[float, list[tuple[float, float, float]]]:
    """A light frame's sky and stars through cloud of `transparency` (clipped to 0..1): each
    star's flux times it, the sky brighter by `CLOUD_GLOW` at full cloud."""
    share = min(1.0, max(0.0, transparency))
    return (sky * (1 + CLOUD_GLOW * (1 - share)),
            [(x, y, flux * share) for x, y, flux in stars] if share < 1 else stars)


class CloudsRole(SideRole):
    """SIM_CLOUDS beside the camera role: the transparency a client sets, kept."""

    def __init__(self, transparency: float = 1.0) -> None:
        made = build(SIM_CLOUDS, transparency=transparency)
        super().__init__(made)
        self.vector = made.vector("SIM_CLOUDS", NumberVector)

    @property
    def transparency(self) -> float:
        return self.vector.getfloatvalue("TRANSPARENCY")

    async def new_numbers(self, event: newNumberVector) -> None:
        if "TRANSPARENCY" in event:
            value = event.getfloatvalue("TRANSPARENCY")
            if not 0 <= value <= 1:
                await self.vector.send_setVector(
                    message=f"TRANSPARENCY {value} is not between 0 and 1", state="Alert")
                return
            self.vector["TRANSPARENCY"] = value
        await self.vector.send_setVector(state="Ok")


class SimulatedCamera:
    """The "hardware": the real sky where the mount points (or a fixed field of random stars
    while no mount has said), imaged with noise."""

    def __init__(self, sensor: Sensor = SENSOR, stars: int = 150, seed: int = 42,
                 vignetting: float = sensorfaults.VIGNETTING) -> None:
        self.sensor = sensor
        #: The optical path's vignetting (`sensorfaults`' K: the corners 1 - K of the centre).
        self.vignetting = vignetting
        #: Where the mount truly points, JNow (RA hours, Dec degrees), None when unknown.
        self.pointing: Callable[[], tuple[float, float] | None] = lambda: None
        #: The focal length (mm) the plate scale follows.
        self.focal_length: Callable[[], float] = lambda: FOCAL_LENGTH
        #: The time the sky is drawn for (precession).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._catalogue: StarCatalogue | None | bool = False  # False: not looked for yet
        sky = random.Random(seed)
        # (x, y) in unbinned sensor pixels, and brightness in ADU per second at binning 1.
        self.stars = [(sky.uniform(0, sensor.width), sky.uniform(0, sensor.height),
                       200000.0 * 10 ** (-0.4 * sky.uniform(0, 6))) for _ in range(stars)]
        self.sigma = 1.6  # the stars' width (pixels) while no focuser says its FWHM
        #: Seeing's wander: the whole field moves by this much (arcsec RMS, each axis) from
        #: one frame to the next, as a guide star does through the air.
        self.seeing_jitter = SEEING_JITTER
        #: The stars' FWHM in arcseconds now (the snooped focuser's), None when unknown.
        self.fwhm: Callable[[], float | None] = lambda: None
        #: The snooped mount's pier side ("EAST", "WEST", None): on the east side the camera
        #: has turned half round with the tube, as indilib's CCD simulator draws it.
        self.pier_side: Callable[[], str | None] = lambda: None
        #: The chip's temperature (C), which the dark current follows (the cooler's).
        self.temperature: Callable[[], float] = lambda: AMBIENT
        #: The snooped light box: (lit, intensity), None while none has said.
        self.panel: Callable[[], tuple[bool, float] | None] = lambda: None
        #: The name of the filter in place (the snooped wheel's), None when unknown.
        self.filter_name: Callable[[], str | None] = lambda: None
        #: The sky's transparency now (SIM_CLOUDS): 1 clear .. 0 overcast, read at readout.
        self.transparency: Callable[[], float] = lambda: 1.0
        #: The site (latitude, longitude east, degrees) the twilight is reckoned at.
        self.site: Callable[[], tuple[float, float]] = lambda: (LATITUDE, LONGITUDE)
        #: The noise's generator: the same seed, the same frames.
        self.rng = random.Random(f"noise:{seed}")
        self._air = random.Random(f"air:{seed}")
        self.connected = False

    async def connect(self) -> None:
        """What a real driver would do to open the camera (USB, SDK...)."""
        self.connected = True
        logger.info("Simulated camera connected")

    async def disconnect(self) -> None:
        self.connected = False

    async def expose(self, exposure: Exposure) -> Image:
        """Wait out the exposure, then read out the frame (cancelled on abort)."""
        await asyncio.sleep(exposure.seconds)
        return await asyncio.to_thread(self.render, exposure)

    async def abort(self) -> None:
        """A real camera would stop its shutter here; the simulated one has nothing to stop."""

    def render(self, exposure: Exposure) -> Image:
        """The frame the client asked for, binned: the light of its frame type (`light`)
        through the optical path, the bias, the dark current at the chip's temperature, the
        hot pixels and the noise (`sensorfaults`), plus the stars."""
        width, height = exposure.image_width, exposure.image_height
        light, stars = self.light(exposure)
        sensor = self.defects()
        if exposure.frame_type in ("Light", "Flat"):  # the filter's own dust too
            sensor = sensorfaults.through_filter(sensor, self.filter_name())
        top = 2 ** self.sensor.bits - 1
        if fastpixels.ENABLED:  # the same pixels, numpy's arithmetic (`fastpixels`)
            values = sensorfaults.expose_values(sensor, exposure, self.temperature(), light,
                                                self.rng)
            if stars:
                rows = fastpixels.StarRows()
                self._draw_stars(rows, exposure, width, height, stars)
                fastpixels.add_stars(values, rows, photometry.normals(),
                                     math.sqrt(photometry.GAIN))
            return Image(width, height, fastpixels.to_pixels(values, top),
                         cards=[("OBJECT", "Simulated field", "")])
        pixels = sensorfaults.expose_pixels(sensor, exposure, self.temperature(), light,
                                            self.rng)
        if stars:
            self._draw_stars(pixels, exposure, width, height, stars)
        if self.sensor.bits < 16 and max(pixels) > top:  # a 12-bit camera's pixels stop at 4095
            pixels = array("H", [min(top, value) for value in pixels])
        return Image(width, height, pixels, cards=[("OBJECT", "Simulated field", "")])

    def defects(self) -> sensorfaults.Defects:
        """The hot pixels and dust fixed on this camera's sensor."""
        return sensorfaults.defects(self.sensor.width, self.sensor.height,
                                    self.sensor.pixel_size, self.vignetting)

    def light(self, exposure: Exposure) -> tuple[float, list[tuple[float, float, float]]]:
        """The electrons a binned pixel at the centre gets, and the stars, by frame type: none
        in a bias or a dark (the shutter closed); a flat the lit panel's when a light box has
        said (nothing when it is off, no sky: it covers the tube), else the twilight sky's
        through the filter, stars and all (`flatlight`); a light frame the night sky's,
        through the cloud there is at readout (`clouded`)."""
        kind, seconds = exposure.frame_type, exposure.seconds
        binned = exposure.bin_x * exposure.bin_y
        if kind in ("Bias", "Dark"):
            return 0.0, []
        scale = self.optics().arcsec_per_pixel
        if kind == "Flat":
            panel, name = self.panel(), self.filter_name()
            if panel is not None:
                lit, intensity = panel
                return (flatlight.panel_electrons(intensity, seconds, name) * binned
                        if lit else 0.0), []
            sky = flatlight.twilight_electrons(self.sun_altitude(), seconds, scale, name)
            return sky * binned, self.lit_stars(flatlight.throughput(name))
        return clouded(self.lit_stars(1.0),
                       photometry.sky_electrons_per_second(scale) * seconds * binned,
                       self.transparency())

    def sun_altitude(self) -> float:
        """The Sun's altitude (degrees) now, at the site."""
        return flatlight.sun_altitude(self.clock(), *self.site())

    def lit_stars(self, share: float) -> list[tuple[float, float, float]]:
        """This frame's stars (`through_air`), each dimmed by the optical path where it
        falls (vignetting, dust) and by `share` (a filter's)."""
        sensor = self.defects()
        return [(x, y, flux * share * sensorfaults.response_at(sensor, x, y))
                for x, y, flux in self.through_air(self.field_stars())]

    def optics(self) -> Optics:
        """The sensor and the focal length now."""
        focal = self.focal_length()
        return Optics(self.sensor.width, self.sensor.height, self.sensor.pixel_size,
                      focal if focal > 0 else FOCAL_LENGTH)

    def catalogue(self) -> StarCatalogue | None:
        """The star catalogue, looked for once; None (said once) when none is installed."""
        if self._catalogue is False:
            try:
                self._catalogue = default_catalogue()
            except CatalogueError as exc:
                logger.warning("No real sky: %s; drawing random stars", exc)
                self._catalogue = None
        return self._catalogue if isinstance(self._catalogue, StarCatalogue) else None

    def field_stars(self) -> list[tuple[float, float, float]]:
        """The stars to draw: (x, y) unbinned pixels from the corner, ADU a second."""
        pointing = self.pointing()
        catalogue = self.catalogue() if pointing is not None else None
        if pointing is None or catalogue is None:
            return self.stars
        optics = self.optics()
        stars = sky_stars(catalogue, pointing[0], pointing[1], self.clock(), optics)
        if self.pier_side() == "EAST":  # a meridian flip turns the camera half round
            return [(optics.width - x, optics.height - y, f) for x, y, f in stars]
        return stars

    def through_air(self, stars: list[tuple[float, float, float]]
                    ) -> list[tuple[float, float, float]]:
        """`stars` as this frame sees them: all moved together by the seeing's wander."""
        if not self.seeing_jitter > 0:
            return stars
        sigma = self.seeing_jitter / self.optics().arcsec_per_pixel
        dx, dy = self._air.gauss(0.0, sigma), self._air.gauss(0.0, sigma)
        return [(x + dx, y + dy, flux) for x, y, flux in stars]

    def star_sigma(self) -> float:
        """The stars' sigma in unbinned pixels: the snooped FWHM at the plate scale (at most
        `MAX_FWHM_PIXELS` wide), or `sigma` while no focuser has said."""
        fwhm = self.fwhm()
        if fwhm is None or not fwhm > 0:
            return self.sigma
        scale = self.optics().arcsec_per_pixel
        return min(fwhm / scale, MAX_FWHM_PIXELS) / FWHM_PER_SIGMA

    def _draw_stars(self, pixels: array[int] | fastpixels.StarRows, exposure: Exposure,
                    width: int, height: int, stars: list[tuple[float, float, float]]) -> None:
        """Each star a Gaussian, drawn where it adds at least 1 ADU. Row by row, the profile
        is the star's column profile scaled by its row's factor (the Gaussian is separable),
        and the row's pixels are summed by `map` over slices: a wide, defocused star costs a
        C loop per row, not a Python statement per pixel. Given `fastpixels.StarRows`, each
        row's place, scale and noise offset is kept there instead, for numpy to add."""
        bx, by = exposure.bin_x, exposure.bin_y
        sigma = self.star_sigma()
        # The star's own shot noise: sqrt(electrons) / gain ADU, normal deviates from a pool.
        pool = len(photometry.normals())
        normals = [] if isinstance(pixels, fastpixels.StarRows) else \
            [z / math.sqrt(photometry.GAIN) for z in photometry.normals()]
        sx, sy = sigma / bx, sigma / by
        for star_x, star_y, flux in stars:
            # The star's centre in the binned image, (0, 0) at the frame's corner.
            cx = (star_x - exposure.x) / bx
            cy = (star_y - exposure.y) / by
            peak = flux * exposure.seconds * bx * by / (2 * math.pi * sx * sy)
            if peak <= 1:
                continue
            # Past `reach` sigmas from its centre the star adds less than 1 ADU.
            reach = math.sqrt(2 * math.log(peak))
            rx, ry = reach * sx, reach * sy
            c0, c1 = max(0, math.floor(cx - rx)), min(width, math.ceil(cx + rx) + 1)
            r0, r1 = max(0, math.floor(cy - ry)), min(height, math.ceil(cy + ry) + 1)
            if c0 >= c1 or r0 >= r1:
                continue
            profile = [math.exp(-0.5 * ((col + 0.5 - cx) / sx) ** 2) for col in range(c0, c1)]
            kept = pixels.profile(profile) - c0 if isinstance(pixels, fastpixels.StarRows) else 0
            for row in range(r0, r1):
                dy = (row + 0.5 - cy) / sy
                scale = peak * math.exp(-0.5 * dy * dy)
                if scale < 1:
                    continue
                half = sx * math.sqrt(2 * math.log(scale))  # where scale * profile >= 1
                a = max(c0, math.ceil(cx - 0.5 - half))
                b = min(c1, math.floor(cx - 0.5 + half) + 1)
                if a >= b:
                    continue
                start = row * width
                at = self.rng.randrange(pool - (b - a))
                if isinstance(pixels, fastpixels.StarRows):
                    pixels.rows.append((start + a, b - a, scale, kept + a, at))
                    continue
                light = list(map(scale.__mul__, profile[a - c0:b - c0]))
                shot = map(operator.mul, map(math.sqrt, light), normals[at:at + b - a])
                added = list(map(operator.add, pixels[start + a:start + b],
                                 map(round, map(operator.add, light, shot))))
                if max(added) > FULL or min(added) < 0:
                    added = [min(FULL, max(0, value)) for value in added]
                pixels[start + a:start + b] = array("H", added)


def make_driver(device_name: str = DEVICE, *, sensor: Sensor = SENSOR,
                driver_exec: str = EXEC,
                vignetting: float = sensorfaults.VIGNETTING) -> IPyDriver:
    """The simulated camera as an IPyDriver with one standard device (the CCD role); a
    `sensor` other than `SENSOR` makes another camera (`guidecamera`'s), `vignetting` its
    optical path's."""
    camera = SimulatedCamera(sensor, vignetting=vignetting)
    cooler = SimulatedCooler()
    role = Camera(sensor, camera.expose, abort=camera.abort, cooler=cooler,
                  active_devices=ACTIVE_DEVICES, extra_active=(LIGHTBOX,),
                  extra_snoops={"ACTIVE_FOCUSER": ("FWHM",), "ACTIVE_TELESCOPE": ("EQUATORIAL_PE",),
                                "ACTIVE_LIGHTBOX": ("FLAT_LIGHT_CONTROL", "FLAT_LIGHT_INTENSITY")})
    scope = ScopeInfoRole()
    clouds = CloudsRole()
    camera.transparency = lambda: clouds.transparency
    snooped = role.active.values
    camera.fwhm = lambda: snooped.number("FWHM", "SIM_FWHM")
    camera.pier_side = lambda: snooped.pier_side
    camera.temperature = cooler.celsius
    camera.filter_name = lambda: snooped.filter

    def panel() -> tuple[bool, float] | None:
        # The light box's switch heard: lit or not, at its intensity (0 until heard).
        lit = snooped.text("FLAT_LIGHT_CONTROL", "FLAT_LIGHT_ON")
        if lit is None:
            return None
        return lit == "On", snooped.number("FLAT_LIGHT_INTENSITY",
                                           "FLAT_LIGHT_INTENSITY_VALUE") or 0.0

    def site() -> tuple[float, float]:
        lat, long = snooped.latitude, snooped.longitude
        return (LATITUDE if lat is None else lat, LONGITUDE if long is None else long)

    camera.panel, camera.site = panel, site

    def pointing() -> tuple[float, float] | None:
        # indilib's CCD simulator: EQUATORIAL_PE (the true pointing) first, else the
        # coordinates the mount reports.
        ra, dec = snooped.number("EQUATORIAL_PE", "RA_PE"), snooped.number("EQUATORIAL_PE",
                                                                          "DEC_PE")
        if ra is not None and dec is not None:
            return ra, dec
        return (snooped.ra, snooped.dec) if snooped.ra is not None and snooped.dec is not None \
            else None

    camera.pointing = pointing
    camera.clock = sky_time()  # the stars drawn for the rehearsal's sky, as the mount's
    camera.focal_length = lambda: scope.focal_length or snooped.focal_length or FOCAL_LENGTH
    device = Device(device_name, roles=[role, scope, clouds], connect=camera.connect,
                    disconnect=camera.disconnect, driver_exec=driver_exec)
    return IPyDriver(device, camera=camera, cooler=cooler)


def of_sensor(bits: float, longest: float = SENSOR.max_exposure) -> IPyDriver:
    """The camera with a sensor of `bits` bits per pixel (8 to 16; CCD_INFO says it, and its
    pixels stop at 2**bits - 1) whose exposures are at most `longest` seconds (CCD_EXPOSURE's
    max): a 12-bit camera for a plan's levels checked against it, a short longest exposure
    for flats that must brighten the panel instead."""
    if not 8 <= bits <= 16 or bits != int(bits):
        raise SystemExit(f"--bits must be a whole number from 8 to 16, not {bits:g}")
    if not SENSOR.min_exposure < longest <= SENSOR.max_exposure:
        raise SystemExit(f"--longest must be over {SENSOR.min_exposure:g} s and at most "
                         f"{SENSOR.max_exposure:g} s, not {longest:g}")
    return make_driver(sensor=replace(SENSOR, bits=int(bits), max_exposure=longest))


def main(argv: list[str] | None = None) -> None:
    """``indipy_simulator_ccd``: the camera served, or on stdin/stdout under an INDI server;
    ``--bits 12`` a 12-bit camera, ``--longest 2`` one whose exposures stop at 2 s."""
    simulator_main(__doc__, argv, of_sensor,
                   knob=("--bits", float(SENSOR.bits), "bits per pixel, 8 to 16 (default 16)"),
                   more=[("--longest", SENSOR.max_exposure,
                          f"the longest exposure, seconds (default {SENSOR.max_exposure:g})")])
