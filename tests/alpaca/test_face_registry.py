"""The face's registry of lasting Alpaca identities (indipyalpaca.face.registry).

Protects: numbers count from 0 per type and are never reused; an identity read back from the
file is the same; an unreadable file is kept aside (not overwritten) and new numbers are issued;
a registry that cannot write keeps working in memory.
"""

from __future__ import annotations

from pathlib import Path

from indipyalpaca.face.registry import Registry
from indipyalpaca.wire.devicetypes import DeviceType


def test_numbers_per_type_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    first = Registry(path)
    a = first.identify("Cam A", DeviceType.CAMERA)
    b = first.identify("Cam B", DeviceType.CAMERA)
    wheel = first.identify("Cam A", DeviceType.FILTERWHEEL)
    assert (a.number, b.number, wheel.number) == (0, 1, 0)
    assert len({a.unique_id, b.unique_id, wheel.unique_id}) == 3
    again = Registry(path)
    assert again.identify("Cam B", DeviceType.CAMERA) == b
    assert again.identify("Cam C", DeviceType.CAMERA).number == 2


def test_an_unreadable_file_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    path.write_text("{not json")
    registry = Registry(path)
    assert registry.identify("Focuser", DeviceType.FOCUSER).number == 0
    assert (tmp_path / "devices.json.unreadable").read_text() == "{not json"
    assert "Focuser" in path.read_text()


def test_a_folder_that_cannot_be_written_keeps_identities_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    registry = Registry(blocker / "sub" / "devices.json")  # a file where a folder should be
    one = registry.identify("Mount", DeviceType.TELESCOPE)
    assert registry.identify("Mount", DeviceType.TELESCOPE) == one
