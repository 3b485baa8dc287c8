"""An Alpaca camera (alpaca-simulators) as an INDI CCD of our server: a dark exposure taken
through our client library arrives in CCD1 as a FITS file whose pixels are the Alpaca
camera's own (its ImageBytes read by the test), in FITS row order, with a proper header.
Dark frames only: the simulator's light frames need a network catalogue."""

from __future__ import annotations

import asyncio
import struct
import urllib.request
from pathlib import Path

from alpacapeers import AlpacaSimulators
from peers import OurServer
from peers import getprop
from peers import setprop
from test_focuser_wheel import connect
from test_focuser_wheel import serve
from waiting import wait_for

import indipyclient
from indipyclient import setBLOBVector
from indipycore.fits import read_header

CAMERA = "Simulator Camera"


def alpaca_pixels(sim: AlpacaSimulators) -> tuple[int, int, list[int]]:
    """The simulator's last image as the test reads it itself: width, height and the pixels
    in Alpaca order (x-major), from its ImageBytes (UInt16 expected)."""
    request = urllib.request.Request(f"{sim.url}/api/v1/camera/0/imagearray",
                                     headers={"Accept": "application/imagebytes"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        data = reply.read()
    fields = struct.unpack_from("<11i", data)
    start, wire_type, rank, width, height = fields[4], fields[6], fields[7], fields[8], fields[9]
    assert (fields[1], wire_type, rank) == (0, 8, 2), fields
    return width, height, list(struct.unpack_from(f"<{width * height}H", data, start))


def fits_pixels(data: bytes) -> tuple[dict[str, object], list[int]]:
    """A 16-bit FITS file's header values and pixels (row-major, BZERO applied)."""
    header = read_header(data)
    count = header.data_size // 2
    raw = struct.unpack_from(f">{count}h", data, header.data_offset)
    zero = int(header.values.get("BZERO", 0))
    return dict(header.values), [v + zero for v in raw]


async def expose(server: OurServer, folder: Path, seconds: float,
                 settings: dict[str, dict[str, object]]) -> bytes:
    async with indipyclient.connect("127.0.0.1", server.port, blobfolder=folder) as client:
        await client.wait_for(CAMERA, "CONNECTION", timeout=15)
        result = await client.set(CAMERA, "CONNECTION", {"CONNECT": "On"}, timeout=15)
        assert result.ok, result
        await client.wait_for(CAMERA, "CCD1", timeout=15)
        for vector, values in settings.items():
            result = await client.set(CAMERA, vector, values, timeout=10)
            assert result.ok, (vector, result)
        blob: setBLOBVector | None = None
        async with client.events() as stream:
            await client.set(CAMERA, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds},
                             wait=False)
            async with asyncio.timeout(60):
                async for event in stream:
                    if isinstance(event, setBLOBVector) and event.vectorname == "CCD1":
                        blob = event
                        break
        assert blob is not None
        exposure = client[CAMERA]["CCD_EXPOSURE"]
        async with asyncio.timeout(10):
            while exposure.state != "Ok":  # Ok once the image is out
                await asyncio.sleep(0.05)
        return Path(blob.filenames["CCD1"]).read_bytes()


async def test_dark_frame_reaches_ccd1_as_the_alpaca_pixels(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """CCD_FRAME_TYPE Dark + CCD_EXPOSURE 0.5 s: the Alpaca camera exposes a dark frame
    (Light=false), CCD1 gets a FITS file 1024x1024 16-bit with EXPTIME, FRAME Dark, INSTRUME
    and ROWORDER TOP-DOWN, and each FITS pixel (x, y) is the Alpaca image's (x, y)."""
    server = serve(our_server, alpaca_sim, "camera/0", CAMERA)
    data = await expose(server, tmp_path, 0.5, {"CCD_FRAME_TYPE": {"FRAME_DARK": "On"}})
    header, pixels = fits_pixels(data)
    width, height, alpaca = alpaca_pixels(alpaca_sim)
    assert (header["NAXIS1"], header["NAXIS2"], header["BITPIX"]) == (width, height, 16)
    assert (width, height) == (1024, 1024)
    assert header["EXPTIME"] == 0.5 and header["FRAME"] == "Dark", header
    assert header["INSTRUME"] == CAMERA and header["ROWORDER"] == "TOP-DOWN", header
    assert len(set(alpaca)) > 1  # a dark frame with noise: the comparison can fail
    assert pixels == [alpaca[x * height + y] for y in range(height) for x in range(width)]


async def test_binning_gives_a_smaller_image(our_server: object, alpaca_sim: AlpacaSimulators,
                                             tmp_path: Path) -> None:
    """CCD_BINNING 2x2 is the Alpaca camera's BinX/BinY 2 and NumX/NumY in binned pixels: the
    FITS image is 512x512 and says XBINNING 2."""
    server = serve(our_server, alpaca_sim, "camera/0", CAMERA)
    data = await expose(server, tmp_path, 0.2, {"CCD_FRAME_TYPE": {"FRAME_DARK": "On"},
                                                "CCD_BINNING": {"HOR_BIN": 2, "VER_BIN": 2}})
    header, _pixels = fits_pixels(data)
    assert (header["NAXIS1"], header["NAXIS2"], header["XBINNING"]) == (512, 512, 2), header
    assert alpaca_sim.get("camera/0/binx") == 2


def test_cooler_set_point_reaches_the_alpaca_camera(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """The simulator can set its temperature, so the INDI CCD has CCD_TEMPERATURE and
    CCD_COOLER; a new CCD_TEMPERATURE (indi_setprop) is the Alpaca SetCCDTemperature with the
    cooler on, and CCD_TEMPERATURE shows the Alpaca CCDTemperature."""
    server = serve(our_server, alpaca_sim, "camera/0", CAMERA)
    connect(server.port, CAMERA, tmp_path)
    assert setprop(server.port, f"{CAMERA}.CCD_TEMPERATURE.CCD_TEMPERATURE_VALUE=-12.5",
                   cwd=tmp_path).returncode == 0
    wait_for(lambda: alpaca_sim.get("camera/0/setccdtemperature") == -12.5, timeout=10,
             interval=0.2, what="SetCCDTemperature -12.5 on the Alpaca camera")
    wait_for(lambda: alpaca_sim.get("camera/0/cooleron") is True, timeout=10, interval=0.2,
             what="CoolerOn on the Alpaca camera")
    now = alpaca_sim.get("camera/0/ccdtemperature")
    assert isinstance(now, float)

    def shown() -> bool:
        values = getprop(server.port, f"{CAMERA}.CCD_TEMPERATURE.CCD_TEMPERATURE_VALUE",
                         cwd=tmp_path)
        seen = values.get(f"{CAMERA}.CCD_TEMPERATURE.CCD_TEMPERATURE_VALUE")
        return seen is not None and abs(float(seen) - float(
            alpaca_sim.get("camera/0/ccdtemperature"))) < 0.5  # type: ignore[arg-type]

    wait_for(shown, timeout=20, interval=0.5, what="CCD_TEMPERATURE showing CCDTemperature")
