"""indipyterm's screen-independent logic: input checks, display formats, coalescing, edits."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyterm.edits import EditTracker
from indipyterm.formatting import display_number
from indipyterm.formatting import display_size
from indipyterm.formatting import display_timestamp
from indipyterm.formatting import limits_text
from indipyterm.formatting import message_line
from indipyterm.formatting import state_colour
from indipyterm.inputcheck import InputRefused
from indipyterm.inputcheck import check_entries
from indipyterm.inputcheck import check_number
from indipyterm.inputcheck import toggle_switch
from indipyterm.settings import Settings
from indipyterm.settings import SettingsRefused
from indipyterm.settings import read_settings
from indipyterm.status import ConnectionStatus
from indipyterm.vectorinfo import MemberInfo
from indipyterm.vectorinfo import VectorInfo

# --- numbers typed by the user -----------------------------------------------------------------


def _vector(kind: str, lo: float = 0.0, hi: float = 0.0, rule: str | None = None,
            names: tuple[str, ...] = ("X",)) -> VectorInfo:
    """A writable vector as a panel shows it, its members with limits lo .. hi."""
    members = tuple(MemberInfo(n, n, "0" if kind == "Number" else "", "%g" if kind == "Number"
                               else None, lo, hi) for n in names)
    return VectorInfo("Dev", "VEC", "VEC", "G", kind, "Idle", "rw", rule, None, "", members)


def check_num(text: str, lo: float, hi: float) -> float:
    return check_number(_vector("Number", lo, hi), "X", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12.5", 12.5), (" 7 ", 7.0), ("-10:30:18", -10.505), ("1e2", 100.0), ("5 30", 5.5)],
)
def test_number_input_accepts_decimal_exponent_and_sexagesimal(text: str, expected: float) -> None:
    assert check_num(text, -1000, 1000) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "  ", "abc", "1,5", "nan", "inf", "1_000", "0x10", "1:2:3:4"])
def test_unparsable_number_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(InputRefused) as caught:
        check_num(text, 0, 10)
    assert str(caught.value).startswith("Dev.VEC.X: ")


def test_out_of_range_number_is_refused_naming_the_range() -> None:
    """The shared rule's words (was "150 is out of range 0 .. 100", the terminal's own)."""
    with pytest.raises(InputRefused, match=r"^Dev\.VEC\.X: 150 is outside min 0 \.\. max 100$"):
        check_num("150", 0, 100)
    with pytest.raises(InputRefused, match="outside"):
        check_num("-0:30", 0, 100)
    assert check_num("100", 0, 100) == 100.0
    assert check_num("0", 0, 100) == 0.0


def test_equal_or_inverted_limits_impose_no_range() -> None:
    """INDI 1.7 p.6: max is ignored when min == max; min > max is a driver's mistake, not a wall."""
    assert check_num("1e9", 0, 0) == 1e9
    assert check_num("-3", 5, 1) == -3.0


