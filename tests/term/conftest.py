"""Fixtures for indipyterm's tests: our server with the Kit driver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from discoverykit import avahi  # noqa: F401  (re-exported as a fixture: servers found)
from discoverykit import demo  # noqa: F401  (re-exported as a fixture: a server to find)
from kitdriver import KitDriver
from serverkit import running

from indipyserver import IPyServer


@pytest.fixture
async def kit() -> AsyncIterator[tuple[IPyServer, KitDriver]]:
    """Our server on a free port serving the Kit and Weather devices."""
    driver = KitDriver()
    server = IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)
    async with running(server):
        yield server, driver
