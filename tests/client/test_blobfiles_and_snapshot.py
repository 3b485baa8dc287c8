"""BLOB file names cannot leave the folder whatever the server's strings hold, files appear
whole under distinct names; the snapshot has indipyclient 0.9.4's JSON shape; the reconnect
backoff doubles up to its cap with jitter below it."""

from __future__ import annotations

import json
import string
from datetime import UTC
from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from indipyclient.model.blobfiles import blob_filename
from indipyclient.model.blobfiles import save_blob
from indipyclient.model.blobfiles import saved_format
from indipyclient.model.snapshot import take_snapshot
from indipyclient.model.tree import Model
from indipycore.protocol import events as pe
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import Rule
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState

WHEN = datetime(2026, 11, 24, 4, 15, 3, 123456, tzinfo=UTC)
names = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("/.\\\0\n:"),
                max_size=80)


@given(names, names, names, names)
def test_a_blob_name_is_one_plain_file_name(device: str, vector: str, member: str,
                                            fmt: str) -> None:
    name = blob_filename(device, vector, member, fmt, WHEN)
    assert "/" not in name and "\0" not in name and ".." not in name
    assert not name.startswith(".")
    assert set(name) <= set(string.ascii_letters + string.digits + "._-")
    assert len(name.encode()) < 255


def test_formats_lose_z_and_unsafe_characters() -> None:
    assert saved_format(".fits.z") == ".fits"
    assert saved_format(".fits.fz") == ".fits.fz"
    assert saved_format("fits") == ".fits"
    assert saved_format("/../../etc/passwd") == ".etcpasswd"
    assert saved_format("") == ""


def test_saved_files_are_whole_and_never_overwrite(tmp_path: Path) -> None:
    first = save_blob(tmp_path, "CCD Simulator", "CCD1", "CCD1", ".fits", b"one", WHEN)
    second = save_blob(tmp_path, "CCD Simulator", "CCD1", "CCD1", ".fits", b"two", WHEN)
    assert first.name == "CCD_Simulator_CCD1_CCD1_20261124_041503_123.fits"
    assert second.name == "CCD_Simulator_CCD1_CCD1_20261124_041503_123_1.fits"
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name, second.name]


def test_snapshot_has_the_0_9_4_json_shape() -> None:
    model = Model(now=lambda: WHEN)
    for event in (
        pe.DefNumberVector("Mount", "COORD", State.OK, Perm.RW, [
            pe.Number("RA", "12:30", label="RA", format="%010.6m", min="0", max="24",
                   step="0")], group="Main", timeout="60"),
        pe.DefSwitchVector("Mount", "MODE", State.IDLE, Perm.RW, Rule.ONE_OF_MANY,
                        [pe.Switch("A", SwitchState.ON)]),
        pe.DefLightVector("Mount", "LAMP", State.ALERT, [pe.Light("L", State.BUSY)]),
        pe.DefBLOBVector("Mount", "IMG", State.IDLE, Perm.RO, [pe.BLOB("I")]),
        pe.SetBLOBVector("Mount", "IMG", [pe.BLOB("I", b"abc", 3, ".txt")]),
        pe.Message("Mount", message="hello"),
        pe.Message(None, message="site"),
    ):
        model.apply(event)
    snap = take_snapshot(model, "localhost", 7624, True)
    data = json.loads(snap.dumps())
    assert data["indihost"] == "localhost" and data["connected"] is True
    assert data["messages"] == [[WHEN.isoformat(sep="T"), "site"]]
    device = data["devices"]["Mount"]
    assert device["devicename"] == "Mount" and device["enable"] is True
    assert device["messages"] == [[WHEN.isoformat(sep="T"), "hello"]]
    coord = device["vectors"]["COORD"]
    assert list(coord) == ["vectortype", "name", "devicename", "label", "enable", "message",
                           "message_timestamp", "group", "state", "timeout", "timestamp",
                           "perm", "members"]
    assert coord["vectortype"] == "NumberVector" and coord["timeout"] == 60.0
    assert coord["members"]["RA"] == {"label": "RA", "format": "%010.6m", "min": "0",
                                      "max": "24", "step": "0", "value": "12:30",
                                      "floatvalue": 12.5, "formattedvalue": "  12:30:00"}
    assert device["vectors"]["MODE"]["rule"] == "OneOfMany"
    assert device["vectors"]["MODE"]["members"]["A"] == {"label": "A", "value": "On"}
    lamp = device["vectors"]["LAMP"]
    assert (lamp["perm"], lamp["timeout"], lamp["state"]) == ("ro", None, "Alert")
    assert device["vectors"]["IMG"]["members"]["I"] == {
        "label": "I", "filename": None, "blobsize": 3, "blobformat": ".txt", "value": None}
    assert snap["Mount"]["COORD"]["RA"] == "12:30"
    assert snap["Mount"]["COORD"].getfloatvalue("RA") == 12.5
    assert snap.dictdump() == data
    assert snap.dictdump(inc_user_string=True)["devices"]["Mount"]["user_string"] == ""


def test_a_snapshot_shows_each_change_and_earlier_snapshots_keep_theirs() -> None:
    """Snapshots share a vector's dict until the vector changes (set, Busy, saved file)."""
    model = Model(now=lambda: WHEN)
    model.apply(pe.DefNumberVector("M", "V", State.OK, Perm.RW, [
        pe.Number("n", "1", format="%g", min="0", max="0", step="0")]))
    before = take_snapshot(model, "h", 1, True)
    model.apply(pe.SetNumberVector("M", "V", [pe.Number("n", "2")], state=State.ALERT))
    after = take_snapshot(model, "h", 1, True)
    model.mark_busy("M", "V")
    busy = take_snapshot(model, "h", 1, True)
    assert (before["M"]["V"]["n"], before["M"]["V"].state) == ("1", "Ok")
    assert (after["M"]["V"]["n"], after["M"]["V"].state) == ("2", "Alert")
    assert busy["M"]["V"].state == "Busy"
    assert take_snapshot(model, "h", 1, True)["M"]["V"]._data is busy["M"]["V"]._data


def test_vector_dict_is_the_callers_own_copy() -> None:
    """A program decorating the dict it got (indipyweb adds keys) changes no snapshot."""
    from indipyclient.model.snapshot import vector_dict

    model = Model(now=lambda: WHEN)
    model.apply(pe.DefSwitchVector("M", "S", State.OK, Perm.RW, Rule.ANY_OF_MANY,
                                [pe.Switch("a", SwitchState.OFF)]))
    mine = vector_dict(model["M"]["S"])
    mine["vid"] = "x"
    mine["members"]["a"]["value"] = "On"
    data = take_snapshot(model, "h", 1, True).dictdump()["devices"]["M"]["vectors"]["S"]
    assert "vid" not in data and data["members"]["a"]["value"] == "Off"
