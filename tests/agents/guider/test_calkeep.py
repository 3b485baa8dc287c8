"""The kept calibration: reuse decided, adjusted for declination and pier side, saved and
read back, a corrupt file refused with a reason."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.guider.calkeep import DEC_COMP_LIMIT
from indipyagents.guider.calkeep import BadCalibrationFile
from indipyagents.guider.calkeep import Kept
from indipyagents.guider.calkeep import adjusted
from indipyagents.guider.calkeep import from_json
from indipyagents.guider.calkeep import load
from indipyagents.guider.calkeep import reusable
from indipyagents.guider.calkeep import save
from indipyagents.guider.calkeep import to_json
from indipyagents.guider.guidemath import Calibration

rate = st.floats(-1.0, 1.0).filter(lambda v: abs(v) > 1e-3)
decs = st.floats(-89.0, 89.0)
sides = st.sampled_from([None, "PIER_EAST", "PIER_WEST"])


@st.composite
def calibrations(draw: st.DrawFn) -> Calibration:
    ra = (draw(rate), draw(rate))
    dec = (-ra[1], ra[0])
    return Calibration(ra, dec, draw(sides), draw(decs))


@given(calibrations(), decs)
def test_ra_rate_scales_with_cos_dec_guarded_near_the_pole(cal: Calibration,
                                                           dec1: float) -> None:
    """The RA rate follows cos(dec) within DEC_COMP_LIMIT and never blows up past it."""
    out = adjusted(cal, dec1, cal.pier_side)
    c0 = math.cos(math.radians(min(abs(cal.declination), DEC_COMP_LIMIT)))
    c1 = math.cos(math.radians(min(abs(dec1), DEC_COMP_LIMIT)))
    assert math.hypot(*out.ra) == pytest.approx(math.hypot(*cal.ra) * c1 / c0)
    assert out.dec == cal.dec and out.declination == dec1
    assert math.hypot(*out.ra) <= math.hypot(*cal.ra) * 2 + 1e-12


@given(calibrations(), decs)
def test_a_new_pier_side_flips_and_the_same_does_not(cal: Calibration, dec1: float) -> None:
    """Another pier side turns RA (and Dec) round; the same or an unknown side leaves them."""
    other = {"PIER_EAST": "PIER_WEST", "PIER_WEST": "PIER_EAST"}.get(cal.pier_side or "")
    same = adjusted(cal, dec1, cal.pier_side)
    flipped = adjusted(cal, dec1, other)
    if other is None:
        assert flipped.ra == same.ra
    else:
        assert flipped.pier_side == other
        assert flipped.ra == pytest.approx((-same.ra[0], -same.ra[1]))
        assert flipped.dec == (-cal.dec[0], -cal.dec[1])
    assert adjusted(cal, dec1, None).ra == same.ra


@given(calibrations(), st.text(max_size=8), st.text(max_size=8), st.integers(1, 4))
def test_a_kept_calibration_reads_back_and_is_reused_only_unchanged(
        cal: Calibration, mount: str, camera: str, binning: int) -> None:
    """Saved and read back it is the same; a new mount, camera or binning is named."""
    kept = Kept(cal, mount, camera, binning)
    assert from_json(to_json(kept)) == kept
    assert reusable(kept, mount, camera, binning) == ""
    assert "binning changed" in reusable(kept, mount, camera, binning + 1)
    assert "camera changed" in reusable(kept, mount, camera + "x", binning)
    assert "mount changed" in reusable(kept, mount + "x", camera, binning)


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'{"ra": [1]}', b"\xff\xfe",
                                  b'{"mount":"m","camera":"c","binning":1,"ra":[1,0],'
                                  b'"dec":[2,0],"pier_side":null,"declination":0}',
                                  b'{"mount":"m","camera":"c","binning":1,"ra":[1,0],'
                                  b'"dec":[0,1],"pier_side":"UP","declination":0}'])
def test_a_corrupt_file_is_refused_with_a_reason(data: bytes, tmp_path: Path) -> None:
    """A corrupt saved calibration is a clear error, and loading it gives none (calibrate anew)."""
    with pytest.raises(BadCalibrationFile, match="calibrate anew"):
        from_json(data)
    (tmp_path / "calibration.json").write_bytes(data)
    assert load(tmp_path) is None


def test_saved_in_the_state_folder_and_loaded(tmp_path: Path) -> None:
    """save then load gives the calibration back; no file, none."""
    assert load(tmp_path) is None
    kept = Kept(Calibration((0.01, 0.0), (0.0, 0.01), "PIER_WEST", 40.0), "Mount", "Cam", 2)
    save(tmp_path, kept)
    assert load(tmp_path) == kept