@given(st.floats(min_value=-1e6, max_value=1e6), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_a_number_is_accepted_exactly_when_inside_its_limits(v: float, lo: float, hi: float) -> None:
    text = repr(v)
    inside = lo >= hi or lo <= v <= hi
    if inside:
        assert check_num(text, lo, hi) == v
    else:
        with pytest.raises(InputRefused):
            check_num(text, lo, hi)


def test_blank_fields_keep_the_devices_values_and_texts_xml_cannot_carry_are_refused() -> None:
    numbers = _vector("Number", 0, 10, names=("X", "Y"))
    assert check_entries(numbers, {"X": "5", "Y": " "}) == {"X": 5.0, "Y": 0.0}
    texts = _vector("Text")
    assert check_entries(texts, {"X": "line one\nline\ttwo"}) == {"X": "line one\nline\ttwo"}
    assert check_entries(texts, {"X": "<&>\"'"}) == {"X": "<&>\"'"}
    with pytest.raises(InputRefused, match="U\\+0001"):
        check_entries(texts, {"X": "a\x01b"})


# --- switches -----------------------------------------------------------------------------------


def test_one_of_many_choice_turns_the_others_off_and_cannot_be_cleared() -> None:
    states = {"A": True, "B": False, "C": False}
    assert toggle_switch("OneOfMany", states, "B", True) == {"A": False, "B": True, "C": False}
    assert toggle_switch("OneOfMany", states, "A", False) == states


def test_at_most_one_turns_the_others_off_and_may_be_cleared() -> None:
    states = {"A": True, "B": False}
    assert toggle_switch("AtMostOne", states, "B", True) == {"A": False, "B": True}
    assert toggle_switch("AtMostOne", states, "A", False) == {"A": False, "B": False}


def test_any_of_many_changes_only_the_toggled_member() -> None:
    states = {"A": True, "B": False}
    assert toggle_switch("AnyOfMany", states, "B", True) == {"A": True, "B": True}
    with pytest.raises(KeyError):
        toggle_switch("AnyOfMany", states, "Z", True)


def test_switch_rules_are_checked_before_sending() -> None:
    def check(rule: str, states: dict[str, bool]) -> dict[str, object]:
        return check_entries(_vector("Switch", rule=rule, names=tuple(states)), states)

    assert check("OneOfMany", {"A": False, "B": True}) == {"A": "Off", "B": "On"}
    with pytest.raises(InputRefused, match="OneOfMany needs one switch On"):
        check("OneOfMany", {"A": False, "B": False})
    with pytest.raises(InputRefused, match="OneOfMany allows one switch On, not A, B"):
        check("OneOfMany", {"A": True, "B": True})
    with pytest.raises(InputRefused, match="AtMostOne allows one switch On"):
        check("AtMostOne", {"A": True, "B": True})
    assert check("AtMostOne", {"A": False, "B": False}) == {"A": "Off", "B": "Off"}
    assert check("AnyOfMany", {"A": True, "B": True}) == {"A": "On", "B": "On"}


@given(
    st.sampled_from(["OneOfMany", "AtMostOne", "AnyOfMany"]),
    st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=12),
)
def test_toggling_from_a_valid_state_always_keeps_the_rule(rule: str, clicks: list[tuple[int, bool]]) -> None:
    states = {"M0": True, "M1": False, "M2": False, "M3": False}
    for index, on in clicks:
        states = toggle_switch(rule, states, f"M{index}", on)
        names = tuple(states)
        check_entries(_vector("Switch", rule=rule, names=names), states)  # never raises


# --- display ------------------------------------------------------------------------------------


def test_numbers_are_shown_with_their_printf_or_sexagesimal_format() -> None:
    assert display_number("3.14159", "%.2f") == "3.14"
    assert display_number("-10.505", "%010.6m") == "-10:30:18"
    assert display_number(12.5, "%g deg") == "12.5 deg"
    assert display_number("5", "%d") == "5"


def test_unrenderable_number_or_format_is_shown_as_it_came() -> None:
    assert display_number("garbage", "%.2f") == "garbage"
    assert display_number("2.5", "%s") == "2.5"
    assert display_number("2.5", None) == "2.5"


def test_state_colours_follow_indi_clients_and_unknown_is_idle() -> None:
    assert [state_colour(s) for s in ("Idle", "Ok", "Busy", "Alert")] == [
        "#808080",
        "green",
        "yellow",
        "red",
    ]
    assert state_colour("Bogus") == "#808080"


def test_timestamps_show_the_time_today_and_the_date_otherwise() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert display_timestamp(datetime(2026, 11, 24, 3, 4, 5), now=now) == "03:04:05"
    yesterday = now - timedelta(days=1)
    assert display_timestamp(yesterday, now=now) == "2026-11-23 12:00:00"
    assert display_timestamp(None) == ""
    assert display_timestamp("sometime") == "sometime"


def test_sizes_are_shown_in_binary_units() -> None:
    assert display_size(512) == "512 B"
    assert display_size(1536) == "1.5 KiB"
    assert display_size(12 * 1024 * 1024) == "12.0 MiB"
    assert display_size(3 * 1024**5) == "3072.0 TiB"


def test_message_line_names_the_device() -> None:
    when = datetime.now(UTC).replace(hour=1, minute=2, second=3, microsecond=0, tzinfo=None)
    assert message_line(when, "hello", "Dome") == "01:02:03  [Dome] hello"
    assert message_line(None, "hello") == "hello"


# coalescing and the sparklines' history: the client library's (tests/client/test_coalesce.py)


# --- edits --------------------------------------------------------------------------------------


def test_an_edit_survives_a_device_change_and_the_conflict_is_said() -> None:
    tracker = EditTracker()
    tracker.edit("RA", "10:00", "5:00")
    tracker.edit("RA", "10:30", "5:00")
    assert not tracker.device_value("RA", "5:00")
    assert tracker.device_value("RA", "6:00")
    pending = tracker.pending("RA")
    assert pending is not None and pending.text == "10:30"
    assert tracker.conflicts() == {"RA": "6:00"}
    assert "Right Ascension is now 6:00" in tracker.note({"RA": "Right Ascension"})
    assert "Your entry is kept" in tracker.note()


