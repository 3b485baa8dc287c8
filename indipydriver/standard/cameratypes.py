"""What a camera driver's author writes and receives, for the camera role (``camera``).

`Sensor` describes the chip; `Exposure` is what a client asked for and `Image` what the
author's ``expose`` returns; `Cooler` is the cooler the author drives, if the camera has one.
The role itself, which runs the exposures, is `camera.Camera`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Protocol

from indipycore.fits import Card

__all__ = ["Abort", "Cooler", "Expose", "Exposure", "Image", "Sensor"]


@dataclass(frozen=True)
class Sensor:
    """The camera's chip: size in pixels, pixel size in microns, bits per pixel, and what
    the camera allows (binning up to `max_binning`, exposures `min_exposure`..`max_exposure`
    seconds)."""

    width: int
    height: int
    pixel_size: float
    pixel_size_y: float | None = None
    bits: int = 16
    max_binning: int = 4
    min_exposure: float = 0.01
    max_exposure: float = 3600.0


@dataclass(frozen=True)
class Exposure:
    """What a client asked for: `seconds`, the frame in unbinned pixels (`x`, `y`, `width`,
    `height`), the binning and the frame type (``"Light"``, ``"Bias"``, ``"Dark"``,
    ``"Flat"``). The image to return is `image_width` x `image_height`."""

    seconds: float
    x: int
    y: int
    width: int
    height: int
    bin_x: int = 1
    bin_y: int = 1
    frame_type: str = "Light"

    @property
    def image_width(self) -> int:
        return max(1, self.width // self.bin_x)

    @property
    def image_height(self) -> int:
        return max(1, self.height // self.bin_y)


@dataclass
class Image:
    """An image `expose` returns: `width` x `height` pixels, row-major (16-bit: an
    ``array('H')``, a sequence of ints, or their native-endian bytes; 8-bit: bytes), and
    extra FITS header cards (keyword, value, comment)."""

    width: int
    height: int
    pixels: Sequence[int] | bytes | bytearray | memoryview
    bits: int = 16
    cards: list[Card] = field(default_factory=list)


class Cooler(Protocol):
    """A camera's cooler, as the role drives it."""

    async def temperature(self) -> float:
        """The chip's temperature now, in Celsius."""
        ...

    async def set_target(self, celsius: float) -> None:
        """Start cooling (or warming) towards `celsius`."""
        ...

    async def set_cooler(self, on: bool) -> None:
        """Switch the cooler on or off."""
        ...


Expose = Callable[[Exposure], Awaitable["Image | bytes"]]
Abort = Callable[[], Awaitable[None]]
