"""The round trip through both sides of indipyalpaca, each a real server on the command line:
server A serves our focuser simulator as Alpaca (``--alpaca``), server B takes A's Alpaca
devices back as INDI devices with ``alpaca://HOST:PORT`` -- every device A's management API
lists -- and indilib's tools drive B."""

from __future__ import annotations

from pathlib import Path

from peers import OurServer
from peers import free_port
from peers import getprop
from peers import indi_eval
from peers import setprop

FOCUSER = "Python Focuser"
WHEEL = "Python Filter Wheel"


def test_alpaca_devices_listed_by_management_api_round_trip(our_server: object,
                                                            tmp_path: Path) -> None:
    """B, given only A's address, finds A's focuser and wheel through the management API;
    their values in B are A's (FOCUS_MAX, position, filter names), and a move asked of B
    moves A's INDI focuser to the same position, each side ending Ok."""
    alpaca_port = free_port()
    a: OurServer = our_server(  # type: ignore[operator]
        "--alpaca", str(alpaca_port), "--alpaca-discovery", "0",
        "--alpaca-devices", str(tmp_path / "devices.json"), "--module", "indipysimulators.focus")
    b: OurServer = our_server(f"alpaca://127.0.0.1:{alpaca_port}")  # type: ignore[operator]
    for name in (FOCUSER, WHEEL):
        done = indi_eval(b.port, f'"{name}.CONNECTION.DISCONNECT"==1', timeout=30, cwd=tmp_path)
        assert done.returncode == 0, done.describe() + b.log_tail() + a.log_tail()
    for name in (FOCUSER, WHEEL):
        assert setprop(b.port, f"{name}.CONNECTION.CONNECT=On", cwd=tmp_path).returncode == 0
        done = indi_eval(b.port, f'"{name}.CONNECTION._STATE"==1', timeout=15, cwd=tmp_path)
        assert done.returncode == 0, done.describe() + b.log_tail()
    ours = getprop(a.port, f"{FOCUSER}.*.*", f"{WHEEL}.FILTER_NAME.*", timeout=3, cwd=tmp_path)
    theirs = getprop(b.port, f"{FOCUSER}.*.*", f"{WHEEL}.FILTER_NAME.*", timeout=3,
                     cwd=tmp_path)
    for key in (f"{FOCUSER}.FOCUS_MAX.FOCUS_MAX_VALUE",
                f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION",
                f"{WHEEL}.FILTER_NAME.FILTER_SLOT_NAME_1", f"{WHEEL}.FILTER_NAME.FILTER_SLOT_NAME_8"):
        assert float(theirs[key]) == float(ours[key]) if key.startswith(FOCUSER) \
            else theirs[key] == ours[key], (key, theirs.get(key), ours.get(key))
    target = int(float(ours[f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION"])) - 1500
    assert setprop(b.port, f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION={target}",
                   cwd=tmp_path).returncode == 0
    for port in (b.port, a.port):
        done = indi_eval(port, f'"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION"=='
                         f'{target} && "{FOCUSER}.ABS_FOCUS_POSITION._STATE"==1', timeout=20,
                         cwd=tmp_path)
        assert done.returncode == 0, done.describe()
