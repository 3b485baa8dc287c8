"""The pure part of indipy-getprop (GetpropQuery): which elements match which queries, what is
printed, when it is finished, and what it asks the server for -- fed protocol events directly,
by the rules of indilib's getINDIproperty.c."""

from __future__ import annotations

from indipyclient.frontends.tools.getprop import GetpropQuery
from indipyclient.frontends.tools.specs import parse_get_spec
from indipycore.protocol import BLOB
from indipycore.protocol import DefBLOBVector
from indipycore.protocol import DefLightVector
from indipycore.protocol import DefNumberVector
from indipycore.protocol import DefTextVector
from indipycore.protocol import Light
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State
from indipycore.protocol import Text


def _number(device: str = "D", name: str = "P", value: str = "1.5",
            perm: Perm = Perm.RW) -> DefNumberVector:
    return DefNumberVector(device=device, name=name, state=State.OK, perm=perm, label="L",
                           members=[Number("A", value, format="%g", min="0", max="0", step="0"),
                                    Number("B", "2", format="%g", min="0", max="0", step="0")])


def _query(*specs: str, **kwargs: bool) -> GetpropQuery:
    return GetpropQuery([parse_get_spec(s) for s in specs], **kwargs)


def test_an_exact_query_prints_its_line_and_finishes() -> None:
    query = _query("D.P.A")
    outcome = query.handle(_number())
    assert outcome.lines == ["D.P.A=1.5"]
    assert query.finished and not query.missing()


def test_just_value_only_with_one_exact_query() -> None:
    assert _query("D.P.A", just_value=True).handle(_number()).lines == ["1.5"]
    assert _query("D.P.*", just_value=True).handle(_number()).lines == ["D.P.A=1.5", "D.P.B=2"]


def test_wildcard_queries_never_finish_and_restart_the_timer() -> None:
    query = _query("*.*.*")
    outcome = query.handle(_number())
    assert outcome.lines == ["D.P.A=1.5", "D.P.B=2"] and outcome.restart_timer
    assert not query.finished and not query.missing()


def test_each_query_prints_its_own_line_even_for_the_same_element() -> None:
    query = _query("D.P.A", "*.P.A")
    assert query.handle(_number()).lines == ["D.P.A=1.5", "D.P.A=1.5"]


def test_keywords_print_attributes_and_absent_ones_print_empty() -> None:
    query = _query("D.P._LABEL", "D.P._TO", "D.P._STATE", "D.P._PERM")
    assert query.handle(_number()).lines == ["D.P._LABEL=L", "D.P._TO=", "D.P._STATE=Ok",
                                             "D.P._PERM=rw"]
    light = DefLightVector(device="D", name="L", state=State.BUSY,
                           members=[Light("X", State.ALERT)])
    assert _query("D.L.*", "D.L._PERM").handle(light).lines == ["D.L.X=Alert", "D.L._PERM="]


def test_write_only_vectors_are_skipped_unless_asked() -> None:
    wo = _number(perm=Perm.WO)
    assert _query("D.P.A").handle(wo).lines == []
    assert _query("D.P.A", write_only=True).handle(wo).lines == ["D.P.A=1.5"]


def test_sets_count_only_when_monitoring() -> None:
    update = SetNumberVector(device="D", name="P", members=[Number("A", "7")])
    assert _query("D.P.A").handle(update).lines == []
    outcome = _query("D.P.A", monitor=True).handle(update)
    assert outcome.lines == ["D.P.A=7"] and not outcome.restart_timer


def test_blob_vectors_are_enabled_once_and_their_blobs_handed_over_to_be_saved() -> None:
    query = _query("D.*.*", "*.B.*")
    definition = DefBLOBVector(device="D", name="B", state=State.IDLE, perm=Perm.RO,
                               members=[BLOB("IMG")])
    first = query.handle(definition)
    assert [(e.device, e.name, e.value.value) for e in first.send] == [("D", "B", "Also")]
    assert first.lines == [] and query.handle(definition).send == []
    blob = SetBLOBVector(device="D", name="B", state=State.OK,
                         members=[BLOB("IMG", b"data", 4, ".fits")])
    arrived = query.handle(blob)
    assert [(d, p, m.name) for d, p, m in arrived.blobs] == [("D", "B", "IMG")] * 2
    assert arrived.lines == []


def test_get_properties_names_the_device_only_when_every_query_names_the_same_one() -> None:
    assert _query("D.P.A", "D.*.*").get_properties().device == "D"
    assert _query("D.P.A", "E.P.A").get_properties().device is None
    assert _query("*.P.A").get_properties().device is None


def test_a_thousand_exact_queries_each_matched_once() -> None:
    query = _query(*[f"D.P{i}.T" for i in range(1000)])
    for i in range(1000):
        assert not query.finished
        text = DefTextVector(device="D", name=f"P{i}", state=State.IDLE, perm=Perm.RO,
                             members=[Text("T", str(i))])
        assert query.handle(text).lines == [f"D.P{i}.T={i}"]
    assert query.finished
