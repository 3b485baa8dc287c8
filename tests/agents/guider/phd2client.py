"""A small PHD2 client in PHD2's documented style (JSON-RPC 2.0 lines over TCP, events read
as they come), the way NINA and Ekos talk to PHD2: a method call waits for the reply with its
id while events pile up; `wait_event` waits for one by name. `connect` is a context: the
connection is closed when the block ends, a failing test's too (else its socket is collected in
a later test, a ResourceWarning failing that one)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any


class Phd2Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.events: list[dict[str, Any]] = []
        self.replies: dict[Any, dict[str, Any]] = {}
        self.next_id = 1
        self.seen = 0  # events already handed out by wait_event

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, port: int) -> AsyncIterator[Phd2Client]:
        """A client of 127.0.0.1:`port` for the block, closed when it ends however it ends."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        try:
            yield client
        finally:
            await client.close()

    async def close(self) -> None:
        """Closed (again: no harm); a peer already gone is no error here."""
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def _read_one(self) -> None:
        line = await self.reader.readline()
        if not line:
            raise ConnectionError("the guider closed the connection")
        assert line.endswith(b"\r\n"), line
        message = json.loads(line)
        if isinstance(message, dict) and "Event" in message:
            self.events.append(message)
        elif isinstance(message, dict):
            self.replies[message.get("id")] = message
        else:
            for reply in message:
                self.replies[reply.get("id")] = reply

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self, id: Any, timeout: float = 30) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while id not in self.replies:
                await self._read_one()
        return self.replies.pop(id)

    async def call(self, method: str, params: Any = None, *, nina: bool = False,
                   timeout: float = 30) -> dict[str, Any]:
        """The reply; Ekos's style ("jsonrpc", integer ids) or NINA's (string ids)."""
        id: Any = self.next_id if not nina else f"nina-{self.next_id}"
        self.next_id += 1
        request: dict[str, Any] = {"method": method, "id": id}
        if not nina:
            request["jsonrpc"] = "2.0"
        if params is not None:
            request["params"] = params
        await self.send_raw(json.dumps(request).encode() + b"\r\n")
        return await self.reply(id, timeout)

    async def wait_event(self, name: str, timeout: float) -> dict[str, Any]:
        """The next event `name` after those already handed out."""
        return await self.wait_any((name,), timeout)

    async def wait_any(self, names: tuple[str, ...], timeout: float) -> dict[str, Any]:
        """The next event of one of `names` after those already handed out."""
        async with asyncio.timeout(timeout):
            while True:
                for index in range(self.seen, len(self.events)):
                    if self.events[index]["Event"] in names:
                        self.seen = index + 1
                        return self.events[index]
                await self._read_one()
