"""``set`` may follow ``connect()`` at once: it waits, bounded, for the vector's definition.

Protects issue 43 item 7: a program that connects and at once sets a vector used to get
``UnknownVector`` because the server's definitions had not arrived yet. Now ``set`` waits for
the definition (at most its ``timeout``) and only then raises ``UnknownVector``, whose message
says what was waited for and how long. Against real servers (ours and indilib's indiserver,
each serving the demo thermostat and indilib's simulators), no sleeps.
"""

from __future__ import annotations

import pytest
from servers import CCD
from servers import THERMOSTAT
from servers import RealServer

import indipyclient

pytestmark = pytest.mark.interop


async def test_set_right_after_connect_waits_for_the_definition(real_server: RealServer) -> None:
    """connect() then set(wait=True) at once: the driver's Ok comes back, nothing raised; the
    vector was not known when set was called (so the wait was needed)."""
    async with indipyclient.connect("127.0.0.1", real_server.port) as client:
        assert client.model.vector(THERMOSTAT, "TARGET") is None  # definitions not here yet
        result = await client.set(THERMOSTAT, "TARGET", {"TARGET": 21.5}, wait=True)
        assert result.ok, result
        assert client.get(THERMOSTAT, "TARGET", "TARGET") == 21.5
    async with indipyclient.connect("127.0.0.1", real_server.port) as client:
        # A simulator's switch, likewise at once (indilib's driver through the server).
        result = await client.set(CCD, "CONNECTION", {"CONNECT": "On"}, wait=True, timeout=15)
        assert result.ok, result


async def test_an_undefined_vector_is_unknown_after_the_bound(real_server: RealServer) -> None:
    """A vector the server never defines: UnknownVector once the timeout has passed, saying
    which vector, which server and how long it waited; the client goes on working."""
    async with indipyclient.connect("127.0.0.1", real_server.port) as client:
        with pytest.raises(indipyclient.UnknownVector) as caught:
            await client.set(THERMOSTAT, "NO_SUCH_VECTOR", {"X": 1}, timeout=1)
        text = str(caught.value)
        assert f"{THERMOSTAT}.NO_SUCH_VECTOR" in text
        assert f"127.0.0.1:{real_server.port}" in text and "within 1 s" in text
        with pytest.raises(indipyclient.UnknownVector, match="no such device"):
            await client.set("Nobody", "TARGET", {"TARGET": 1}, timeout=0.5)
        result = await client.set(THERMOSTAT, "TARGET", {"TARGET": 20}, wait=True)
        assert result.ok, result
