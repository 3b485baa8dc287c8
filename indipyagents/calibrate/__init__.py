"""The morning's calibration (issue 92 item 5): ``indipy-calibrate NIGHT_FOLDER`` reads the
night's ``calibration.json`` (`calframes.sheet`, written again from the frames' headers),
writes a Siril script per group of lights (`script`) and runs Debian's ``siril-cli`` on it
(`siril`): master bias, darks and flats (per filter), the lights calibrated.
"""

from __future__ import annotations

from .script import GroupWork
from .script import siril_script
from .siril import SirilFailed

__all__ = ["GroupWork", "SirilFailed", "siril_script"]
