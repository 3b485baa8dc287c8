"""Camera served by the face, driven by alpyca, on our CCD simulator and indilib's.

Protects: StartExposure returns at once with ImageReady False, CameraState goes through
Exposing to Idle with ImageReady True; binning and a subframe (binned pixels in Alpaca,
unbinned in INDI) give an image of that size; ImageArray -- as ImageBytes (what alpyca asks
for) and as JSON -- holds exactly the pixels of the INDI device's FITS, x first and top row
first, checked against an independent INDI client's copy read with astropy; no image yet is
InvalidOperation; LastExposureDuration/StartTime come from the FITS; what INDI has no
property for (StopExposure) is NotImplemented; the image is converted as soon as it
arrives, before any client asks.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from alpaca.camera import Camera
from alpaca.camera import CameraStates
from alpaca.exceptions import InvalidOperationException
from alpaca.exceptions import InvalidValueException
from alpaca.exceptions import NotImplementedException
from astropy.io import fits
from facekit import BlobCatcher
from facekit import alpaca_server
from facekit import number_of
from facekit import serving
from waiting import wait_for

from indipysimulators.ccd import make_driver


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[str, int]]:
    with serving(alpaca_server(make_driver(), registry=tmp_path / "ids.json",
                               exdrivers=("indi_simulator_ccd",))) as server:
        yield f"127.0.0.1:{server.alpaca_port}", server.port


def camera(address: str, name: str) -> Camera:
    cam = Camera(address, number_of(address, name, "Camera"))
    cam.Connected = True
    return cam


@pytest.mark.parametrize("name", ["Python CCD Simulator", "CCD Simulator"])
def test_exposure_and_image(servers: tuple[str, int], name: str, tmp_path: Path) -> None:
    address, indi_port = servers
    cam = camera(address, name)
    assert cam.InterfaceVersion == 4
    assert cam.BinX == 1 and cam.BinY == 1
    assert cam.NumX == cam.CameraXSize and cam.NumY == cam.CameraYSize
    assert cam.MaxADU >= 255 and cam.PixelSizeX >= 1.0
    assert cam.CanStopExposure is False and cam.ReadoutModes == ["Default"]
    with pytest.raises(InvalidOperationException):
        _ = cam.ImageArray
    with pytest.raises(NotImplementedException):
        cam.StopExposure()
    with pytest.raises(InvalidValueException):
        cam.StartExposure(-1.0, True)
    cam.BinX = 2
    assert cam.BinY == 2
    cam.StartX, cam.StartY, cam.NumX, cam.NumY = 10, 20, 64, 48
    with BlobCatcher(indi_port, name, tmp_path / "copy") as catcher:
        cam.StartExposure(1.0, False)
        assert cam.ImageReady is False
        assert cam.CameraState in (CameraStates.cameraExposing, CameraStates.cameraReading,
                                   CameraStates.cameraIdle)
        wait_for(lambda: cam.ImageReady, 60, lambda: f"state {cam.CameraState}")
        assert cam.CameraState == CameraStates.cameraIdle and cam.PercentCompleted == 100
        wait_for(lambda: catcher.files, 20, "the catcher's copy")
        expected = fits.getdata(catcher.files[-1])
    assert expected.shape == (48, 64)
    served = np.array(cam.ImageArray)  # ImageBytes: alpyca asks for it
    assert served.shape == (64, 48)
    assert (served.T == expected).all()
    request = urllib.request.Request(f"http://{address}/api/v1/camera/"
                                     f"{cam.device_number}/imagearray?ClientTransactionID=3")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("application/json")
        reply = json.loads(response.read())
    assert (reply["Type"], reply["Rank"], reply["ErrorNumber"]) == (2, 2, 0)
    assert (np.array(reply["Value"]).T == expected).all()
    assert cam.LastExposureDuration == pytest.approx(1.0)
    start = cam.LastExposureStartTime
    assert not start.endswith("Z") and start[4] == "-" and start[10] == "T"
    cam.Connected = False


def test_a_fresh_frame_is_converted_before_anyone_asks(servers: tuple[str, int], tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """The face starts making an exposure's image ImageBytes when its INDI client receives
    it, not when an Alpaca client next asks: with no request after StartExposure, the log
    says the image is ImageBytes; ImageReady is then True and ImageArray holds the FITS
    pixels."""
    caplog.set_level(logging.DEBUG, logger="indipyalpaca.face.framestream")
    address, indi_port = servers
    name = "Python CCD Simulator"
    cam = camera(address, name)

    def converted() -> bool:
        return any(r.name == "indipyalpaca.face.framestream" and "is ImageBytes" in r.getMessage()
                   for r in caplog.records)

    with BlobCatcher(indi_port, name, tmp_path / "copy") as catcher:
        cam.StartExposure(0.2, False)
        wait_for(converted, 60, "the face's conversion of the image")
        assert cam.ImageReady is True
        wait_for(lambda: catcher.files, 20, "the catcher's copy")
        expected = fits.getdata(catcher.files[-1])
    assert (np.array(cam.ImageArray).T == expected).all()
    cam.Connected = False
