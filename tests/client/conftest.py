"""Fixtures shared by the client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from servers import IndilibServer
from servers import InProcessServer
from servers import RealServer


@pytest.fixture
async def thermostat() -> AsyncIterator[int]:
    """Our server with the demo thermostat (no simulators), its port."""
    server = InProcessServer(simulators=False)
    await server.start()
    try:
        yield server.port
    finally:
        await server.stop()


@pytest.fixture(params=["ours", "indiserver"])
async def real_server(request: pytest.FixtureRequest, tmp_home: Path,
                      tmp_path: Path) -> AsyncIterator[RealServer]:
    """Each real server in turn, ours and indilib's, with the thermostat and both simulators."""
    served: RealServer = (InProcessServer() if request.param == "ours"
                          else IndilibServer(tmp_path / "indiserver"))
    await served.start()
    try:
        yield served
    finally:
        await served.stop()
