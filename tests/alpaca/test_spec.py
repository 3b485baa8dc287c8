"""``alpaca://`` arguments: what they name, and a clear error for what they cannot be (on the
command line: exit status 2 with the reason, before anything runs)."""

from __future__ import annotations

import pytest

from indipyalpaca.devices.part import DEVICE_TYPES
from indipyalpaca.devices.spec import NAMED_TYPES
from indipyalpaca.devices.spec import AlpacaSpec
from indipyalpaca.devices.spec import parse_alpaca_url
from indipyserver.cli import parse_args


def test_named_and_listed_forms() -> None:
    """HOST:PORT alone means every listed device; a path names (type, number) pairs."""
    assert parse_alpaca_url("alpaca://obs.local:11111") == AlpacaSpec("obs.local", 11111)
    spec = parse_alpaca_url("alpaca://127.0.0.1:32323/camera/0,telescope/1")
    assert spec.devices == (("camera", 0), ("telescope", 1))
    assert spec.base_url == "http://127.0.0.1:32323"
    assert str(spec) == "alpaca://127.0.0.1:32323/camera/0,telescope/1"
    assert parse_alpaca_url("alpaca://[::1]:11111/focuser/0").base_url == "http://[::1]:11111"


def test_dome_rotator_and_safety_monitor_are_named_types() -> None:
    """``alpaca://HOST:PORT/dome/0,rotator/0,safetymonitor/0`` names the three, and every type
    the bridge makes a device of (the management list's too) may be named."""
    spec = parse_alpaca_url("alpaca://127.0.0.1:11111/dome/0,rotator/0,safetymonitor/0")
    assert spec.devices == (("dome", 0), ("rotator", 0), ("safetymonitor", 0))
    assert set(DEVICE_TYPES) == set(NAMED_TYPES)


@pytest.mark.parametrize("text, said", [
    ("alpaca://host", "give the host and the port"),
    ("alpaca://host:99999", "bad port"),
    ("alpaca://host:11111/switch/0", "device type 'switch'"),
    ("alpaca://host:11111/camera", "needs a device number"),
    ("alpaca://host:11111/camera/x", "needs a device number"),
    ("alpaca://host:11111/camera/0,camera/0", "named twice"),
    ("alpaca://host:11111/camera/0?x=1", "no ?query"),
])
def test_bad_arguments_say_why(text: str, said: str) -> None:
    """Each malformed address raises ValueError naming what is wrong."""
    with pytest.raises(ValueError) as caught:
        parse_alpaca_url(text)
    assert said in str(caught.value)


def test_command_line_takes_alpaca_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """indipyserver takes alpaca:// as a DRIVER (alone it is enough to serve); a bad one is a
    usage error (exit 2) with the reason."""
    options = parse_args(["alpaca://127.0.0.1:11111/focuser/0"])
    assert options.alpacas == ["alpaca://127.0.0.1:11111/focuser/0"]
    assert options.exdrivers == []
    with pytest.raises(SystemExit) as exited:
        parse_args(["alpaca://127.0.0.1:11111/switch/0"])
    assert exited.value.code == 2
    assert "device type 'switch'" in capsys.readouterr().err
