"""The TXT record an INDI server announces (indipydiscovery.txt): within DNS-SD's limits,
read back as written, and a bad record read with its problems said, never raised."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipydiscovery.txt import RECORD_LIMIT
from indipydiscovery.txt import STRING_LIMIT
from indipydiscovery.txt import parse_txt
from indipydiscovery.txt import server_txt
from indipydiscovery.txt import txt_devices
from indipydiscovery.txt import web_txt


def as_received(record: dict[str, str]) -> dict[bytes, bytes | None]:
    """The record as zeroconf hands a browser its TXT (bytes keys and values)."""
    return {key.encode(): value.encode() for key, value in record.items()}


def wire_size(record: dict[str, str]) -> int:
    return sum(1 + len(f"{k}={v}".encode()) for k, v in record.items())


@given(devices=st.lists(st.text(min_size=1, max_size=300), max_size=80),
       tls=st.none() | st.integers(1, 65535), alpaca=st.none() | st.integers(1, 65535),
       web=st.none() | st.text(max_size=120).map(lambda s: "http://h.local:8000/" + s))
def test_any_device_list_gives_a_record_within_the_limits_read_back_whole(
        devices: list[str], tls: int | None, alpaca: int | None, web: str | None) -> None:
    """Whatever the devices (many, long, any characters): each string is at most 255 bytes,
    the record at most 1300; reading it gives back every value with no problem, the devices
    listed are the given ones in order (a prefix, less names no string can hold) and ndev
    counts them all."""
    record = server_txt(version="1.2.3", software="indipyserver", tls_port=tls,
                        alpaca_port=alpaca, web=web, devices=devices)
    assert all(len(f"{k}={v}".encode()) <= STRING_LIMIT for k, v in record.items())
    assert wire_size(record) <= RECORD_LIMIT
    values, problems = parse_txt(as_received(record))
    assert problems == []
    assert values == record
    listed, total = txt_devices(values)
    assert total == len(devices)
    # In order, skipping only names no string holds, and cut only where the next would not fit.
    room = STRING_LIMIT - len(f"dev{len(listed)}=")  # for a name, at the next key's length
    rest = iter(devices)
    for index, name in enumerate(listed):
        for offered in rest:
            if offered == name:
                break
            assert len(offered.encode()) > STRING_LIMIT - len(f"dev{index}="), offered
    following = [d for d in rest if len(d.encode()) <= room]
    if following:
        assert wire_size({**record, f"dev{len(listed)}": following[0]}) > RECORD_LIMIT
    assert (values["txtvers"], values["protovers"], values["version"]) == ("1", "1.7", "1.2.3")
    assert values.get("tls") == (str(tls) if tls else None)
    assert values.get("web") == web


def test_a_long_device_list_is_cut_cleanly_with_its_count() -> None:
    """200 devices do not fit: the first ones are listed, dev0 on with no gap, ndev=200."""
    devices = [f"Simulated Camera number {i}" for i in range(200)]
    record = server_txt(version="1", devices=devices)
    listed, total = txt_devices(record)
    assert 10 < len(listed) < 200 and total == 200
    assert listed == devices[:len(listed)]
    assert wire_size(record) <= RECORD_LIMIT < wire_size(
        {**record, f"dev{len(listed)}": devices[len(listed)]})


def test_a_name_no_string_can_hold_is_counted_not_listed() -> None:
    """A 300-byte device name is skipped; the names after it are still listed."""
    record = server_txt(version="1", devices=["A", "x" * 300, "B"])
    assert txt_devices(record) == (["A", "B"], 3)


def test_a_configuration_value_too_long_for_a_string_is_a_clear_error() -> None:
    """A web URL of 300 bytes cannot be announced: ValueError naming the key and the limit."""
    with pytest.raises(ValueError, match=r"web= is 300 bytes long.*at most 255"):
        server_txt(version="1", web="h" * 300)
    assert web_txt("/") == {"txtvers": "1", "path": "/"}


def test_a_malformed_record_is_read_with_each_problem_said() -> None:
    """Missing keys, a key without a value, bytes that are not UTF-8, a port that is not one,
    a web value that is no URL, a count that is no number and a gap in the devices: each is a
    problem in words and is skipped; the rest is read; keys are case-insensitive, the first
    of a repeated one counts."""
    values, problems = parse_txt({
        b"Version": b"2.0", b"VERSION": b"ignored", b"flag": None, b"software": b"\xff\xfe",
        b"tls": b"70000", b"alpaca": b"11111", b"web": b"ftp://x", b"ndev": b"many",
        b"dev0": b"CCD", b"dev2": b"Mount", b"\xc3\xa9": b"x"})
    assert values == {"version": "2.0", "alpaca": "11111", "dev0": "CCD", "dev2": "Mount"}
    said = "\n".join(problems)
    for expected in ("no txtvers=", "no protovers=", "flag has no value", "software= is not UTF-8",
                     "tls=70000 is not a port", "web=ftp://x is not an http(s) URL",
                     "ndev=many is not a count", "devices numbered [0, 2]", "not ASCII"):
        assert expected in said, (expected, said)
    assert txt_devices(values) == (["CCD"], 1)


def test_a_count_below_the_devices_listed_is_said() -> None:
    """ndev=1 with two devices listed: said, not trusted blindly."""
    _, problems = parse_txt({b"txtvers": b"1", b"protovers": b"1.7", b"ndev": b"1",
                             b"dev0": b"A", b"dev1": b"B"})
    assert problems == ["ndev=1 but 2 devices listed"]
