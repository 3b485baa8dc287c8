"""The round trip through both sides of indipyalpaca, each a real server on the command line:
server A serves our simulators (focuser and wheel, camera, mount) as Alpaca (``--alpaca``),
server B takes A's Alpaca devices back as INDI devices with ``alpaca://HOST:PORT`` -- every
device A's management API lists -- and indilib's tools drive B."""

from __future__ import annotations

from pathlib import Path

from astropy.io import fits
from facekit import BlobCatcher
from peers import GetpropResult
from peers import OurServer
from peers import free_port
from peers import getprop
from peers import indi_eval
from peers import setprop
from waiting import wait_for

FOCUSER = "Python Focuser"
WHEEL = "Python Filter Wheel"


def served_back(our_server: object, tmp_path: Path, *drivers: str) -> tuple[OurServer, OurServer]:
    """Server A running `drivers` and serving them as Alpaca, and server B taking A's Alpaca
    devices back with ``alpaca://`` (every device A's management API lists)."""
    alpaca_port = free_port()
    a: OurServer = our_server(  # type: ignore[operator]
        "--alpaca", str(alpaca_port), "--alpaca-discovery", "0",
        "--alpaca-devices", str(tmp_path / "devices.json"), *drivers)
    b: OurServer = our_server(f"alpaca://127.0.0.1:{alpaca_port}")  # type: ignore[operator]
    return a, b


def test_alpaca_devices_listed_by_management_api_round_trip(our_server: object,
                                                            tmp_path: Path) -> None:
    """B, given only A's address, finds A's focuser and wheel through the management API;
    their values in B are A's (FOCUS_MAX, position, filter names), and a move asked of B
    moves A's INDI focuser to the same position, each side ending Ok."""
    a, b = served_back(our_server, tmp_path, "--module", "indipysimulators.focus")
    for name in (FOCUSER, WHEEL):
        done = indi_eval(b.port, f'"{name}.CONNECTION.DISCONNECT"==1', timeout=30, cwd=tmp_path)
        assert done.returncode == 0, done.describe() + b.log_tail() + a.log_tail()
    for name in (FOCUSER, WHEEL):
        assert setprop(b.port, f"{name}.CONNECTION.CONNECT=On", cwd=tmp_path).returncode == 0
        done = indi_eval(b.port, f'"{name}.CONNECTION._STATE"==1', timeout=15, cwd=tmp_path)
        assert done.returncode == 0, done.describe() + b.log_tail()
    keys = (f"{FOCUSER}.FOCUS_MAX.FOCUS_MAX_VALUE",
            f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION",
            f"{WHEEL}.FILTER_NAME.FILTER_SLOT_NAME_1", f"{WHEEL}.FILTER_NAME.FILTER_SLOT_NAME_8")
    ours, theirs = both_read(a, b, keys, tmp_path)
    for key in keys:
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


CAMERA = "Python CCD Simulator"
MOUNT = "Python Mount"


def both_read(a: OurServer, b: OurServer, keys: tuple[str, ...],
              cwd: Path) -> tuple[GetpropResult, GetpropResult]:
    """What A and what B say of `keys` (each side's indi_getprop must find them all). The
    members named, not wildcards, which wait out a fixed timeout and say what came however
    late a server answers: indi_getprop ends once all came; 20 s bounds a failure."""
    ours = getprop(a.port, *keys, timeout=20, cwd=cwd)
    assert ours.returncode == 0, ours.result.describe()
    theirs = getprop(b.port, *keys, timeout=20, cwd=cwd)
    assert theirs.returncode == 0, theirs.result.describe()
    return ours, theirs


def connected_on(b: OurServer, a: OurServer, names: tuple[str, ...], cwd: Path) -> None:
    """Wait until B lists `names` (from A's management API), then connect each on B."""
    for name in names:
        done = indi_eval(b.port, f'"{name}.CONNECTION.DISCONNECT"==1', timeout=30, cwd=cwd)
        assert done.returncode == 0, done.describe() + b.log_tail() + a.log_tail()
    for name in names:
        assert setprop(b.port, f"{name}.CONNECTION.CONNECT=On", cwd=cwd).returncode == 0
        done = indi_eval(b.port, f'"{name}.CONNECTION._STATE"==1', timeout=15, cwd=cwd)
        assert done.returncode == 0, done.describe() + b.log_tail()


