"""Run the server's end-to-end tests on both event loops a server may get.

``indipyserver`` (the command), ``IPyServer.run`` and ``loop.eventloop.run`` use asyncio on an
`InlineSelector`, which reads client sockets and executable drivers' output itself; a server
started with plain ``asyncio.run`` reads them through asyncio's transports. Every test of a
module in `BOTH_LOOPS` runs once on each; the other tests run on asyncio's default loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from indipyserver.loop.eventloop import new_event_loop

BOTH_LOOPS = {
    "test_acceptance_lifecycle",
    "test_acceptance_robustness",
    "test_acceptance_router_properties",
    "test_acceptance_routing",
    "test_client_direct_write",
    "test_congestion_per_server",
    "test_cutthrough",
    "test_driver_write_through",
    "test_exdriver",
    "test_exdriver_attached_vectors",
    "test_exdriver_blob_buffers",
    "test_exdriver_shared_blobs",
    "test_exdriver_shutdown",
    "test_falling_behind_e2e",
    "test_pipereader",
    "test_read_size",
    "test_remote",
    "test_remote_tls",
    "test_server_e2e",
    "test_tls_bad_input",
    "test_tls_port",
    "test_write_through",
}


#: Modules whose tests run once with each way a client's queue reaches a plain socket: its
#: large pieces gathered into one writev(2), and joined then written (the path of platforms
#: without ``os.writev``, `ClientWriter.GATHER`).
BOTH_WRITES = {
    "test_attachedblobs",
    "test_blob_cut_short",
    "test_client_direct_write",
    "test_cutthrough",
    "test_exdriver_shared_blobs",
    "test_falling_behind_e2e",
    "test_write_through",
}

#: Modules about the server's own loop: their tests run on it alone.
INLINE_ONLY = {"test_remote_inline"}


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Any]:
    module = getattr(item, "module", None)
    name = getattr(module, "__name__", "").rpartition(".")[2]
    if name in INLINE_ONLY:
        return {"inline": new_event_loop}
    if name in BOTH_LOOPS:
        return {"asyncio": asyncio.new_event_loop, "inline": new_event_loop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture(autouse=True)
def _fresh_client_warning_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clients' malformed-XML warnings share one budget per process (`clients.clientconnection`): each test
    starts with a full one, whatever ran before it."""
    from indipycore.logbudget import WarningBudget
    from indipyserver.clients import clientconnection as clients

    monkeypatch.setattr(clients, "_malformed_warnings", WarningBudget())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    name = getattr(metafunc.module, "__name__", "").rpartition(".")[2]
    if name in BOTH_WRITES:
        metafunc.fixturenames.append("client_writes")
        metafunc.parametrize("client_writes", ["writev", "join"], indirect=True)


@pytest.fixture
def client_writes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Clients made in this test gather their queue's pieces into writev(2) or join them."""
    from indipyserver.clients.writer import ClientWriter

    mode: str = request.param
    monkeypatch.setattr(ClientWriter, "GATHER", mode == "writev")
    return mode
