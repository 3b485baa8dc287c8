"""Issue 92 item 4: the dark library and which frames calibrate which lights. The matching is
pure (`calframes.matching`, `calframes.library`), its properties checked with hypothesis over
any setting, exposure, temperature and age: a dark matches within the temperature tolerance
(Ekos's 1 C) and the max age (30 days), never across camera, binning, gain, offset or
exposure; more darks never lack more. Then on files: a night's darks kept in the library,
found on the next night, a stale one taken again and replaced, bias frames the same way;
``calibration.json`` naming the night's and the library's frames."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from indipyagents.calframes.facts import FrameFacts
from indipyagents.calframes.facts import Setting
from indipyagents.calframes.facts import frame_kind
from indipyagents.calframes.library import DarkLibrary
from indipyagents.calframes.library import DarkNeed
from indipyagents.calframes.library import bias_needs_of
from indipyagents.calframes.library import lacking
from indipyagents.calframes.library import needs_of
from indipyagents.calframes.library import superseded
from indipyagents.calframes.matching import assign
from indipyagents.calframes.sheet import write_sheet
from indipycore.fits import Card
from indipycore.fits import fits_bytes

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)

settings = st.builds(Setting, st.sampled_from(["CCD Simulator", "ZWO ASI294MM"]),
                     st.integers(1, 4), st.none() | st.sampled_from([0.0, 100.0, 250.0]),
                     st.none() | st.sampled_from([10.0, 50.0]))
exposures = st.sampled_from([0.5, 1.0, 30.0, 60.0, 120.0, 300.0])
temperatures = st.none() | st.floats(-30, 25, allow_nan=False).map(lambda t: round(t, 2))
needs = st.builds(DarkNeed, settings, exposures, temperatures)
tolerances = st.floats(0.1, 3.0)
ages = st.floats(1, 90)


def dark(setting: Setting, exposure: float, temperature: float | None,
         days_old: float = 1.0, path: str = "d.fits") -> FrameFacts:
    return FrameFacts(path, "Dark", setting, exposure, temperature, None,
                      NOW - timedelta(days=days_old))


@given(needs, tolerances, ages, st.floats(-1, 1), st.floats(0, 1))
def test_a_fresh_dark_within_the_tolerance_meets_the_need(
        need: DarkNeed, tolerance: float, max_age: float, shift: float, age: float) -> None:
    temperature = None if need.temperature is None else need.temperature + shift * tolerance
    ok = dark(need.setting, need.exposure, temperature, age * max_age)
    assert lacking([need], [ok], NOW, max_age, tolerance) == []


@given(needs, tolerances, ages, st.floats(0.05, 5), st.sampled_from([-1, 1]))
def test_a_dark_too_warm_or_too_cold_or_too_old_does_not(
        need: DarkNeed, tolerance: float, max_age: float, beyond: float, sign: int) -> None:
    old = dark(need.setting, need.exposure, need.temperature, max_age + beyond)
    assert lacking([need], [old], NOW, max_age, tolerance) == [need]
    if need.temperature is not None:
        off = dark(need.setting, need.exposure,
                   need.temperature + sign * (tolerance + beyond), 0.5)
        assert lacking([need], [off], NOW, max_age, tolerance) == [need]
        none = dark(need.setting, need.exposure, None, 0.5)  # a cooler's need, no cooler's dark
        assert lacking([need], [none], NOW, max_age, tolerance) == [need]


@given(needs, settings, exposures)
def test_no_dark_of_another_setting_or_exposure_meets_it(
        need: DarkNeed, setting: Setting, exposure: float) -> None:
    other = dark(setting, exposure, need.temperature)
    met = not lacking([need], [other], NOW)
    assert met == (setting == need.setting and exposure == need.exposure)


@given(st.lists(needs, max_size=6), st.lists(st.builds(dark, settings, exposures, temperatures,
                                                      st.floats(0, 60)), max_size=8),
       st.builds(dark, settings, exposures, temperatures, st.floats(0, 60)))
def test_more_darks_never_lack_more(wanted: list[DarkNeed], darks: list[FrameFacts],
                                    more: FrameFacts) -> None:
    before = lacking(wanted, darks, NOW)
    after = lacking(wanted, [*darks, more], NOW)
    assert all(need in before for need in after)
    assert all(need in wanted for need in before)


@given(st.builds(dark, settings, exposures, temperatures, st.floats(0, 60), st.just("old")),
       st.floats(-0.9, 0.9))
def test_a_newer_nights_dark_of_the_same_key_supersedes_an_older(old: FrameFacts,
                                                          shift: float) -> None:
    temperature = None if old.temperature is None else old.temperature + shift
    new = FrameFacts("new", "Dark", old.setting, old.exposure, temperature, None,
                     old.taken + timedelta(days=1))
    assert superseded([old, new], [new]) == [old]
    same_night = FrameFacts("same", "Dark", old.setting, old.exposure, temperature, None,
                            old.taken + timedelta(hours=1))
    assert superseded([old, same_night], [same_night]) == []  # one set, kept together
    assert superseded([old, new], [old]) == []  # never the newer one
    other = FrameFacts("new", "Dark", old.setting, old.exposure * 2, temperature, None,
                       new.taken)
    assert superseded([old], [other]) == []


def test_frame_types_read_as_the_tools_write_them() -> None:
    assert [frame_kind(t) for t in ("Light Frame", "DARK", "Flat Field", "Bias Frame",
                                    "Offset", "Dark Flat")] == \
        ["Light", "Dark", "Flat", "Bias", "Bias", None]


# -- on files ------------------------------------------------------------------------------


def frame(path: Path, kind: str, exposure: float, celsius: float | None, taken: datetime,
          filter_name: str | None = None, camera: str = "CCD Simulator") -> Path:
    cards: list[Card] = [("IMAGETYP", f"{kind} Frame", ""), ("EXPTIME", exposure, ""),
                         ("XBINNING", 1, ""), ("INSTRUME", camera, ""), ("GAIN", 100.0, ""),
                         ("OFFSET", 10.0, ""), ("DATE-OBS", taken.strftime("%Y-%m-%dT%H:%M:%S"), "")]
    if celsius is not None:
        cards.append(("CCD-TEMP", celsius, ""))
    if filter_name is not None:
        cards.append(("FILTER", filter_name, ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fits_bytes(4, 4, bytes(32), bitpix=16, cards=cards))
    return path


def test_a_nights_darks_kept_are_found_and_a_stale_one_is_replaced(tmp_path: Path) -> None:
    """Darks of 60 s at -10 C kept: the next night's lights at -10.6 C lack none, at -12 C
    they do; 31 days later the kept darks are stale (lacking) and a new night's darks replace
    them in the library's folder."""
    library = DarkLibrary(tmp_path / "library", max_age_days=30, temperature_tolerance=1.0)
    first = NOW - timedelta(days=1)
    darks = [frame(tmp_path / "n1" / "darks" / f"D_{n}.fits", "Dark", 60.0, -10.0,
                   first + timedelta(minutes=n)) for n in range(3)]
    kept = library.keep(darks)
    assert len(kept) == 3 and all(path.is_file() for path in kept)
    assert kept[0].relative_to(library.folder).parts[:3] == (
        "CCD_Simulator", "bin1_gain100_offset10", "60s")
    light = frame(tmp_path / "n2" / "lights" / "L.fits", "Light", 60.0, -10.6, NOW, "Red")
    colder = frame(tmp_path / "n2" / "lights" / "C.fits", "Light", 60.0, -12.0, NOW, "Red")
    tonight = needs_of([FrameFacts.of(str(p), read(p)) for p in (light,)])
    assert library.lacking(tonight, NOW) == []
    assert len(library.found(tonight[0], NOW)) == 3
    cold = needs_of([FrameFacts.of(str(colder), read(colder))])
    assert library.lacking(cold, NOW) == cold
    later = NOW + timedelta(days=31)
    assert library.lacking(tonight, later) == tonight  # stale: taken again
    fresh = [frame(tmp_path / "n3" / "darks" / f"D_{n}.fits", "Dark", 60.0, -10.2,
                   later + timedelta(minutes=n)) for n in range(2)]
    library.keep(fresh)
    assert not any(path.exists() for path in kept)  # replaced
    assert library.lacking(tonight, later) == [] and len(library.darks()) == 2


