"""Members, vectors and devices keep the indipydriver 3.x API so existing drivers move over."""

from __future__ import annotations

import pytest
from driverkit import DEV, make_driver

from indipydriver import (
    Device,
    IPyDriver,
    NumberMember,
    NumberVector,
    SwitchMember,
    SwitchVector,
    getfloat,
)


def test_getfloat_accepts_floats_ints_and_indi_text_including_sexagesimal() -> None:
    assert getfloat(1.5) == 1.5
    assert getfloat(3) == 3.0
    assert getfloat(" 2.5 ") == 2.5
    assert getfloat("-10:30:18") == pytest.approx(-10.505)
    assert getfloat("12 30") == 12.5
    with pytest.raises(ValueError):
        getfloat("abc")
    with pytest.raises(TypeError):
        getfloat(None)  # type: ignore[arg-type]


def test_constructors_take_3x_positional_and_keyword_arguments() -> None:
    by_position = NumberMember("N", "label", "%.1f", 0, 10, 1, "5")
    by_keyword = NumberMember(name="N", label="label", format="%.1f", min=0, max=10, step=1,
                              membervalue="5")
    assert (by_position.min, by_position.max, by_position.membervalue) == (0, 10, "5")
    assert by_keyword.getfloatvalue() == 5.0
    vector = SwitchVector(name="S", label=None, group="g", perm="rw", rule="AnyOfMany",
                          state="Idle", switchmembers=[SwitchMember("a")])
    assert vector.label == "S"  # label defaults to the name
    NumberVector("V", "l", "g", "rw", "Ok", [by_position])


def test_item_access_reads_and_sets_member_values_through_driver_and_device() -> None:
    driver = make_driver()
    assert driver[DEV]["NUM"]["A"] == 1
    driver[DEV]["NUM"]["A"] = "2:30"
    assert driver[DEV]["NUM"].getfloatvalue("A") == 2.5
    assert driver[DEV]["TXT"]["T"] == "hello"
    assert set(driver) == {DEV}
    assert "NUM" in driver[DEV] and "A" in driver[DEV]["NUM"]
    assert dict(driver[DEV]["ANY"]) == {"Y1": "Off", "Y2": "Off"}
    assert driver[DEV]["NUM"].devicename == DEV and driver[DEV].driver is driver


def test_invalid_values_and_attributes_are_refused_on_assignment() -> None:
    driver = make_driver()
    with pytest.raises(ValueError):
        driver[DEV]["NUM"]["A"] = "not a number"
    with pytest.raises(ValueError):
        driver[DEV]["ONE"]["S2"] = "Maybe"
    with pytest.raises(ValueError):
        driver[DEV]["NUM"].state = "Fine"
    assert driver[DEV]["NUM"]["A"] == 1  # unchanged


def test_setting_one_switch_on_turns_the_others_off_for_one_of_many_and_at_most_one() -> None:
    driver = make_driver()
    one = driver[DEV]["ONE"]
    one["S3"] = "On"
    assert dict(one) == {"S1": "Off", "S2": "Off", "S3": "On"}
    atmost = driver[DEV]["ATMOST"]
    atmost["M1"] = "On"
    atmost["M2"] = "On"
    assert dict(atmost) == {"M1": "Off", "M2": "On"}
    anyof = driver[DEV]["ANY"]
    anyof["Y1"] = "On"
    anyof["Y2"] = "On"
    assert dict(anyof) == {"Y1": "On", "Y2": "On"}


def test_number_formatting_uses_the_member_format() -> None:
    member = NumberMember("RA", format="%9.6m", membervalue="12:30:15")
    assert member.getformattedvalue() == " 12:30:15"


def test_driver_accepts_devices_as_positional_arguments_or_one_list() -> None:
    a = Device("A", [NumberVector("V", "l", "g", "rw", "Ok", [NumberMember("N")])])
    b = Device("B", [NumberVector("V", "l", "g", "rw", "Ok", [NumberMember("N")])])
    assert list(IPyDriver(a, b, x=1)) == ["A", "B"]
    assert list(IPyDriver([a, b])) == ["A", "B"]
    assert IPyDriver(a, x=1).driverdata == {"x": 1}
    with pytest.raises(ValueError):
        IPyDriver(a, a)


@pytest.mark.parametrize(
    ("perm", "rule", "state", "what"),
    [("xx", "OneOfMany", "Ok", "perm 'xx'"), ("rw", "Bad", "Ok", "rule 'Bad'"),
     ("rw", "OneOfMany", "Meh", "state 'Meh'")],
)
def test_a_bad_enumeration_in_a_constructor_names_the_vector_and_the_choices(
    perm: str, rule: str, state: str, what: str
) -> None:
    with pytest.raises(ValueError, match=f"vector 'S': {what} is not one of"):
        SwitchVector("S", "label", "group", perm, rule, state, [SwitchMember("a")])
