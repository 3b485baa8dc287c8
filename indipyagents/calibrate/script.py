"""A Siril script (``.ssf``, Siril 1.0's commands, as its own Mono_Preprocessing.ssf) for one
group of lights of ``calibration.json``: pure, a `GroupWork` in, the script's text out.

Siril works on folders of frames: the group's frames are linked into ``biases/``,
``flatdarks/``, ``flats/``, ``darks/`` and ``lights/`` below the group's work folder, and the
script, run there, converts each into a sequence in ``process/``, stacks the masters (bias,
flat-dark, dark: rejection with three or more frames, the median below) and the flats (after
their bias or flat-dark is taken off, normalised multiplicatively), then calibrates the lights
(``pp_light_00001.fits``...): the dark (which holds the bias) taken off, divided by the flat.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FOLDERS", "GroupWork", "siril_script"]

#: The work folder's folders of frames, in the order the script reads them.
FOLDERS = ("biases", "flatdarks", "flats", "darks", "lights")


@dataclass(frozen=True)
class GroupWork:
    """How many frames of each kind one group has (its lights at least one)."""

    lights: int
    darks: int = 0
    flats: int = 0
    flat_darks: int = 0
    biases: int = 0


def _stack(sequence: str, count: int, norm: str) -> str:
    method = "rej 3 3" if count >= 3 else "med"
    return f"stack {sequence} {method} {norm}"


def _master(folder: str, sequence: str, count: int) -> list[str]:
    return [f"cd {folder}", f"convert {sequence} -out=../process", "cd ../process",
            _stack(sequence, count, "-nonorm"), "cd .."]


def siril_script(work: GroupWork) -> str:
    """The script calibrating one group's lights (see the module docstring). ValueError when
    the group has no lights, or flats with neither bias nor flat-darks to take off them."""
    if work.lights < 1:
        raise ValueError("a group without lights has nothing to calibrate")
    lines = ["requires 0.99.4", "setext fits"]
    if work.biases:
        lines += _master("biases", "bias", work.biases)
    if work.flat_darks:
        lines += _master("flatdarks", "flatdark", work.flat_darks)
    light_options = []
    if work.flats:
        under = "flatdark_stacked" if work.flat_darks else "bias_stacked" if work.biases \
            else None
        if under is None:
            raise ValueError("flats need bias or flat-darks to take their offset off")
        lines += ["cd flats", "convert flat -out=../process", "cd ../process",
                  f"preprocess flat -bias={under}",
                  _stack("pp_flat", work.flats, "-norm=mul"), "cd .."]
        light_options.append("-flat=pp_flat_stacked")
    if work.darks:
        lines += _master("darks", "dark", work.darks)
        light_options.insert(0, "-dark=dark_stacked")
    elif work.biases:
        light_options.insert(0, "-bias=bias_stacked")
    lines += ["cd lights", "convert light -out=../process", "cd ../process",
              " ".join(["preprocess light", *light_options]), "cd ..", "close"]
    return "\n".join(lines) + "\n"
