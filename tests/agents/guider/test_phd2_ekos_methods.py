"""Issue 81 item 3: the methods Ekos 3.6's PHD2 client (kstars/ekos/guide/externalguide/phd2.cpp)
calls by itself once the equipment is connected and at each StartGuiding: get_exposure_durations
and get_dec_guide_mode, and set_dec_guide_mode when its Dec options change. Ekos sends one
request at a time; before, these answered -32601 and Ekos logged "PHD2 Error: unhandled 'method
not found'" (seen by scripts/check-ekos --guide --guider phd2). Over TCP, in PHD2's documented
style (tests/agents/guider/phd2client.py), on the Guider Agent's own methods."""

from __future__ import annotations

from phd2client import Phd2Client

from indipyagents.guider import make_driver
from indipyagents.guider.phd2methods import Phd2Methods
from indipyagents.guider.phd2server import Phd2Server


async def test_ekos_gets_the_exposures_and_the_dec_guide_mode() -> None:
    guider = make_driver("127.0.0.1", 1, phd2_port=0)
    server = Phd2Server(Phd2Methods(guider.session), 0, "127.0.0.1")
    port = await server.start()
    try:
        async with Phd2Client.connect(port) as ekos:
            await ekos.wait_event("AppState", 5)
            durations = (await ekos.call("get_exposure_durations"))["result"]
            assert durations == sorted(durations) and 1000 in durations and 2000 in durations
            assert all(isinstance(ms, int) and ms > 0 for ms in durations)
            assert (await ekos.call("get_dec_guide_mode"))["result"] == "Auto"
            # Ekos sends the mode by position; PHD2 matches it whatever the case
            assert (await ekos.call("set_dec_guide_mode", ["auto"]))["result"] == 0
            assert (await ekos.call("set_dec_guide_mode", {"mode": "Auto"}))["result"] == 0
            # PHD2's errors for these are code 1, and the connection goes on
            north = await ekos.call("set_dec_guide_mode", ["North"])
            assert north["error"]["code"] == 1 and "Auto" in north["error"]["message"]
            bad = await ekos.call("set_dec_guide_mode", ["Sideways"])
            assert bad["error"] == {"code": 1, "message": "invalid dec guide mode param"}
            missing = await ekos.call("set_dec_guide_mode")
            assert missing["error"] == {"code": 1, "message": "expected mode param"}
            assert (await ekos.call("get_dec_guide_mode"))["result"] == "Auto"
    finally:
        await server.close()
