"""A getProperties right after a command shows what the command did, on our server as on
indilib's indiserver, with indilib's CCD simulator and command-line clients.

Protects: a script's ``indi_setprop ...CCD_EXPOSURE_VALUE=2`` then ``indi_eval -w
'..._STATE==1'`` waits for the exposure (indiserver passes getProperties to the driver behind
the command; our router's cache, which answers getProperties otherwise, still holds the state
from before it, `indipyserver.routing.pendingcommands`).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import IndiServer
from peers import find_binary
from peers import getprop
from peers import hello
from peers import indi_eval
from peers import new_number
from peers import setprop
from serverkit import running

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.retrypolicy import ExponentialBackoff
from indipyserver.server import IPyServer

CCD = "CCD Simulator"
EXPOSURE = f"{CCD}.CCD_EXPOSURE"
NEW_EXPOSURE = new_number(CCD, "CCD_EXPOSURE", "CCD_EXPOSURE_VALUE", 2)


@pytest.fixture
async def ours(tmp_home: Path) -> AsyncIterator[int]:
    find_binary("indi_simulator_ccd")
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    server.add_exdriver("indi_simulator_ccd", backoff=ExponentialBackoff(0.2, 30.0))
    async with running(server):
        yield server.port


async def connected_ccd(port: int) -> None:
    """The CCD connected and idle, as a user's script finds it."""
    result = await asyncio.to_thread(setprop, port, f"{CCD}.CONNECTION.CONNECT=On", timeout=5)
    assert result.returncode == 0, result.describe()
    ok = await asyncio.to_thread(indi_eval, port, f'"{CCD}.CONNECTION.CONNECT"==1', timeout=10)
    assert ok.returncode == 0, ok.describe()
    ready = await asyncio.to_thread(indi_eval, port, f'"{EXPOSURE}._STATE"!=2', timeout=10)
    assert ready.returncode == 0, ready.describe()


def first_exposure_definition(port: int, request: bytes, timeout: float = 5.0) -> Frame:
    """Send `request` on one new connection; the first defNumberVector of CCD_EXPOSURE back."""
    framer = Framer()
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        while time.monotonic() < deadline:
            data = sock.recv(1 << 16)
            assert data, "the server closed the connection"
            for frame in framer.feed(data):
                if (isinstance(frame, Frame) and frame.tag == "defNumberVector"
                        and frame.attrs.get("name") == "CCD_EXPOSURE"):
                    return frame
    pytest.fail(f"no defNumberVector of CCD_EXPOSURE within {timeout} s")


async def check_answers_follow_the_command(port: int, across_clients: bool = True) -> None:
    await connected_ccd(port)
    # The command and the request on one connection, in one write: the answer must be Busy.
    answer = await asyncio.to_thread(
        first_exposure_definition,
        port,
        NEW_EXPOSURE + hello(device=CCD),
    )
    assert answer.attrs.get("state") == "Busy", answer.data[:300]
    done = await asyncio.to_thread(indi_eval, port, f'"{EXPOSURE}._STATE"==1', timeout=10)
    assert done.returncode == 0, done.describe()
    if not across_clients:
        return

    # The user's script: set, then wait for the exposure to finish.
    sent = await asyncio.to_thread(setprop, port, f"{EXPOSURE}.CCD_EXPOSURE_VALUE=2")
    assert sent.returncode == 0, sent.describe()
    waited = await asyncio.to_thread(indi_eval, port, f'"{EXPOSURE}._STATE"==1', timeout=10)
    assert waited.returncode == 0, waited.describe()
    # A stale answer (the Ok from before the command) returns while the 2 s exposure is still
    # Busy; asked after indi_eval returned, the exposure must be over.
    after = await asyncio.to_thread(getprop, port, f"{EXPOSURE}._STATE")
    assert after.get(f"{EXPOSURE}._STATE") == "Ok", (after, waited.describe())


async def test_our_server_answers_getproperties_behind_a_command(ours: int) -> None:
    await check_answers_follow_the_command(ours)


async def test_indiserver_answers_getproperties_behind_a_command(
    indiserver_factory: Callable[..., IndiServer],
) -> None:
    """The reference behaviour the test above holds us to, on one connection. Across two
    clients (indi_setprop, then indi_eval) indiserver promises no order: in one CI run under
    load its driver answered indi_eval's getProperties with the Ok from before indi_setprop's
    command, so that part is held to our server alone (the test above)."""
    server = indiserver_factory("indi_simulator_ccd")
    await check_answers_follow_the_command(server.port, across_clients=False)
