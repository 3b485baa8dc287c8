"""An Alpaca telescope (alpaca-simulators) as an INDI mount of our server, driven by indilib's
indi_setprop and watched with indi_eval: unpark, slew and track, park."""

from __future__ import annotations

from pathlib import Path

from alpacapeers import AlpacaSimulators
from peers import eval_until
from peers import getprop
from peers import setprop
from test_focuser_wheel import connect
from test_focuser_wheel import serve

MOUNT = "Simulator Telescope"


def test_mount_unparks_slews_tracks_and_parks(our_server: object, alpaca_sim: AlpacaSimulators,
                                              tmp_path: Path) -> None:
    """The simulator starts parked, and the INDI mount says so (TELESCOPE_PARK PARK On, DRIVER
    interface 5: TELESCOPE and GUIDER, as it can PulseGuide; the Alpaca site in
    GEOGRAPHIC_COORD); UNPARK unparks the Alpaca mount; a goto
    with ON_COORD_SET TRACK goes Busy, then Ok at the target with tracking on, as the Alpaca
    mount itself reports; PARK parks it again."""
    port = serve(our_server, alpaca_sim, "telescope/0", MOUNT).port
    connect(port, MOUNT, tmp_path)
    # The members named, not MOUNT.*.* (a wildcard waits out its fixed timeout and says what
    # came, however late the server answers): indi_getprop ends once all came.
    values = getprop(port, f"{MOUNT}.DRIVER_INFO.DRIVER_INTERFACE", f"{MOUNT}.TELESCOPE_PARK.PARK",
                     f"{MOUNT}.GEOGRAPHIC_COORD.LAT", timeout=20, cwd=tmp_path)
    assert values.returncode == 0, values.result.describe()
    assert values[f"{MOUNT}.DRIVER_INFO.DRIVER_INTERFACE"] == "5"
    assert values[f"{MOUNT}.TELESCOPE_PARK.PARK"] == "On"
    assert float(values[f"{MOUNT}.GEOGRAPHIC_COORD.LAT"]) == alpaca_sim.get(
        "telescope/0/sitelatitude")

    assert setprop(port, f"{MOUNT}.TELESCOPE_PARK.UNPARK=On", cwd=tmp_path).returncode == 0
    eval_until(port, f'"{MOUNT}.TELESCOPE_PARK.UNPARK"==1 && "{MOUNT}.TELESCOPE_PARK._STATE"==1',
               tmp_path, timeout=30)
    assert alpaca_sim.get("telescope/0/atpark") is False

    lst = alpaca_sim.get("telescope/0/siderealtime")
    assert isinstance(lst, float)
    ra = round((lst + 1.0) % 24, 3)  # an hour east of the meridian, high in the sky
    assert setprop(port, f"{MOUNT}.ON_COORD_SET.TRACK=On", cwd=tmp_path).returncode == 0
    assert setprop(port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA;DEC={ra};60", cwd=tmp_path
                   ).returncode == 0
    eval_until(port, f'"{MOUNT}.EQUATORIAL_EOD_COORD._STATE"==2', tmp_path, timeout=10)
    eval_until(port, f'"{MOUNT}.EQUATORIAL_EOD_COORD._STATE"==1', tmp_path, timeout=60)
    values = getprop(port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA", f"{MOUNT}.EQUATORIAL_EOD_COORD.DEC",
                     timeout=20, cwd=tmp_path)
    assert values.returncode == 0, values.result.describe()
    assert abs(float(values[f"{MOUNT}.EQUATORIAL_EOD_COORD.DEC"]) - 60) < 0.01, values
    # Tracking since the slew ended: RA stays put (JNow), within a poll's difference.
    assert abs(float(values[f"{MOUNT}.EQUATORIAL_EOD_COORD.RA"]) - ra) < 0.01, values
    assert alpaca_sim.get("telescope/0/tracking") is True
    assert abs(float(alpaca_sim.get("telescope/0/rightascension")) - ra) < 0.01  # type: ignore[arg-type]
    values = getprop(port, f"{MOUNT}.TELESCOPE_TRACK_STATE.TRACK_ON", timeout=20, cwd=tmp_path)
    assert values.returncode == 0, values.result.describe()
    assert values[f"{MOUNT}.TELESCOPE_TRACK_STATE.TRACK_ON"] == "On"

    assert setprop(port, f"{MOUNT}.TELESCOPE_PARK.PARK=On", cwd=tmp_path).returncode == 0
    eval_until(port, f'"{MOUNT}.TELESCOPE_PARK.PARK"==1 && "{MOUNT}.TELESCOPE_PARK._STATE"==1',
               tmp_path, timeout=60)
    assert alpaca_sim.get("telescope/0/atpark") is True


def test_site_goes_to_the_alpaca_mount(our_server: object, alpaca_sim: AlpacaSimulators,
                                       tmp_path: Path) -> None:
    """GEOGRAPHIC_COORD from a client is the Alpaca mount's site: INDI's longitude 350 E is
    Alpaca's -10, and the vector ends Ok with the new values."""
    port = serve(our_server, alpaca_sim, "telescope/0", MOUNT).port
    connect(port, MOUNT, tmp_path)
    assert setprop(port, f"{MOUNT}.GEOGRAPHIC_COORD.LAT;LONG;ELEV=50;350;200",
                   cwd=tmp_path).returncode == 0
    eval_until(port, f'"{MOUNT}.GEOGRAPHIC_COORD.ELEV"==200 && "{MOUNT}.GEOGRAPHIC_COORD._STATE"==1',
               tmp_path, timeout=10)
    assert alpaca_sim.get("telescope/0/sitelatitude") == 50
    assert alpaca_sim.get("telescope/0/sitelongitude") == -10
    assert alpaca_sim.get("telescope/0/siteelevation") == 200