def test_device_returning_to_the_base_value_clears_the_conflict() -> None:
    tracker = EditTracker()
    tracker.edit("X", "1", "0")
    tracker.device_value("X", "2")
    tracker.device_value("X", "0")
    assert tracker.conflicts() == {}
    assert tracker.note() == ""


def test_values_of_members_not_being_edited_are_no_conflict_and_discard_forgets() -> None:
    tracker = EditTracker()
    assert not tracker.device_value("Y", "9")
    tracker.edit("X", "1", "0")
    tracker.edit("Z", "1", "0")
    assert tracker.members() == ["X", "Z"]
    tracker.discard("X")
    assert tracker.pending("X") is None and tracker
    tracker.discard()
    assert not tracker


# --- connection status --------------------------------------------------------------------------


def test_status_says_connecting_connected_and_lost_with_the_countdown() -> None:
    status = ConnectionStatus("pi:7624")
    assert status.describe(0.0) == "connecting to pi:7624"
    status.retrying(2.5)
    assert status.describe(0.0) == "connecting to pi:7624: retrying in 3 s"
    status.connected()
    assert status.describe(0.0) == "connected to pi:7624"
    status.lost("closed by the server")
    assert status.describe(0.0) == "lost pi:7624: retrying (closed by the server)"
    status.retrying(10.0)
    assert status.describe(6.2) == "lost pi:7624: retrying in 4 s (closed by the server)"
    assert status.describe(11.0) == "lost pi:7624: retrying now (closed by the server)"


def test_a_retry_time_set_before_the_lost_event_is_read_is_kept() -> None:
    """The client's backoff picks the delay before the app reads ConnectionLost."""
    status = ConnectionStatus("h:1")
    status.connected()
    status.retrying(5.0)  # the client's backoff, still "connected" as far as the app knows
    assert status.describe(0.0) == "connected to h:1"
    status.lost("reset")
    assert status.describe(0.0) == "lost h:1: retrying in 5 s (reset)"


def test_limits_are_written_in_the_members_format() -> None:
    """A number's min .. max (and step) read as its value does: a wire limit such as
    0.010000000000000000208 through %.2f is 0.01, sexagesimal formats give h:m:s, a step of 0
    is left out, and min >= max (no range, SPEC) gives nothing."""
    assert limits_text(float("0.010000000000000000208"), 100, 0.01, "%.2f") == (
        "0.01 .. 100.00 step 0.01")
    assert limits_text(-90, 90, 0, "%010.6m") == "-90:00:00 .. 90:00:00"
    assert limits_text(0, 24, 0.5, "%6.3m") == "0:00 .. 24:00 step 0:30"
    assert limits_text(5, 5, 1, "%g") == ""


def test_the_status_says_why_connecting_fails_and_when_it_tries_again() -> None:
    status = ConnectionStatus("nowhere:7624")
    status.failed("Connection refused")
    status.retrying(12.0)
    assert status.describe(10.0) == (
        "cannot connect to nowhere:7624: retrying in 2 s (Connection refused)")
    status.connected()
    assert status.describe(20.0) == "connected to nowhere:7624"


def test_settings_typed_are_checked_and_the_blob_folder_made(tmp_path: Path) -> None:
    """Host, port 1..65535 and a BLOB folder created when missing (blank: not saved); each
    refusal names its field."""
    folder = tmp_path / "new" / "blobs"
    assert read_settings(" example.org ", "7625", str(folder)) == Settings(
        "example.org", 7625, folder.resolve())
    assert folder.is_dir()
    assert read_settings("localhost", "7624", "  ") == Settings("localhost", 7624, None)
    for host, port, blobs, why in (("", "7624", "", "host:"), ("a b", "7624", "", "host:"),
                                   ("h", "x", "", "port: 'x'"), ("h", "0", "", "port: must"),
                                   ("h", "70000", "", "port: must"),
                                   ("h", "1", str(tmp_path / "f" / "x"), "BLOB folder")):
        if why == "BLOB folder":
            (tmp_path / "f").write_text("a file, not a folder")
        with pytest.raises(SettingsRefused, match=why):
            read_settings(host, port, blobs)


def test_after_a_loss_the_status_stays_lost_and_says_why_the_tries_fail() -> None:
    status = ConnectionStatus("h:1")
    status.connected()
    status.lost("closed by the server")
    status.failed("Connection refused")
    status.retrying(5.0)
    assert status.describe(4.0) == "lost h:1: retrying in 1 s (Connection refused)"
