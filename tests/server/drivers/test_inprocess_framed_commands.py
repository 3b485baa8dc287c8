"""The router hands an in-process driver the elements it framed, not their bytes to frame again.

A client's new vector reaches an in-process driver as the very `Frame` the client's connection
read (`InProcessDriverConnection.send_frame` -> `read_frames`); what the router writes itself
(a getProperties) comes as the `Frame` it made, with the attributes a framer would read; the
order of the two is kept; a driver that does not
read still has its queue bounded; and a real `IPyDriver` behind a server gets a client's
command through that path.
"""

from __future__ import annotations

import logging

import pytest
from serverdoubles import RecordingClient
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipydriver import IPyDriver
from indipyserver import IPyServer
from indipyserver.drivers.inprocess import InProcessDriverConnection
from indipyserver.routing.router import Router

DEF = (b'<defNumberVector device="D" name="N" state="Idle" perm="rw"><defNumber name="v" '
       b'format="%g" min="0" max="9" step="1">1</defNumber></defNumberVector>')
NEW = b'<newNumberVector device="D" name="N"><oneNumber name="v">2</oneNumber></newNumberVector>'


def frame(data: bytes) -> Frame:
    (one,) = Framer().feed(data)
    assert isinstance(one, Frame)
    return one


async def test_a_clients_command_reaches_the_driver_as_the_frame_the_router_read() -> None:
    router = Router()
    conn = InProcessDriverConnection(IPyDriver())
    router.driver_ready(conn)  # the router asks it for its properties: a frame of its own
    router.driver_frames(conn, [frame(DEF)])
    client = RecordingClient()
    router.add_client(client)
    command = frame(NEW)
    router.client_frames(client, [command])
    got = await conn.read_frames()
    assert [f.tag for f in got] == ["getProperties", "newNumberVector"]
    assert got[1] is command  # not framed again
    assert got[0].data == b'<getProperties version="1.7"/>\n'
    assert got[0].attrs == frame(got[0].data).attrs == {"version": "1.7"}
    assert conn.queued_bytes == 0


async def test_a_driver_that_does_not_read_has_its_queue_bounded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    conn = InProcessDriverConnection(IPyDriver())
    conn.max_queue_bytes = len(NEW) * 2
    command = frame(NEW)
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            conn.send_frame(command)
        got = await conn.read_frames()
    assert got == [command, command]
    assert "not reading its input fast enough" in caplog.text
    assert "3 messages were dropped" in caplog.text


async def test_a_driver_in_a_server_gets_a_clients_command() -> None:
    async with running(IPyServer(make_gadget(), port=0)) as server:
        client = await RawClient.connect(server.port)
        await client.send('<getProperties version="1.7"/>')
        await client.wait_for("defNumberVector")
        await client.send('<newNumberVector device="Gadget" name="VALUE">'
                          '<oneNumber name="V">5</oneNumber></newNumberVector>')
        echoed = await client.wait_for("setNumberVector", name="VALUE")
    assert b">5</oneNumber>" in echoed.data  # the Gadget sets what it was sent
