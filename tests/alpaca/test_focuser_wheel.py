"""Alpaca focuser and filter wheel (alpaca-simulators) as INDI devices of our server, read and
driven by indilib's own clients (indi_getprop, indi_setprop, indi_eval)."""

from __future__ import annotations

from pathlib import Path

from alpacapeers import AlpacaSimulators
from alpacapeers import SlowPuts
from peers import OurServer
from peers import getprop
from peers import indi_eval
from peers import setprop

FOCUSER = "Simulator Focuser"
WHEEL = "Simulator Filter Wheel"


def serve(our_server: object, sim: AlpacaSimulators | SlowPuts, devices: str,
          *names: str) -> OurServer:
    """Our server on the simulator's `devices`, once the INDI devices `names` exist (they are
    built when the Alpaca server has answered, after the server listens)."""
    server: OurServer = our_server(f"alpaca://127.0.0.1:{sim.port}/{devices}")  # type: ignore[operator]
    for name in names:
        done = indi_eval(server.port, f'"{name}.CONNECTION.DISCONNECT"==1', timeout=15)
        assert done.returncode == 0, done.describe() + server.log_tail()
    return server


def connect(port: int, device: str, cwd: Path) -> None:
    assert setprop(port, f"{device}.CONNECTION.CONNECT=On", cwd=cwd).returncode == 0
    done = indi_eval(port, f'"{device}.CONNECTION._STATE"==1', timeout=10, cwd=cwd)
    assert done.returncode == 0, done.describe()


def set_and_settle(port: int, element: str, value: int, cwd: Path) -> None:
    """indi_setprop `element` (DEVICE.VECTOR.MEMBER) to `value`, then wait (indi_eval) until
    it shows `value` with its vector Ok."""
    vector = element.rpartition(".")[0]
    assert setprop(port, f"{element}={value}", cwd=cwd).returncode == 0
    done = indi_eval(port, f'"{element}"=={value} && "{vector}._STATE"==1', timeout=10, cwd=cwd)
    assert done.returncode == 0, done.describe()


def test_standard_properties_and_interface_bits(our_server: object, alpaca_sim: AlpacaSimulators,
                                                tmp_path: Path) -> None:
    """Each Alpaca device is an INDI device with indilib's standard properties: CONNECTION,
    DRIVER_INFO with the role's DRIVER_INTERFACE bits (focuser 8, filter 16), CONFIG_PROCESS
    and, for the polled focuser, POLLING_PERIOD; the role's properties appear on connect with
    the Alpaca device's values (MaxStep, position, filter names)."""
    server = serve(our_server, alpaca_sim, "focuser/0,filterwheel/0", FOCUSER, WHEEL)
    # The members named, not FOCUSER.*.* and WHEEL.*.* (a wildcard waits out its fixed timeout
    # and says what came, however late the server answers): indi_getprop ends once all came,
    # so exit 0 also says each is there.
    values = getprop(server.port, f"{FOCUSER}.DRIVER_INFO.DRIVER_INTERFACE",
                     f"{WHEEL}.DRIVER_INFO.DRIVER_INTERFACE", f"{FOCUSER}.CONNECTION.DISCONNECT",
                     f"{FOCUSER}.POLLING_PERIOD.PERIOD_MS", f"{WHEEL}.CONFIG_PROCESS.CONFIG_SAVE",
                     timeout=20, cwd=tmp_path)
    assert values.returncode == 0, values.result.describe()
    assert values[f"{FOCUSER}.DRIVER_INFO.DRIVER_INTERFACE"] == "8"
    assert values[f"{WHEEL}.DRIVER_INFO.DRIVER_INTERFACE"] == "16"
    assert values[f"{FOCUSER}.CONNECTION.DISCONNECT"] == "On"
    assert f"{FOCUSER}.POLLING_PERIOD.PERIOD_MS" in values
    assert f"{WHEEL}.CONFIG_PROCESS.CONFIG_SAVE" in values
    connect(server.port, FOCUSER, tmp_path)
    connect(server.port, WHEEL, tmp_path)
    names = alpaca_sim.get("filterwheel/0/names")
    assert isinstance(names, list) and names
    slots = [f"{WHEEL}.FILTER_NAME.FILTER_SLOT_NAME_{n}" for n in range(1, len(names) + 1)]
    values = getprop(server.port, f"{FOCUSER}.FOCUS_MAX.FOCUS_MAX_VALUE",
                     f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION", *slots,
                     timeout=20, cwd=tmp_path)
    assert values.returncode == 0, values.result.describe()
    assert values[f"{FOCUSER}.FOCUS_MAX.FOCUS_MAX_VALUE"] == str(alpaca_sim.get("focuser/0/maxstep"))
    assert values[f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION"] == str(
        alpaca_sim.get("focuser/0/position"))
    assert [values[f"{WHEEL}.FILTER_NAME.FILTER_SLOT_NAME_{n}"]
            for n in range(1, len(names) + 1)] == names
    assert alpaca_sim.get("focuser/0/connected") is True


def test_focuser_moves_and_reads_back(our_server: object, alpaca_sim: AlpacaSimulators,
                                      tmp_path: Path) -> None:
    """ABS_FOCUS_POSITION sent with indi_setprop moves the Alpaca focuser there (its own
    Position says so) and the property ends Ok at the new position; a move made behind the
    bridge's back is shown at POLLING_PERIOD."""
    server = serve(our_server, alpaca_sim, "focuser/0", FOCUSER)
    connect(server.port, FOCUSER, tmp_path)
    target = 31234 if alpaca_sim.get("focuser/0/position") != 31234 else 41234
    set_and_settle(server.port, f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION", target,
                   tmp_path)
    assert alpaca_sim.get("focuser/0/position") == target
    alpaca_sim.put("focuser/0/move", Position="12345")
    done = indi_eval(server.port, f'"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION"=='
                     "12345", timeout=10, cwd=tmp_path)
    assert done.returncode == 0, done.describe()


def test_filter_slot_changes_the_wheel(our_server: object, alpaca_sim: AlpacaSimulators,
                                       tmp_path: Path) -> None:
    """FILTER_SLOT n (INDI counts from 1) turns the Alpaca wheel to Position n-1 (Alpaca
    counts from 0) and ends Ok at n."""
    server = serve(our_server, alpaca_sim, "filterwheel/0", WHEEL)
    connect(server.port, WHEEL, tmp_path)
    slot = 4 if alpaca_sim.get("filterwheel/0/position") != 3 else 2
    set_and_settle(server.port, f"{WHEEL}.FILTER_SLOT.FILTER_SLOT_VALUE", slot, tmp_path)
    assert alpaca_sim.get("filterwheel/0/position") == slot - 1


def test_wheel_turned_elsewhere_is_shown(our_server: object, alpaca_sim: AlpacaSimulators,
                                         tmp_path: Path) -> None:
    """A slot changed on the Alpaca wheel by another client (the test's own PUT) reaches
    FILTER_SLOT at the next poll (INDI slot = Alpaca position + 1)."""
    server = serve(our_server, alpaca_sim, "filterwheel/0", WHEEL)
    connect(server.port, WHEEL, tmp_path)
    position = 2 if alpaca_sim.get("filterwheel/0/position") != 2 else 1
    alpaca_sim.put("filterwheel/0/position", Position=str(position))
    done = indi_eval(server.port, f'"{WHEEL}.FILTER_SLOT.FILTER_SLOT_VALUE"=={position + 1}',
                     timeout=10, cwd=tmp_path)
    assert done.returncode == 0, done.describe()
