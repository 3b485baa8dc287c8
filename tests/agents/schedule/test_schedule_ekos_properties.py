"""Ekos's files are input from elsewhere (issue 82 item 6): whatever a sequence's or a list's
values say, the import gives a plan `parse_plan` reads back, or an `EkosError`, never
anything else (hypothesis)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyagents.plan.toml import parse_plan
from indipyagents.schedule.ekosimport import EkosError
from indipyagents.schedule.ekosimport import import_ekos

VALUES = st.one_of(st.text(max_size=12), st.sampled_from(
    ["0", "-1", "1e999", "nan", "inf", "2.5", "100001", "Light", "Dark", "Bias", "Flat",
     "Lum", "--", "", "true", "2026-12-03T20:00:00", "2026-13-40T99:00:00", "ASAP", "At",
     "Repeat", "Loop", "Sequence", "MinimumAltitude", "MoonSeparation", "95", "-200"]))


def _esq(values: list[str]) -> str:
    v = [escape(x) for x in values]
    return ("<SequenceQueue version='2'><CCD>" + v[0] + "</CCD><FilterWheel>" + v[1]
            + "</FilterWheel><MeridianFlip enabled='true'>" + v[2] + "</MeridianFlip><Job>"
            "<Exposure>" + v[3] + "</Exposure><Binning><X>" + v[4] + "</X><Y>" + v[5]
            + "</Y></Binning><Filter>" + v[6] + "</Filter><Type>" + v[7] + "</Type><Count>"
            + v[8] + "</Count><Delay>" + v[9] + "</Delay><Properties><PropertyVector "
            "name='CCD_GAIN'><OneElement name='GAIN'>" + v[10] + "</OneElement>"
            "</PropertyVector></Properties></Job></SequenceQueue>")


def _esl(values: list[str]) -> str:
    v = [escape(x) for x in values]
    return ("<SchedulerList version='1.4'><Job><Name>" + v[0] + "</Name><Priority>" + v[1]
            + "</Priority><Coordinates><J2000RA>" + v[2] + "</J2000RA><J2000DE>" + v[3]
            + "</J2000DE></Coordinates><Sequence>lum.esq</Sequence><StartupCondition>"
            "<Condition value='" + v[4] + "'>" + v[5] + "</Condition></StartupCondition>"
            "<Constraints><Constraint value='" + v[6] + "'>" + v[7] + "</Constraint>"
            "</Constraints><CompletionCondition><Condition value='" + v[8] + "'>" + v[9]
            + "</Condition></CompletionCondition></Job></SchedulerList>")


def _either(path: Path) -> None:
    try:
        text, _ = import_ekos(path)
    except EkosError:
        return
    parse_plan(text)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(VALUES, min_size=11, max_size=11))
def test_any_sequence_values_give_a_plan_or_an_ekos_error(tmp_path: Path,
                                                          values: list[str]) -> None:
    path = tmp_path / "any.esq"
    path.write_text(_esq(values), encoding="utf-8")
    _either(path)


LUM = ("<SequenceQueue version='2'><CCD>CCD Simulator</CCD><Job><Exposure>60</Exposure>"
       "<Type>Light</Type><Count>3</Count></Job></SequenceQueue>")


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(VALUES, min_size=10, max_size=10))
def test_any_list_values_give_a_plan_or_an_ekos_error(tmp_path: Path,
                                                      values: list[str]) -> None:
    (tmp_path / "lum.esq").write_text(LUM, encoding="utf-8")
    path = tmp_path / "any.esl"
    path.write_text(_esl(values), encoding="utf-8")
    _either(path)


@given(st.binary(max_size=200))
def test_any_bytes_give_a_plan_or_an_ekos_error(data: bytes) -> None:
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "any.esq"
        path.write_bytes(b"<SequenceQueue>" + data)
        _either(path)
