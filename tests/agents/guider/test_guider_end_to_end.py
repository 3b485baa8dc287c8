"""Issue 81 items 2, 3 and 5 end to end: our server with our mount (15" of periodic error over
60 s, 3"/min of drift in Dec) and guide camera simulators and the Guider Agent in-process; a
PHD2 client of our own over TCP: connect (Version, AppState), guide with settle (calibrating
first), SettleDone, dither, SettleDone, bad lines answered with PHD2's codes while guiding goes
on, stop_capture. Where the mount truly points (EQUATORIAL_PE) stays much nearer the lock
guided than unguided."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from guiderkit import CAMERA
from guiderkit import FIELD
from guiderkit import QUICK_CALIBRATION
from guiderkit import field_now
from guiderkit import guided_sky
from peers import free_port
from phd2client import Phd2Client
from waiting import until

import indipyclient
from indipysimulators import telescope


async def spread(client: indipyclient.Client, seconds: float) -> float:
    """The RMS (arcsec) of the true pointing about its mean over `seconds`."""
    mount = telescope.DEVICE
    points = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ra = float(client.get(mount, "EQUATORIAL_PE", "RA_PE")) * 15 * 3600
        dec = float(client.get(mount, "EQUATORIAL_PE", "DEC_PE")) * 3600
        points.append((ra * math.cos(math.radians(FIELD[1])), dec))
        await asyncio.sleep(0.25)
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    return math.sqrt(sum((p[0] - mx) ** 2 + (p[1] - my) ** 2 for p in points) / len(points))


@pytest.mark.timeout(600)
async def test_a_phd2_client_guides_dithers_and_stops() -> None:
    port = free_port()
    async with guided_sky(phd2_port=port) as (_ours, client):
        mount = telescope.DEVICE
        await client.set(mount, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
        ra, dec = field_now()
        await client.set(mount, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=30)
        await client.set(mount, "SIM_PE", {"AMPLITUDE": 15.0, "PERIOD": 60.0}, timeout=10)
        await client.set(mount, "SIM_DRIFT", {"DEC": 3.0}, timeout=10)
        await until(lambda: float(client.get("Guider Agent", "AGENT_GUIDER_PHD2", "PORT"))
                    == port, timeout=20)
        # QUICK's calibration (its 0.5 s frames are set through PHD2 below): the same
        # calibration in less wall time (issue 90 item 6).
        await client.set("Guider Agent", "AGENT_GUIDER_SETTINGS", QUICK_CALIBRATION,
                         timeout=10)

        async with Phd2Client.connect(port) as phd2:
            version = await phd2.wait_event("Version", 10)
            assert version["MsgVersion"] == 1 and {"Timestamp", "Host", "Inst"} <= set(version)
            assert (await phd2.wait_event("AppState", 10))["State"] == "Stopped"
            assert (await phd2.call("get_app_state"))["result"] == "Stopped"
            # Guide frames of 0.5 s (PHD2's 500 ms choice): a quicker calibration.
            assert (await phd2.call("set_exposure", {"exposure": 500}))["result"] == 0
            assert (await phd2.call("get_exposure", nina=True))["result"] == 500
            assert (await phd2.call("set_connected", [True]))["result"] == 0
            assert (await phd2.call("get_connected"))["result"] is True
            assert (await phd2.call("get_calibrated"))["result"] is False
            scale = (await phd2.call("get_pixel_scale"))["result"]
            assert math.isclose(scale, 2.494, abs_tol=0.01)
            # PHD2's scale is the binned frame's (its GuideStep pixels are those): twice it
            # binned 2 (issue 93 item 1: the frames' GUIDERMS in arcseconds)
            await client.set(CAMERA, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2}, timeout=10)
            binned = (await phd2.call("get_pixel_scale"))["result"]
            assert math.isclose(binned, 2 * scale, rel_tol=1e-6), (binned, scale)
            await client.set(CAMERA, "CCD_BINNING", {"HOR_BIN": 1, "VER_BIN": 1}, timeout=10)

            # Settles of 2 s (four 0.5 s frames within 1.5 px): SettleDone's status is the
            # proof, which 5 s proved no better (issue 90 item 6).
            reply = await phd2.call("guide", {"settle": {"pixels": 1.5, "time": 2, "timeout": 90},
                                              "recalibrate": False}, nina=True)
            assert reply["result"] == 0, reply
            started = time.monotonic()
            await phd2.wait_event("StartCalibration", 30)
            calibrating = await phd2.wait_event("Calibrating", 30)
            assert {"Mount", "dir", "dist", "dx", "dy", "pos", "step", "State"} <= set(calibrating)
            await phd2.wait_event("CalibrationComplete", 180)
            calibration_seconds = time.monotonic() - started
            await phd2.wait_event("StartGuiding", 10)
            await phd2.wait_event("SettleBegin", 10)
            done = await phd2.wait_event("SettleDone", 120)
            assert done["Status"] == 0, done
            step = await phd2.wait_event("GuideStep", 20)
            assert {"Frame", "Time", "Mount", "dx", "dy", "RADistanceRaw", "DECDistanceRaw",
                    "RADistanceGuide", "DECDistanceGuide", "StarMass", "SNR", "HFD",
                    "AvgDist"} <= set(step)
            assert (await phd2.call("get_app_state"))["result"] == "Guiding"
            assert calibration_seconds < 120, calibration_seconds

            # Bad input: answered with PHD2's codes, and guiding goes on.
            await phd2.send_raw(b"this is not json\r\n")
            assert (await phd2.reply(None))["error"]["code"] == -32700
            assert (await phd2.call("no_such_method"))["error"]["code"] == -32601
            bad = await phd2.call("guide", {"settle": {"pixels": 1.5}})
            assert bad["error"] == {"code": -32602, "message": "invalid settle params"}
            assert (await phd2.call("dither", {"amount": 3}))["error"]["code"] == -32602
            await phd2.wait_event("GuideStep", 20)

            guided = await spread(client, 30.0)

            reply = await phd2.call("dither", {"amount": 3, "raOnly": False,
                                               "settle": {"pixels": 1.5, "time": 2,
                                                          "timeout": 90}})
            assert reply["result"] == 0, reply
            dithered = await phd2.wait_event("GuidingDithered", 10)
            # Up to 3 px along each calibrated axis (as PHD2): at most 3 * sqrt(2) on the
            # sensor when the axes are square to each other, a little more when the calibration
            # found them a few degrees off square (seen: 4.28 px).
            axes = (await phd2.call("get_calibration_data", {"which": "Mount"}))["result"]
            skew = abs(math.cos(math.radians(axes["xAngle"] - axes["yAngle"]))) + 0.01
            assert 0 < math.hypot(dithered["dx"], dithered["dy"]) <= 3 * math.sqrt(2 + 2 * skew)
            done = await phd2.wait_event("SettleDone", 120)
            assert done["Status"] == 0, done
            assert float(client.get("Guider Agent", "AGENT_GUIDER_STATS", "RMSE_RA")) < 2.0

            assert (await phd2.call("stop_capture"))["result"] == 0
            await phd2.wait_event("GuidingStopped", 10)
            await until(lambda: client.get("Guider Agent", "AGENT_GUIDER_STATE", "STATE")
                        == "Stopped", timeout=30)
            # One whole period of the periodic error: over half of one, the unguided RMS hangs
            # on the phase the window starts at (4.25" in a CI run, 10.6" over a period).
            unguided = await spread(client, 60.0)
            print(f"calibration {calibration_seconds:.0f} s, true pointing RMS guided "
                  f"{guided:.2f}\", unguided {unguided:.2f}\"")
            assert guided < unguided / 3, (guided, unguided)
