"""Issue 91 item 4 over TCP, to the real Guider Agent (our server, our mount and guide camera
simulators, the agent in-process), with a PHD2 client: PHD2's pause and its single frames.

- set_paused [true]: the frames go on (AGENT_GUIDER_STATS.FRAME counts them) but no GuideStep
  is said between Paused and Resumed, as PHD2 (``guider.cpp``: a paused frame schedules a
  dead-reckoning move of zero, and ``Mount::MoveOffset`` returns before the GuideStep);
  GuideStep again after Resumed. `phd2client` (PyPI), which sets its state to Guiding on
  every GuideStep, needs Python 3.13 and is not a test dependency here: the client is ours.
- set_paused [true, "full"]: no exposure begins until Resumed (PHD2's PAUSE_FULL), but the
  one under way when it came.
- save_image and capture_single_frame answered as PHD2's ``event_server.cpp``: the frame a
  FITS file, SingleFrameComplete with Success and Path, PHD2's errors and codes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from astropy.io import fits
from guiderkit import AGENT
from guiderkit import CAMERA
from guiderkit import QUICK
from guiderkit import guided_sky
from guiderkit import seed_calibration
from guiderkit import track_at
from peers import free_port
from phd2client import Phd2Client
from waiting import until

import indipyclient
from indipyclient.model import events as ev
from indipycore.protocol import State

SETTLE = {"pixels": 1.5, "time": 2, "timeout": 60}


def frames(client: indipyclient.Client) -> float:
    return float(client.get(AGENT, "AGENT_GUIDER_STATS", "FRAME"))


class Exposures:
    """The guide camera's exposures as a client hears them begin: CCD_EXPOSURE going Busy
    from another state (wall-clock seconds), counted from when the watch began."""

    def __init__(self) -> None:
        self.begun: list[float] = []
        self.busy = False

    def take(self, event: ev.Event) -> bool:
        if (isinstance(event, ev.setVector) and event.devicename == CAMERA
                and event.vectorname == "CCD_EXPOSURE" and event.state is not None):
            if event.state == State.BUSY and not self.busy:
                self.begun.append(time.monotonic())
            self.busy = event.state == State.BUSY
        return False  # keep watching


def between(events: list[dict[str, object]], first: str, last: str) -> list[object]:
    """The names of the events after the last `first` and before the `last` that follows."""
    names = [e["Event"] for e in events]
    start = len(names) - 1 - names[::-1].index(first)
    end = names.index(last, start)
    return names[start + 1:end]


@pytest.mark.timeout(300)
async def test_no_guide_step_between_paused_and_resumed(tmp_path: Path) -> None:
    state = tmp_path / "guider"
    port = free_port()
    async with guided_sky(phd2_port=port, state=str(state)) as (_ours, client):
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        await track_at(client)
        seed_calibration(client, state)
        await until(lambda: float(client.get(AGENT, "AGENT_GUIDER_PHD2", "PORT")) == port,
                    timeout=20)
        async with Phd2Client.connect(port) as phd2:
            reply = await phd2.call("guide", {"settle": SETTLE, "recalibrate": False})
            assert reply["result"] == 0, reply
            done = await phd2.wait_event("SettleDone", 120)
            assert done["Status"] == 0, done
            await phd2.wait_event("GuideStep", 30)

            assert (await phd2.call("set_paused", [True]))["result"] == 0
            await phd2.wait_event("Paused", 10)
            paused_at = frames(client)
            # The frames go on while paused (six of QUICK's 0.5 s).
            await until(lambda: frames(client) >= paused_at + 6, timeout=60,
                        what="guide frames while paused")
            assert (await phd2.call("get_app_state"))["result"] == "Paused"
            assert (await phd2.call("set_paused", [False]))["result"] == 0
            await phd2.wait_event("Resumed", 10)
            await phd2.wait_event("GuideStep", 30)
            assert "GuideStep" not in between(phd2.events, "Paused", "Resumed"), phd2.events
            assert (await phd2.call("get_app_state"))["result"] == "Guiding"

            # A pause "full": the frames stop until Resumed. A type not a string: -32602.
            bad = await phd2.call("set_paused", [True, 1])
            assert bad["error"] == {"code": -32602, "message": "expected string param at index 1"}
            # No exposure begins until Resumed: at most the one the loop had already begun
            # (or was about to) when the pause came, however slow the machine; eight of
            # QUICK's 0.5 s frames' time would see several. Counted by the camera's own
            # CCD_EXPOSURE going Busy, not by quiet seconds (a frame begun before the pause
            # is shown up to seconds later on a loaded machine: a watch for one quiet second
            # took it for a frame after the pause, 2 runs in 8 under load).
            exposures = Exposures()
            with client.waiters.watching(exposures.take):
                reply = await phd2.call("set_paused", {"paused": True, "type": "full"})
                assert reply["result"] == 0
                paused = time.monotonic()
                await phd2.wait_event("Paused", 10)
                await until(lambda: not exposures.busy, timeout=30,
                            what="the exposure begun before the pause ended")
                await asyncio.sleep(4.0)
                stopped_at = frames(client)
                begun_after = [t - paused for t in exposures.begun if t > paused]
                assert len(begun_after) <= 1, f"exposures begun after the pause: {begun_after}"
                assert not exposures.busy
            assert (await phd2.call("set_paused", [False]))["result"] == 0
            await phd2.wait_event("Resumed", 10)
            await phd2.wait_event("GuideStep", 30)
            await until(lambda: frames(client) > stopped_at, timeout=10, what="frames again")
            assert "GuideStep" not in between(phd2.events, "Paused", "Resumed"), phd2.events


@pytest.mark.timeout(300)
async def test_save_image_and_capture_single_frame_answer_as_phd2s(tmp_path: Path) -> None:
    port = free_port()
    async with guided_sky(phd2_port=port) as (_ours, client):
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        await until(lambda: float(client.get(AGENT, "AGENT_GUIDER_PHD2", "PORT")) == port,
                    timeout=20)
        async with Phd2Client.connect(port) as phd2:
            none = await phd2.call("save_image")
            assert none["error"] == {"code": 2, "message": "no image available"}, none
            assert (await phd2.call("set_connected", [True]))["result"] == 0
            taken = tmp_path / "single.fits"
            taken.write_bytes(b"")
            for params, message in (
                    ({"exposure": 0}, "expected exposure param"),
                    ({"binning": 9}, "Invalid binning value (9). Valid choices are: 1, 2, 3, 4"),
                    ({"gain": 101}, "invalid gain value: must be between 0 and 100"),
                    ({"subframe": [0, 0, 10]}, "invalid subframe param"),
                    ({"path": "single.fits"}, "path param must be an absolute path"),
                    ({"path": str(taken)}, "destination file already exists"),
                    ({"path": str(tmp_path / "x.fits"), "save": False},
                     "path param not allowed when save = false")):
                bad = await phd2.call("capture_single_frame", params)
                assert bad["error"] == {"code": -32602, "message": message}, (params, bad)
            taken.unlink()

            # A frame saved where asked: a FITS of the camera's whole frame.
            reply = await phd2.call("capture_single_frame", {"exposure": 200, "path": str(taken)})
            assert reply["result"] == 0, reply
            done = await phd2.wait_event("SingleFrameComplete", 30)
            assert done["Success"] is True and done["Path"] == str(taken), done
            with fits.open(taken) as hdus:
                assert hdus[0].data.shape == (512, 640)

            # Binned 2 and saved where the guider chooses; the camera back at binning 1 after;
            # save_image then writes that frame, the current one.
            reply = await phd2.call("capture_single_frame",
                                   {"exposure": 100, "binning": 2, "save": True})
            assert reply["result"] == 0, reply
            done = await phd2.wait_event("SingleFrameComplete", 30)
            assert done["Success"] is True and Path(done["Path"]).name.startswith("save_image_")
            with fits.open(done["Path"]) as hdus:
                assert hdus[0].data.shape == (256, 320)
            await until(lambda: float(client.get(CAMERA, "CCD_BINNING", "HOR_BIN")) == 1,
                        timeout=10, what="the binning put back")
            saved = (await phd2.call("save_image"))["result"]["filename"]
            assert Path(saved).read_bytes() == Path(done["Path"]).read_bytes()
            for name in (saved, done["Path"]):
                Path(name).unlink()

            # Not while looping (PHD2's code 1).
            assert (await phd2.call("loop"))["result"] == 0
            busy = await phd2.call("capture_single_frame", {"exposure": 100})
            assert busy["error"] == {
                "code": 1, "message": "cannot capture single frame when capture is currently "
                                      "active"}, busy
            assert (await phd2.call("stop_capture"))["result"] == 0
