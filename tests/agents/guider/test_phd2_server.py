"""Issue 81 items 3 and 5, the transport: indipyagents.guider.phd2server over real TCP.
Several clients get Version, the catch-up events and AppState on connect, and every event;
a client that connects and never reads is dropped when its bounded queue fills, and the
others get every event without waiting for it; a bad line and a method that fails answer
with PHD2's codes and the connection goes on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from phd2client import Phd2Client
from waiting import until

from indipyagents.guider.events import CalibrationComplete
from indipyagents.guider.events import GuideEvent
from indipyagents.guider.events import GuideStep
from indipyagents.guider.events import StartGuiding
from indipyagents.guider.phd2server import OperationFailed
from indipyagents.guider.phd2server import Phd2Server
from indipyagents.guider.phd2wire import InvalidParams


class Handler:
    """The guider's side, as small as the transport needs: one method that works, one that
    fails, one with bad params."""

    async def call(self, method: str, params: list[Any] | dict[str, Any] | None) -> Any:
        if method == "get_app_state":
            return "Guiding"
        if method == "loop":
            raise OperationFailed("could not start looping")
        if method == "set_exposure":
            raise InvalidParams("expected exposure param")
        if method == "boom":
            raise RuntimeError("a bug")
        from indipyagents.guider.phd2server import MethodNotFound

        raise MethodNotFound(method)

    def catchup(self) -> list[GuideEvent]:
        return [CalibrationComplete(mount="Python Mount"), StartGuiding()]

    def app_state(self) -> str:
        return "Guiding"


async def test_clients_get_the_catchup_and_a_silent_one_is_dropped() -> None:
    server = Phd2Server(Handler(), 0, "127.0.0.1", queue_size=64)
    port = await server.start()
    silent: asyncio.StreamWriter | None = None
    try:
        async with Phd2Client.connect(port) as first:
            names = [(await first.wait_event(name, 5))["Event"]
                     for name in ("Version", "CalibrationComplete", "StartGuiding", "AppState")]
            assert names == ["Version", "CalibrationComplete", "StartGuiding", "AppState"]
            # A client that never reads, with a tiny receive buffer.
            _, silent = await asyncio.open_connection("127.0.0.1", port)
            async with Phd2Client.connect(port) as second:
                await second.wait_event("AppState", 5)
                await until(lambda: len(server.clients) == 3, timeout=5)
                big = "x" * 4000  # a long mount name: a big event

                async def read_all(client: Phd2Client) -> None:
                    while not any(e.get("Frame") == 2999 for e in client.events[-3:]):
                        await client._read_one()

                readers = [asyncio.create_task(read_all(client)) for client in (first, second)]
                for number in range(3000):
                    server.publish(GuideStep(
                        frame=number, time=0.0, mount=big, dx=0.0, dy=0.0, ra_distance_raw=0.0,
                        dec_distance_raw=0.0, ra_distance_guide=0.0, dec_distance_guide=0.0,
                        star_mass=1000, snr=50.0, hfd=2.0, avg_dist=0.0))
                    if number % 20 == 0:
                        await asyncio.sleep(0.001)  # the writers and the readers run
                await until(lambda: len(server.clients) == 2, timeout=10)  # the silent one went
                async with asyncio.timeout(30):
                    await asyncio.gather(*readers)
                # Every event, in order, to the clients that read.
                for client in (first, second):
                    frames = [e["Frame"] for e in client.events if e["Event"] == "GuideStep"]
                    assert frames == list(range(3000))
                # The others answer as before, bad lines included.
                assert (await first.call("get_app_state"))["result"] == "Guiding"
                await first.send_raw(b"{not json\r\n")
                assert (await first.reply(None))["error"]["code"] == -32700
                assert (await first.call("loop"))["error"] == {
                    "code": 1, "message": "could not start looping"}
                assert (await first.call("set_exposure", [0]))["error"]["code"] == -32602
                assert (await first.call("boom"))["error"]["code"] == 1
                assert (await second.call("nothing", nina=True))["error"]["code"] == -32601
                batch = b'[{"method":"get_app_state","id":1},{"method":"loop"},{"id":2}]\r\n'
                await second.send_raw(batch)
                line = await second.reader.readline()
                while b'"Event"' in line:
                    line = await second.reader.readline()
                replies = json.loads(line)
                assert [r.get("result", r.get("error", {}).get("code")) for r in replies] \
                    == ["Guiding", -32600]
    finally:
        if silent is not None:
            silent.close()
        await server.close()
