"""Members, vectors and devices keep the indipydriver 3.x API so existing drivers move over."""

from __future__ import annotations

import logging
import re

import pytest
from driverkit import DEV
from driverkit import make_driver

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import getfloat


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
    # read back as 3.x gave them: strings, as written
    assert (by_position.min, by_position.max, by_position.membervalue) == ("0", "10", "5")
    assert by_keyword.getfloatvalue() == 5.0
    vector = SwitchVector(name="S", label=None, group="g", perm="rw", rule="AnyOfMany",
                          state="Idle", switchmembers=[SwitchMember("a")])
    assert vector.label == "S"  # label defaults to the name
    NumberVector("V", "l", "g", "rw", "Ok", [by_position])


def test_item_access_reads_and_sets_member_values_through_driver_and_device() -> None:
    driver = make_driver()
    assert driver[DEV]["NUM"]["A"] == "1"
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
    assert driver[DEV]["NUM"]["A"] == "1"  # unchanged


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


# -- what a driver gives its members and vectors, checked where it is given ---------------------


def test_a_format_left_out_of_positional_arguments_is_named_at_once() -> None:
    """NumberMember("A", "A", 0, 10, 1, 5) shifts every argument by one: the int taken for
    the format used to fail only when a client asked for the definitions, hiding the rest of the
    device, in a traceback naming neither vector nor member."""
    with pytest.raises(TypeError, match=r"number .A.: format must be a string .* [(]positional"):
        NumberMember("A", "A", 0, 10, 1, 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(("build", "what"), [
    (lambda: NumberVector("V", 5, "g", "rw", "Ok", [NumberMember("N")]), "NumberVector 'V': label"),
    (lambda: NumberVector("V", "l", 7, "rw", "Ok", [NumberMember("N")]), "NumberVector 'V': group"),
    (lambda: NumberVector(3, "l", "g", "rw", "Ok", [NumberMember("N")]), "NumberVector: name"),
    (lambda: NumberMember(3), "NumberMember: name"),
    (lambda: SwitchMember("S", label=2.5), "SwitchMember 'S': label"),
    (lambda: Device(1, []), "Device: name"),
])
def test_names_labels_and_groups_must_be_strings(build, what: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=f"^{what} must be a string"):
        build()


@pytest.mark.parametrize("fmt", ["%s", "%x", "%q", "2f", "%Lf", "%.2f %g", "%5.2"])
def test_number_formats_c_clients_cannot_print_a_double_with_are_refused(fmt: str) -> None:
    """indilib's clients pass the format to snprintf with a double: %s there prints garbage
    or crashes. The error names the member and the format."""
    with pytest.raises(ValueError, match=f"number 'N': number format {re.escape(repr(fmt))}"):
        NumberMember("N", format=fmt)
    member = NumberMember("N", format="%g")
    with pytest.raises(ValueError):
        member.format = fmt
    assert member.format == "%g"


@pytest.mark.parametrize("fmt", ["%g", "%.2f", "%6.2f", "%010.6m", "%9.6m", "%lf", "%.3e",
                                 "%.1f%%", "%.2f deg", "%+08.3f"])
def test_printf_and_sexagesimal_formats_are_accepted(fmt: str) -> None:
    assert NumberMember("N", format=fmt).format == fmt


@pytest.mark.parametrize(("fmt", "sent"), [("%d", "%.0f"), ("%5i", "%5.0f"),
                                           ("%+03u", "%+03.0f"), ("%d steps", "%.0f steps")])
def test_an_integer_format_from_3x_is_sent_as_the_float_format_showing_the_same(
    fmt: str, sent: str, caplog: pytest.LogCaptureFixture
) -> None:
    """3.x drivers used %d, which C clients apply to a double (garbage: libindiclient 1.9.9's
    numberFormat prints 15.0 with %d as 14112816): it keeps working, sent as %.0f with its
    flags and width, and warned about; it reads back as given (3.x)."""
    member = NumberMember("N", format=fmt, membervalue=41.6)
    assert member.format == fmt and f'format="{sent}"' in member._def()
    assert member.getformattedvalue() == (fmt % 42)
    assert f"number 'N': format {fmt!r} sent as {sent!r}" in caplog.text


def test_an_empty_format_is_sent_and_shown_as_percent_g() -> None:
    """defNumber's format is required, and C clients read past the end of an empty one."""
    member = NumberMember("N", membervalue=5)
    assert 'format="%g"' in member._def()
    assert member.getformattedvalue() == "5"


def test_names_c_clients_would_truncate_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    NumberVector("V" * 64, "L" * 70, "g", "rw", "Ok", [NumberMember("m" * 63)])
    assert f"NumberVector: name {'V' * 64!r} is 64 bytes or more" in caplog.text
    assert f"label {'L' * 70!r} is 64 bytes or more" in caplog.text
    assert "m" * 63 not in caplog.text  # 63 bytes and the NUL fit


def test_a_limit_that_is_not_a_number_names_the_member_and_the_limit() -> None:
    with pytest.raises(ValueError, match=r"number 'X': min 'abc' is not a number"):
        NumberMember("X", min="abc")


def test_min_above_max_refuses_nothing_and_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    """min > max is a mistake: refusing every client value (as a plain range check would) makes
    the property unusable, so no limits are checked, as for min == max, and the definition
    warns once."""
    member = NumberMember("X", min=10, max=0)
    assert member.in_limits(50.0) and member.in_limits(-5.0)
    member._def()
    member._def()
    assert caplog.text.count("number 'X': min 10 is above max 0") == 1
    assert not NumberMember("Y", min=0, max=10).in_limits(11.0)


def test_a_wrong_name_says_which_vector_device_or_driver_and_what_it_has() -> None:
    """A bare KeyError: 'B' named nothing; in rxevent the client got only that."""
    driver = IPyDriver(Device("D", [NumberVector("V", "l", "g", "rw", "Ok",
                                                 [NumberMember("A"), NumberMember("C")])]))
    with pytest.raises(KeyError, match=r"NumberVector 'V' has no member 'B' \(it has 'A', 'C'\)"):
        driver["D"]["V"]["B"] = 1
    with pytest.raises(KeyError, match="NumberVector 'V' has no member 'B'"):
        driver["D"]["V"]["B"]
    with pytest.raises(KeyError, match=r"device 'D' has no vector 'W' \(it has 'CONNECTION', 'DRIVER_INFO', "
                       r"'DEBUG', 'CONFIG_PROCESS', 'DEBUG_LEVEL', 'V'\)"):
        driver["D"]["W"]
    with pytest.raises(KeyError, match=r"IPyDriver has no device 'E' \(it has 'D'\)"):
        driver["E"]
    assert driver["D"]["V"].get("B") is None  # Mapping.get still answers None


def test_a_switch_vector_is_built_keeping_its_rule(caplog: pytest.LogCaptureFixture) -> None:
    """A switch cannot be write-only (SPEC p.3), and OneOfMany/AtMostOne allow one switch On:
    built otherwise (3.x accepted it), the vector was sent to clients as it was. It is put
    right, with a warning, so that such a driver still runs."""
    def switches(*states: str) -> list[SwitchMember]:
        return [SwitchMember(f"S{i}", membervalue=state) for i, state in enumerate(states)]

    with caplog.at_level(logging.INFO):
        wo = SwitchVector("W", "W", "g", "wo", "AnyOfMany", "Ok", switches("Off"))
    # reads back as declared (3.x), is sent as rw (SPEC p.3), logged at info only
    assert wo.perm == "wo" and 'perm="rw"' in wo._def_bytes("", None).decode()
    assert "perm 'wo' is sent as 'rw' (SPEC p.3" in caplog.text
    for rule in ("OneOfMany", "AtMostOne"):
        two = SwitchVector("R", "R", "g", "rw", rule, "Ok", switches("On", "On", "Off"))
        assert dict(two) == {"S0": "On", "S1": "Off", "S2": "Off"}
        assert f"{rule} allows one switch On, not 'S0', 'S1': 'S0' kept On" in caplog.text
    SwitchVector("A", "A", "g", "rw", "AnyOfMany", "Ok", switches("On", "On"))
    SwitchVector("M", "M", "g", "rw", "AtMostOne", "Ok", switches("Off", "Off"))
    assert "no switch On" not in caplog.text
    SwitchVector("O", "O", "g", "rw", "OneOfMany", "Ok", switches("Off", "Off"))
    assert "SwitchVector 'O': OneOfMany with no switch On" in caplog.text
    with pytest.raises(KeyError, match="SwitchVector 'O' has no member 'X'"):
        SwitchVector("O", "O", "g", "rw", "OneOfMany", "Ok", switches("On"))["X"] = "On"


@pytest.mark.parametrize(
    ("given", "reads"),
    [(270.04, "270.04"), (15, "15"), (2.0, "2.0"), (0.1 + 0.2, "0.30000000000000004"),
     (1e20, "1e+20"), ("12:30:00", "12:30:00"), ("7.50", "7.50")],
)
def test_a_number_assigned_reads_back_as_indipydriver_3_1_2s_string(
        given: float | str, reads: str) -> None:
    """Issue 58, 4b: ``vector["AZ"] = 270.04`` then ``vector["AZ"]`` is the string
    ``'270.04'``, exactly as in indipydriver 3.1.2 (its NumberMember setter stores
    ``str(value)`` and the getter returns it: read in its wheel). So a driver moved from 3.x
    keeps working, and ``%.1f`` of ``vector["AZ"]`` fails there and here alike: the float is
    ``getfloatvalue``'s (examples/snooping_dome.py once formatted the string)."""
    vector = NumberVector("DOME_AZIMUTH", "Dome", "g", "ro", "Idle",
                          [NumberMember("AZ", "Azimuth", "%6.2f", 0, 1e21, 0, 0)])
    vector["AZ"] = given
    assert vector["AZ"] == reads == vector.data["AZ"].membervalue
    assert isinstance(vector["AZ"], str)
    assert vector.getfloatvalue("AZ") == getfloat(given)
    with pytest.raises(TypeError):
        "%.1f" % vector["AZ"]  # noqa: UP031 - the example's old mistake, as 3.1.2 fails it
