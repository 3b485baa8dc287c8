"""Issue 81 item 3: PHD2's get_star_image (event_server.cpp), which Ekos 3.6 asks after every
GuideStep. The square around the star as pure code (`starimage.star_image`), and the method
over TCP in PHD2's documented style on our server, guide camera and mount simulators: code 2
"no star selected" before a star, -32602 for a size under 15, then the square of a real frame
with the star where star_pos says."""

from __future__ import annotations

import base64
import socket
import struct

import pytest
from guiderkit import field_now
from guiderkit import make_guider
from hypothesis import given
from hypothesis import strategies as st
from phd2client import Phd2Client
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.guider.starimage import FITSError
from indipyagents.guider.starimage import star_image
from indipycore.fits import fits_bytes
from indipysimulators import guidecamera
from indipysimulators import telescope

W, H = 40, 30


def frame(star: tuple[int, int] = (12, 9)) -> tuple[bytes, list[int]]:
    """A 16-bit frame whose pixel value says where it is (x + 100 y), a bright star at `star`."""
    pixels = [x + 100 * y for y in range(H) for x in range(W)]
    pixels[star[1] * W + star[0]] = 60000
    return fits_bytes(W, H, pixels, bitpix=16), pixels


def decoded(result: dict[str, object]) -> list[int]:
    raw = base64.b64decode(str(result["pixels"]))
    return list(struct.unpack(f"<{len(raw) // 2}H", raw))


def test_the_square_is_phd2s() -> None:
    fits, pixels = frame()
    got = star_image(fits, 7, (12.4, 9.2))
    # 15 wide by default, centred on the star's pixel, cut at the frame's top edge (9 - 7 = 2)
    assert {k: got[k] for k in ("frame", "width", "height")} == {
        "frame": 7, "width": 15, "height": 15}
    assert got["star_pos"] == pytest.approx([12.4 - 5, 9.2 - 2])
    values = decoded(got)
    assert len(values) == 15 * 15
    assert values[0] == pixels[2 * W + 5]  # the square's corner is the frame's (5, 2)
    assert values[(9 - 2) * 15 + (12 - 5)] == 60000  # the star where star_pos says
    # 63 at most (PHD2's half width 31), whatever the size asked; cut to the frame
    big = star_image(fits, 7, (12.4, 9.2), size=200)
    assert (big["width"], big["height"]) == (W, H)
    assert decoded(big) == pixels
    # an even size gives the odd square below it, as PHD2's (reqsize - 1) / 2
    assert star_image(fits, 1, (20.0, 15.0), size=16)["width"] == 15


@given(st.floats(-5, W + 5), st.floats(-5, H + 5), st.integers(15, 100))
def test_any_star_and_size_give_a_square_cut_to_the_frame(x: float, y: float, size: int) -> None:
    fits, _ = frame()
    got = star_image(fits, 1, (x, y), size)
    full = 2 * min((size - 1) // 2, 31) + 1
    width, height = int(str(got["width"])), int(str(got["height"]))
    assert 0 <= width <= min(full, W) and 0 <= height <= min(full, H)
    values = decoded(got)
    assert len(values) == width * height
    if values:  # the pixel named by its value is the one at the place star_pos implies
        left, top = values[0] % 100, values[0] // 100
        pos = got["star_pos"]
        assert isinstance(pos, list)
        assert pos == pytest.approx([x - left, y - top])


def test_a_size_under_15_or_a_frame_that_is_not_fits_is_refused() -> None:
    fits, _ = frame()
    with pytest.raises(ValueError):
        star_image(fits, 1, (1.0, 1.0), size=14)
    with pytest.raises(FITSError):
        star_image(b"not a fits file" * 200, 1, (1.0, 1.0))
    with pytest.raises(FITSError):
        star_image(fits[:3000], 1, (1.0, 1.0))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(120)
async def test_ekos_gets_the_guide_star_image_over_tcp() -> None:
    port = free_port()
    guider = make_guider(phd2_port=port, phd2_host="127.0.0.1")
    async with running(server(telescope.make_driver(50.0), guidecamera.make_driver(),
                              guider)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        mount = telescope.DEVICE
        await client.set(mount, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.set(mount, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
        ra, dec = field_now()
        await client.set(mount, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=30)
        await until(lambda: float(client.get("Guider Agent", "AGENT_GUIDER_PHD2", "PORT"))
                    == port, timeout=20)
        async with Phd2Client.connect(port) as ekos:
            await ekos.wait_event("AppState", 10)
            none = await ekos.call("get_star_image", [15])
            assert none["error"] == {"code": 2, "message": "no star selected"}
            small = await ekos.call("get_star_image", [14])
            assert small["error"] == {"code": -32602, "message": "invalid image size param"}
            assert (await ekos.call("set_exposure", [1000]))["result"] == 0
            assert (await ekos.call("loop"))["result"] == 0
            await ekos.wait_event("LoopingExposures", 30)
            await ekos.wait_event("LoopingExposures", 30)  # a second frame: the first measured
            x, y = (await ekos.call("find_star"))["result"]
            got = (await ekos.call("get_star_image", {"size": 31}))["result"]
            assert (got["width"], got["height"]) == (31, 31) and got["frame"] >= 1
            values = decoded(got)
            sx, sy = got["star_pos"]
            assert (sx, sy) == pytest.approx([x - (round(x) - 15), y - (round(y) - 15)], abs=0.01)
            # the brightest pixel of the square is the star's (seeing moves it a pixel or two)
            brightest = max(range(len(values)), key=values.__getitem__)
            assert abs(brightest % 31 - sx) <= 3 and abs(brightest // 31 - sy) <= 3
            assert values[brightest] > 3 * sorted(values)[len(values) // 2]
            assert (await ekos.call("stop_capture"))["result"] == 0