def read(path: Path) -> dict[str, object]:
    from indipycore.fits import read_header
    return dict(read_header(path.read_bytes()).values)


def test_calibration_json_names_each_lights_darks_flats_and_bias(tmp_path: Path) -> None:
    """Two filters' lights at two temperatures: each group gets the darks within 1 C, its own
    filter's flats and their flat-darks, the bias; a group the night has no darks for gets
    the library's, by their absolute paths; written whole beside the night. A light the
    grading rejected (moved to ``rejected/``, issue 93) is in no group: not calibrated."""
    night = tmp_path / "night"
    for n in range(2):
        frame(night / "lights" / "Red" / f"R_{n}.fits", "Light", 60.0, -10.0, NOW, "Red")
        frame(night / "lights" / "Green" / f"G_{n}.fits", "Light", 120.0, -9.5, NOW, "Green")
        frame(night / "flats" / "Red" / f"FR_{n}.fits", "Flat", 1.5, -10.0, NOW, "Red")
        frame(night / "flats" / "Green" / f"FG_{n}.fits", "Flat", 2.0, -10.0, NOW, "Green")
        frame(night / "darks" / f"D60_{n}.fits", "Dark", 60.0, -10.4, NOW)
        frame(night / "darks" / f"D60warm_{n}.fits", "Dark", 60.0, -8.0, NOW)
        frame(night / "darks" / f"FD_{n}.fits", "Dark", 1.5, -10.0, NOW)
        frame(night / "biases" / f"B_{n}.fits", "Bias", 0.0, -10.0, NOW)
    frame(night / "rejected" / "Red" / "R_2.fits", "Light", 60.0, -10.0, NOW, "Red")
    library = DarkLibrary(tmp_path / "library")
    library.keep([frame(tmp_path / "old" / f"D120_{n}.fits", "Dark", 120.0, -9.0,
                        NOW - timedelta(days=3)) for n in range(2)])
    path = write_sheet(night, NOW, library)
    sheet = json.loads(path.read_text())
    groups = {group["filter"]: group for group in sheet["groups"]}
    red, green = groups["Red"], groups["Green"]
    assert len(sheet["groups"]) == 2
    assert red["filter"] == "Red" and red["exposure"] == 60.0 and red["temperature"] == -10.0
    assert red["lights"] == ["lights/Red/R_0.fits", "lights/Red/R_1.fits"]
    assert red["darks"] == ["darks/D60_0.fits", "darks/D60_1.fits"]
    assert red["flats"] == ["flats/Red/FR_0.fits", "flats/Red/FR_1.fits"]
    assert red["flat_darks"] == ["darks/FD_0.fits", "darks/FD_1.fits"]
    assert red["biases"] == ["biases/B_0.fits", "biases/B_1.fits"] and red["missing"] == []
    assert green["flats"] == ["flats/Green/FG_0.fits", "flats/Green/FG_1.fits"]
    assert green["flat_darks"] == [] and len(green["darks"]) == 2
    assert all(Path(p).is_absolute() and Path(p).is_relative_to(library.folder.resolve())
               for p in green["darks"])
    assert not list(night.glob(".calibration.json*"))  # no partial left
    lights_only = assign([FrameFacts.of("x", read(night / "lights" / "Red" / "R_0.fits"))])
    assert lights_only[0].missing == ["darks", "flats"]


