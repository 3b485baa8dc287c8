"""`AgentLink` opens one client however many parts ask at once, and `close` leaves no
connection behind (two asking at once, as an agent's parts may at its start, each opened a
client, and the one not kept stayed connected past `close`)."""

from __future__ import annotations

import asyncio

from serverkit import running
from serverkit import server

from indipyagents.link import AgentLink


async def test_clients_asked_at_once_are_one_and_close_ends_its_connection() -> None:
    async with running(server()) as ours:
        link = AgentLink("127.0.0.1", ours.port)
        clients = await asyncio.gather(*(link.client() for _ in range(3)))
        assert all(client is clients[0] for client in clients)
        await link.close()
        assert not any(client.connected for client in clients)

