"""Issue 91 item 4, the pure part of capture_single_frame and save_image (`singleframe`): the
parameters read as PHD2's ``event_server.cpp`` reads them, named or in its order, each bad one
refused with PHD2's message; a frame written as a FITS file, and a failed write leaving no
file of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.guider.phd2wire import InvalidParams
from indipyagents.guider.singleframe import NAMES
from indipyagents.guider.singleframe import SingleFrame
from indipyagents.guider.singleframe import save_fits
from indipyagents.guider.singleframe import single_frame_params


def read(params: Any) -> SingleFrame:
    return single_frame_params(params, 500, 1, 4)


def test_the_defaults_are_the_guide_exposure_and_the_cameras_binning() -> None:
    assert read(None) == read({}) == read([]) == SingleFrame(500, 1)
    asked = read({"exposure": 2000, "binning": 2, "gain": 30, "subframe": [1, 2, 30, 40],
                  "path": "/tmp/nowhere/x.fits"})
    assert asked == SingleFrame(2000, 2, 30, (1, 2, 30, 40), "/tmp/nowhere/x.fits", True)
    assert read([2000, 2, 30, [1, 2, 30, 40], "/tmp/nowhere/x.fits"]) == asked
    assert read({"save": True}).save and not read({"save": 0}).save


@pytest.mark.parametrize(("params", "message"), [
    ({"exposure": 0}, "expected exposure param"),
    ({"exposure": 600_001}, "expected exposure param"),
    ({"exposure": 1.5}, "expected exposure param"),
    ({"binning": "2"}, "binning value must be an integer"),
    ({"binning": 5}, "Invalid binning value (5). Valid choices are: 1, 2, 3, 4"),
    ({"gain": -1}, "invalid gain value: must be between 0 and 100"),
    ({"subframe": [0, 0, 1, 2, 3]}, "invalid subframe param"),
    ({"subframe": {"x": 0}}, "invalid subframe param"),
    ({"path": 3}, "invalid path param: string expected"),
    ({"path": "x.fits"}, "path param must be an absolute path"),
    ({"path": "/"}, "destination file already exists"),
    ({"save": "yes"}, "save param must be a boolean"),
    ({"path": "/tmp/nowhere/x.fits", "save": False}, "path param not allowed when save = false"),
])
def test_each_bad_parameter_is_refused_with_phd2s_message(params: dict[str, Any],
                                                          message: str) -> None:
    with pytest.raises(InvalidParams, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(params)


@given(st.integers(-10, 700_000), st.integers(-2, 8), st.booleans())
def test_named_and_positional_params_read_alike(exposure: int, binning: int,
                                                named: bool) -> None:
    """PHD2's Params: the names or the order of NAMES, one answer."""
    values = {"exposure": exposure, "binning": binning}
    given_params: Any = values if named else [values[n] for n in NAMES[:2]]
    ok = 1 <= exposure <= 600_000 and 1 <= binning <= 4
    if ok:
        assert read(given_params) == SingleFrame(exposure, binning)
    else:
        with pytest.raises(InvalidParams):
            read(given_params)


def test_a_frame_is_written_where_asked_or_where_the_guider_chooses(tmp_path: Path) -> None:
    data = b"SIMPLE  =                    T" + b" " * 2850
    asked = tmp_path / "asked.fits"
    assert save_fits(data, str(asked)) == str(asked) and asked.read_bytes() == data
    chosen = Path(save_fits(data, folder=str(tmp_path)))
    assert chosen.name.startswith("save_image_") and chosen.suffix == ".fits"
    assert chosen.read_bytes() == data
    with pytest.raises(OSError):
        save_fits(data, folder=str(tmp_path / "missing"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["asked.fits", chosen.name])