def test_camera_round_trip_same_pixels(our_server: object, tmp_path: Path) -> None:
    """An exposure asked of B's camera (the Alpaca camera A serves from our CCD simulator) is
    one exposure of A's INDI camera: B's CCD1 FITS holds exactly the pixels of A's own CCD1
    FITS of that exposure (the simulator's noise differs between exposures, so equal pixels
    prove the same frame went through ImageBytes and back), at the binning asked of B; the
    sensor facts in B's CCD_INFO are A's."""
    a, b = served_back(our_server, tmp_path, "--module", "indipysimulators.ccd")
    connected_on(b, a, (CAMERA,), tmp_path)
    done = indi_eval(a.port, f'"{CAMERA}.CONNECTION._STATE"==1', timeout=15, cwd=tmp_path)
    assert done.returncode == 0, done.describe() + a.log_tail()
    keys = tuple(f"{CAMERA}.CCD_INFO.{member}"
                 for member in ("CCD_MAX_X", "CCD_MAX_Y", "CCD_PIXEL_SIZE", "CCD_BITSPERPIXEL"))
    ours, theirs = both_read(a, b, keys, tmp_path)
    for key in keys:
        assert float(theirs[key]) == float(ours[key]), (key, theirs.get(key), ours.get(key))
    assert setprop(b.port, f"{CAMERA}.CCD_BINNING.HOR_BIN;VER_BIN=2;2",
                   cwd=tmp_path).returncode == 0
    # Alpaca binning takes effect with the next exposure: the image's shape proves it.
    with BlobCatcher(a.port, CAMERA, tmp_path / "a") as on_a, \
            BlobCatcher(b.port, CAMERA, tmp_path / "b") as on_b:
        assert setprop(b.port, f"{CAMERA}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=1",
                       cwd=tmp_path).returncode == 0
        wait_for(lambda: on_a.files and on_b.files, 60, "A's and B's CCD1 images")
        mine, bridged = on_a.files[-1], on_b.files[-1]
    expected, got = fits.getdata(mine), fits.getdata(bridged)
    assert expected.shape == (1024 // 2, 1280 // 2)
    assert got.shape == expected.shape and (got == expected).all()
    assert len(on_a.files) == len(on_b.files) == 1


def test_mount_round_trip_same_coordinates(our_server: object, tmp_path: Path) -> None:
    """A slew asked of B's mount (the Alpaca telescope A serves from our mount simulator)
    moves A's INDI mount: both end Ok at the target, and B's EQUATORIAL_EOD_COORD, site and
    tracking state agree with A's to the display precision."""
    a, b = served_back(our_server, tmp_path, "--module", "indipysimulators.telescope")
    connected_on(b, a, (MOUNT,), tmp_path)
    ra, dec = 3.5, 80.0  # circumpolar at the simulator's site: always above the horizon
    assert setprop(b.port, f"{MOUNT}.ON_COORD_SET.TRACK=On", cwd=tmp_path).returncode == 0
    assert setprop(b.port, f"{MOUNT}.EQUATORIAL_EOD_COORD.RA;DEC={ra};{dec}",
                   cwd=tmp_path).returncode == 0
    for port in (b.port, a.port):
        done = indi_eval(port, f'"{MOUNT}.EQUATORIAL_EOD_COORD._STATE"==1', timeout=60,
                         cwd=tmp_path)
        assert done.returncode == 0, done.describe() + b.log_tail() + a.log_tail()
    keys = (f"{MOUNT}.EQUATORIAL_EOD_COORD.RA", f"{MOUNT}.EQUATORIAL_EOD_COORD.DEC",
            *(f"{MOUNT}.GEOGRAPHIC_COORD.{member}" for member in ("LAT", "LONG", "ELEV")),
            f"{MOUNT}.TELESCOPE_TRACK_STATE.TRACK_ON", f"{MOUNT}.TELESCOPE_TRACK_STATE.TRACK_OFF")
    ours, theirs = both_read(a, b, keys, tmp_path)
    # The mount tracks; each side polls its own way, so allow a few seconds' drift (RA in
    # hours: 1e-3 h is 3.6 s), and the arc-second display precision for DEC.
    for key, tolerance, target in ((f"{MOUNT}.EQUATORIAL_EOD_COORD.RA", 1e-3, ra),
                                   (f"{MOUNT}.EQUATORIAL_EOD_COORD.DEC", 1 / 3600, dec)):
        assert abs(float(theirs[key]) - float(ours[key])) <= tolerance, (key, theirs, ours)
        assert abs(float(ours[key]) - target) <= tolerance, (key, ours)
    for member in ("LAT", "LONG", "ELEV"):
        key = f"{MOUNT}.GEOGRAPHIC_COORD.{member}"
        assert abs(float(theirs[key]) - float(ours[key])) <= 1e-4, (key, theirs, ours)
    for member in ("TRACK_ON", "TRACK_OFF"):
        key = f"{MOUNT}.TELESCOPE_TRACK_STATE.{member}"
        assert theirs[key] == ours[key], (key, theirs, ours)


def test_a_bridged_camera_header_has_the_bridged_mounts_pointing(our_server: object,
                                                                 tmp_path: Path) -> None:
    """A serves indilib's telescope and CCD simulators as Alpaca; B takes both back through
    one ``alpaca://`` (one driver holding both devices, issue 70 item 2). B's camera snoops
    B's mount within its own driver: no "cannot snoop ... belongs to this driver" at start,
    and the FITS of an exposure asked of B carries the mount's pointing (TELESCOP, OBJCTRA,
    OBJCTDEC)."""
    scope, ccd = "Telescope Simulator", "CCD Simulator"
    a, b = served_back(our_server, tmp_path, "indi_simulator_telescope", "indi_simulator_ccd")
    connected_on(b, a, (scope, ccd), tmp_path)
    done = indi_eval(b.port, f'"{scope}.EQUATORIAL_EOD_COORD.DEC">=-90', timeout=30,
                     cwd=tmp_path)
    assert done.returncode == 0, done.describe() + b.log_tail()
    with BlobCatcher(b.port, ccd, tmp_path / "b") as on_b:
        assert setprop(b.port, f"{ccd}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=1",
                       cwd=tmp_path).returncode == 0
        wait_for(lambda: on_b.files, 60, "B's CCD1 image")
        header = fits.getheader(on_b.files[-1])
    assert "cannot snoop" not in b.log_text(), b.log_tail()
    assert header.get("TELESCOP") == scope, repr(header)
    assert isinstance(header.get("OBJCTRA"), str) and isinstance(header.get("OBJCTDEC"), str), \
        repr(header)
