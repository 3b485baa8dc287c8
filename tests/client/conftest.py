"""Fixtures shared by the client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from servers import OurServer


@pytest.fixture
async def thermostat() -> AsyncIterator[int]:
    """Our server with the demo thermostat (no simulators), its port."""
    server = OurServer(simulators=False)
    await server.start()
    try:
        yield server.port
    finally:
        await server.stop()
