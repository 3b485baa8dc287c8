"""The camera role's vectors, as indilib 1.9.9's CCD simulator defines them.

Names, labels, groups, rules, formats and timeouts in one table (`CAMERA_VECTORS`, built by
``vectortables``; the cooler's only for a camera with one), and the frame types CCD_FRAME_TYPE
offers. The role that serves them is ``camera``.
"""

from __future__ import annotations

from .groups import IMAGE_INFO_TAB
from .groups import IMAGE_SETTINGS_TAB
from .groups import MAIN_CONTROL_TAB
from .groups import OPTIONS_TAB
from .vectortables import BLOBSpec
from .vectortables import NumberSpec
from .vectortables import Param
from .vectortables import SwitchSpec
from .vectortables import TextSpec
from .vectortables import VectorSpec

__all__ = ["CAMERA_VECTORS", "FRAME_TYPES"]

#: CCD_FRAME_TYPE's members and the frame type each gives an `Exposure`.
FRAME_TYPES = {"FRAME_LIGHT": "Light", "FRAME_BIAS": "Bias", "FRAME_DARK": "Dark",
               "FRAME_FLAT": "Flat"}

#: The camera's vectors, in the order they are defined (indilib 1.9.9's CCD simulator); the
#: cooler's only for a camera with one.
CAMERA_VECTORS = (
    VectorSpec("CCD_EXPOSURE", "Expose", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("CCD_EXPOSURE_VALUE", "Duration (s)", "%5.2f", Param("min_exposure"),
                   Param("max_exposure"), 1, 1),
    ), timeout=60),
    VectorSpec("CCD_TEMPERATURE", "Temperature", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("CCD_TEMPERATURE_VALUE", "Temperature (C)", "%5.2f", -50, 50, 0, 0),
    ), timeout=60, when="cooled"),
    VectorSpec("CCD_COOLER", "Cooler", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("COOLER_ON", "ON"),
        SwitchSpec("COOLER_OFF", "OFF", "On"),
    ), rule="OneOfMany", when="cooled"),
    VectorSpec("CCD_ABORT_EXPOSURE", "Abort", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("ABORT", "Abort"),
    ), rule="AtMostOne", timeout=60),
    VectorSpec("CCD_FRAME", "Frame", IMAGE_SETTINGS_TAB, "rw", (
        NumberSpec("X", "Left ", "%4.0f", 0, Param("max_x"), 1, 0),
        NumberSpec("Y", "Top", "%4.0f", 0, Param("max_y"), 1, 0),
        NumberSpec("WIDTH", "Width", "%4.0f", 1, Param("width"), 1, Param("width")),
        NumberSpec("HEIGHT", "Height", "%4.0f", 1, Param("height"), 1, Param("height")),
    ), timeout=60),
    # A button: RESET Off until pressed. indilib declares it OneOfMany, which wants one switch
    # On (the vector check warns); AtMostOne is the button by the rules, as the ABORTs are,
    # and clients press it alike (RESET=On).
    VectorSpec("CCD_FRAME_RESET", "Frame Values", IMAGE_SETTINGS_TAB, "rw", (
        SwitchSpec("RESET", "Reset"),
    ), rule="AtMostOne"),
    VectorSpec("CCD_BINNING", "Binning", IMAGE_SETTINGS_TAB, "rw", (
        NumberSpec("HOR_BIN", "X", "%2.0f", 1, Param("max_binning"), 1, 1),
        NumberSpec("VER_BIN", "Y", "%2.0f", 1, Param("max_binning"), 1, 1),
    ), timeout=60),
    VectorSpec("CCD_FRAME_TYPE", "Type", IMAGE_SETTINGS_TAB, "rw", tuple(
        SwitchSpec(name, label, "On" if name == "FRAME_LIGHT" else "Off")
        for name, label in FRAME_TYPES.items()), rule="OneOfMany", timeout=60),
    VectorSpec("CCD_INFO", "CCD Information", IMAGE_INFO_TAB, "ro", (
        NumberSpec("CCD_MAX_X", "Max. Width", "%.f", 1, 16000, 0, Param("width")),
        NumberSpec("CCD_MAX_Y", "Max. Height", "%.f", 1, 16000, 0, Param("height")),
        NumberSpec("CCD_PIXEL_SIZE", "Pixel size (um)", "%.2f", 1, 40, 0, Param("pixel_size")),
        NumberSpec("CCD_PIXEL_SIZE_X", "Pixel size X", "%.2f", 1, 40, 0, Param("pixel_size")),
        NumberSpec("CCD_PIXEL_SIZE_Y", "Pixel size Y", "%.2f", 1, 40, 0, Param("pixel_size_y")),
        NumberSpec("CCD_BITSPERPIXEL", "Bits per pixel", "%.f", 8, 64, 0, Param("bits")),
    ), timeout=60),
    VectorSpec("CCD_CAPTURE_FORMAT", "Format", IMAGE_SETTINGS_TAB, "rw", (
        SwitchSpec("INDI_MONO", "Mono", "On"),
    ), rule="OneOfMany", timeout=60),
    VectorSpec("CCD_TRANSFER_FORMAT", "Encode", IMAGE_SETTINGS_TAB, "rw", (
        SwitchSpec("FORMAT_FITS", "FITS", "On"),
    ), rule="OneOfMany", timeout=60),
    VectorSpec("CCD_COMPRESSION", "Compression", IMAGE_SETTINGS_TAB, "rw", (
        SwitchSpec("INDI_ENABLED", "Enabled"),
        SwitchSpec("INDI_DISABLED", "Disabled", "On"),
    ), rule="OneOfMany", timeout=60),
    VectorSpec("CCD1", "Image Data", IMAGE_INFO_TAB, "ro", (
        BLOBSpec("CCD1", "Image"),
    ), timeout=60),
    VectorSpec("CCD_FILE_PATH", "Filename", IMAGE_INFO_TAB, "ro", (
        TextSpec("FILE_PATH", "Path"),
    )),
    VectorSpec("UPLOAD_MODE", "Upload", OPTIONS_TAB, "rw", (
        SwitchSpec("UPLOAD_CLIENT", "Client", "On"),
        SwitchSpec("UPLOAD_LOCAL", "Local"),
        SwitchSpec("UPLOAD_BOTH", "Both"),
    ), rule="OneOfMany"),
    VectorSpec("UPLOAD_SETTINGS", "Upload Settings", OPTIONS_TAB, "rw", (
        TextSpec("UPLOAD_DIR", "Dir", Param("upload_dir")),
        TextSpec("UPLOAD_PREFIX", "Prefix", Param("upload_prefix")),
    ), timeout=60),
)