def test_bias_frames_are_kept_found_and_replaced_as_darks_are(tmp_path: Path) -> None:
    """``darks = "library"`` keeps bias frames too, by camera, binning, gain and offset, their
    temperature within the tolerance: a night's bias at -10 C kept (below ``.../bias/``)
    meet the next night's lights at -10.6 C (of their setting only), not at -12 C, nor 31
    days later, when a new night's bias replace them; ``calibration.json`` names the
    library's bias for lights the night took none for. Darks and bias never meet each
    other's need."""
    library = DarkLibrary(tmp_path / "library", max_age_days=30, temperature_tolerance=1.0)
    first = NOW - timedelta(days=1)
    kept = library.keep([frame(tmp_path / "n1" / "biases" / f"B_{n}.fits", "Bias", 0.0, -10.0,
                               first + timedelta(minutes=n)) for n in range(3)])
    assert len(kept) == 3 and kept[0].relative_to(library.folder).parts[:3] == (
        "CCD_Simulator", "bin1_gain100_offset10", "bias")
    assert library.darks() == [] and len(library.biases()) == 3
    night = tmp_path / "night"
    light = frame(night / "lights" / "Red" / "L.fits", "Light", 60.0, -10.6, NOW, "Red")
    facts = [FrameFacts.of(str(light), read(light))]
    bias, = bias_needs_of(facts)
    assert (bias.kind, bias.temperature) == ("Bias", -10.6)
    assert library.lacking([bias], NOW) == [] and len(library.found(bias, NOW)) == 3
    assert library.lacking(needs_of(facts), NOW) == needs_of(facts)  # bias are no darks
    other = replace(bias, setting=replace(bias.setting, binning=2))
    colder = replace(bias, temperature=-12.0)
    assert library.lacking([other, colder], NOW) == [other, colder]
    later = NOW + timedelta(days=31)
    assert library.lacking([bias], later) == [bias]  # stale: taken again
    library.keep([frame(tmp_path / "n3" / "biases" / f"B_{n}.fits", "Bias", 0.0, -10.2,
                        later + timedelta(minutes=n)) for n in range(2)])
    assert not any(path.exists() for path in kept) and len(library.biases()) == 2
    library.keep([frame(tmp_path / "n1" / "darks" / f"D_{n}.fits", "Dark", 60.0, -10.0,
                        NOW - timedelta(days=3)) for n in range(2)])
    sheet = json.loads(write_sheet(night, later, library).read_text())
    group, = sheet["groups"]
    assert len(group["biases"]) == 2 and all(
        Path(p).is_relative_to(library.folder.resolve()) for p in group["biases"])
