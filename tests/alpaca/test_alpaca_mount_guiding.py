"""An Alpaca telescope's PulseGuide and UTCDate (alpaca-simulators) as indilib's
TELESCOPE_TIMED_GUIDE_NS/_WE and TIME_UTC on the INDI mount of our server, driven by
indi_setprop and watched with indi_eval."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from pathlib import Path

from alpacapeers import AlpacaSimulators
from alpacapeers import until
from peers import getprop
from peers import setprop
from test_alpaca_telescope import MOUNT
from test_focuser_wheel import connect
from test_focuser_wheel import serve


def test_timed_guide_pulses_the_alpaca_mount(our_server: object, alpaca_sim: AlpacaSimulators,
                                            tmp_path: Path) -> None:
    """TELESCOPE_TIMED_GUIDE_NS/_WE are defined in Motion Control (ms, indilib's names); a
    pulse the parked simulator refuses is Alert; a TIMED_GUIDE_N pulse is the Alpaca
    PulseGuide north (the simulator's Dec grows, where a south pulse would shrink it), Busy
    while IsPulseGuiding, then Ok back at 0; a TIMED_GUIDE_S pulse moves it back south."""
    port = serve(our_server, alpaca_sim, "telescope/0", MOUNT).port
    connect(port, MOUNT, tmp_path)
    values = getprop(port, f"{MOUNT}.TELESCOPE_TIMED_GUIDE_NS._GROUP",
                     f"{MOUNT}.TELESCOPE_TIMED_GUIDE_WE.TIMED_GUIDE_W",
                     f"{MOUNT}.TELESCOPE_TIMED_GUIDE_WE.TIMED_GUIDE_E", timeout=5, cwd=tmp_path)
    assert values[f"{MOUNT}.TELESCOPE_TIMED_GUIDE_NS._GROUP"] == "Motion Control", values
    # The simulator starts parked: it refuses a pulse (0x408), and the vector says Alert.
    assert setprop(port, f"{MOUNT}.TELESCOPE_TIMED_GUIDE_WE.TIMED_GUIDE_W=300",
                   cwd=tmp_path).returncode == 0
    until(port, f'"{MOUNT}.TELESCOPE_TIMED_GUIDE_WE._STATE"==3', tmp_path, timeout=10)
    assert setprop(port, f"{MOUNT}.TELESCOPE_PARK.UNPARK=On", cwd=tmp_path).returncode == 0
    until(port, f'"{MOUNT}.TELESCOPE_PARK._STATE"==1', tmp_path)
    before = alpaca_sim.get("telescope/0/declination")
    assert isinstance(before, float)
    assert setprop(port, f"{MOUNT}.TELESCOPE_TIMED_GUIDE_NS.TIMED_GUIDE_N=1200",
                   cwd=tmp_path).returncode == 0
    until(port, f'"{MOUNT}.TELESCOPE_TIMED_GUIDE_NS._STATE"==2', tmp_path, timeout=5)
    until(port, f'"{MOUNT}.TELESCOPE_TIMED_GUIDE_NS._STATE"==1 && '
          f'"{MOUNT}.TELESCOPE_TIMED_GUIDE_NS.TIMED_GUIDE_N"==0', tmp_path, timeout=15)
    assert alpaca_sim.get("telescope/0/ispulseguiding") is False
    north = alpaca_sim.get("telescope/0/declination")
    assert isinstance(north, float) and north > before, (before, north)
    assert setprop(port, f"{MOUNT}.TELESCOPE_TIMED_GUIDE_NS.TIMED_GUIDE_S=1200",
                   cwd=tmp_path).returncode == 0
    until(port, f'"{MOUNT}.TELESCOPE_TIMED_GUIDE_NS._STATE"==1 && '
          f'"{MOUNT}.TELESCOPE_TIMED_GUIDE_NS.TIMED_GUIDE_S"==0', tmp_path, timeout=15)
    south = alpaca_sim.get("telescope/0/declination")
    assert isinstance(south, float) and south < north, (north, south)


def test_time_utc_is_the_alpaca_utcdate(our_server: object, alpaca_sim: AlpacaSimulators,
                                        tmp_path: Path) -> None:
    """On connect TIME_UTC.UTC is the mount's UTCDate without its Z (the simulator's clock
    is the machine's: within seconds of now), OFFSET as indilib's (0.00); a client's
    TIME_UTC is sent to the mount and the vector ends Ok with it; one that is no date is
    Alert, the last UTC kept."""
    port = serve(our_server, alpaca_sim, "telescope/0", MOUNT).port
    connect(port, MOUNT, tmp_path)
    values = getprop(port, f"{MOUNT}.TIME_UTC.UTC", f"{MOUNT}.TIME_UTC.OFFSET", timeout=5,
                     cwd=tmp_path)
    shown = datetime.strptime(values[f"{MOUNT}.TIME_UTC.UTC"], "%Y-%m-%dT%H:%M:%S")
    assert abs((datetime.now(UTC).replace(tzinfo=None) - shown).total_seconds()) < 30, values
    assert values[f"{MOUNT}.TIME_UTC.OFFSET"] == "0.00"
    assert setprop(port, f"{MOUNT}.TIME_UTC.UTC;OFFSET=2031-05-06T07:08:09;2.00",
                   cwd=tmp_path).returncode == 0
    until(port, f'"{MOUNT}.TIME_UTC._STATE"==1', tmp_path, timeout=10)
    values = getprop(port, f"{MOUNT}.TIME_UTC.UTC", f"{MOUNT}.TIME_UTC.OFFSET", timeout=5,
                     cwd=tmp_path)
    assert values[f"{MOUNT}.TIME_UTC.UTC"] == "2031-05-06T07:08:09", values
    assert values[f"{MOUNT}.TIME_UTC.OFFSET"] == "2.00", values
    # Not a date: Alert with the reason, nothing sent, the last UTC kept.
    assert setprop(port, f"{MOUNT}.TIME_UTC.UTC=yesterday", cwd=tmp_path).returncode == 0
    until(port, f'"{MOUNT}.TIME_UTC._STATE"==3', tmp_path, timeout=10)
    kept = getprop(port, f"{MOUNT}.TIME_UTC.UTC", timeout=5, cwd=tmp_path)
    assert kept[f"{MOUNT}.TIME_UTC.UTC"] == "2031-05-06T07:08:09", kept
