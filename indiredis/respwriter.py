"""The store's writes to redis on a connection of their own: commands packed and replies read
here, in one round trip a batch.

redis-py spends most of a stored value's cost on its pipeline (about 20 us a command to pack,
as much again to read each reply, measured by ``bench/fleet.py`` under cProfile), while the
store's writes are a handful of simple commands (HSET, SADD, SREM, DEL, SET, RPUSH, XADD,
PUBLISH, EXISTS) whose replies only need to be counted and checked for errors. So they are
written here in RESP (redis's protocol) straight onto an asyncio stream: one ``bytes.join`` a
batch, and each reply read as one line (or a line and its bulk). The connection is opened on
first use (AUTH, SELECT as the host says) and again after any failure; failures are raised as
redis-py's exceptions, so the bridge's retry loop treats them as before: a lost or refused
connection is a ``ConnectionError``, a refused password an ``AuthenticationError``, an error
reply a ``ResponseError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Sequence

from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from .hosts import RedisServer
from .ops import Delete
from .ops import HSet
from .ops import Log
from .ops import Op
from .ops import Publish
from .ops import ReplaceList
from .ops import SAdd
from .ops import SetValue
from .ops import SRem

__all__ = ["RespWriter", "commands_of", "pack"]

Arg = str | bytes
Reply = int | bytes | list["Reply"] | ResponseError | None

_REFUSED = (b"NOAUTH", b"WRONGPASS", b"ERR invalid password", b"ERR AUTH")


def _bulk(arg: Arg) -> bytes:
    data = arg if type(arg) is bytes else arg.encode()  # type: ignore[union-attr]
    return b"$%d\r\n%s\r\n" % (len(data), data)


def pack(commands: Sequence[Sequence[Arg]]) -> bytes:
    """The RESP bytes of ``commands`` (each a sequence of its name and arguments)."""
    parts: list[bytes] = []
    for command in commands:
        parts.append(b"*%d\r\n" % len(command))
        parts.extend(map(_bulk, command))
    return b"".join(parts)


def commands_of(op: Op) -> list[list[Arg]]:
    """The redis commands of one store operation (as redis-py sent them)."""
    kind = type(op)
    if kind is HSet:
        assert isinstance(op, HSet)
        args: list[Arg] = ["HSET", op.key]
        for field, value in op.mapping.items():
            args += (field, value)
        return [args]
    if kind is Publish:
        assert isinstance(op, Publish)
        return [["PUBLISH", op.channel, op.data]]
    if kind is Log:
        assert isinstance(op, Log)
        args = ["XADD", op.key, "MAXLEN", str(op.maxlen), "*"]
        for field, value in op.fields.items():
            args += (field, value)
        return [args]
    if kind is SAdd or kind is SRem:
        assert isinstance(op, (SAdd, SRem))
        return [["SADD" if kind is SAdd else "SREM", op.key, *op.values]]
    if kind is Delete:
        assert isinstance(op, Delete)
        return [["DEL", *op.keys]] if op.keys else []
    if kind is SetValue:
        assert isinstance(op, SetValue)
        return [["SET", op.key, op.value]]
    assert isinstance(op, ReplaceList)
    commands: list[list[Arg]] = [["DEL", op.key]]
    if op.values:
        commands.append(["RPUSH", op.key, *op.values])
    return commands


class RespWriter:
    """One connection to redis for pipelined writes (see the module docstring)."""

    def __init__(self, host: RedisServer, connect_timeout: float = 5.0) -> None:
        self.host = host
        self.connect_timeout = connect_timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host.host, self.host.port, limit=1 << 20),
            self.connect_timeout)
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader, self._writer = reader, writer
        hello: list[list[Arg]] = []
        if self.host.password:
            hello.append(["AUTH", self.host.password])
        if self.host.db:
            hello.append(["SELECT", str(self.host.db)])
        if hello:
            await self._roundtrip(pack(hello), len(hello))
        return reader, writer

    async def run(self, commands: Sequence[Sequence[Arg]]) -> list[Reply]:
        """Send ``commands`` at once and read their replies (the first error reply raised
        after all are read, as redis-py's pipeline does)."""
        return await self.run_packed(pack(commands), len(commands))

    async def run_packed(self, data: bytes, count: int) -> list[Reply]:
        if self._writer is None:
            try:
                await self._connect()
            except (OSError, TimeoutError) as exc:
                self.close()
                raise RedisConnectionError(f"redis {self.host.host}:{self.host.port}: "
                                           f"{exc or type(exc).__name__}") from None
        return await self._roundtrip(data, count)

    async def _roundtrip(self, data: bytes, count: int) -> list[Reply]:
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        try:
            writer.write(data)
            replies = [await self._reply(reader) for _ in range(count)]
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.close()
            raise RedisConnectionError(f"redis {self.host.host}:{self.host.port}: "
                                       f"{exc or type(exc).__name__}") from None
        except BaseException:
            self.close()  # cancelled mid-batch: the replies left unread would be misread
            raise
        for reply in replies:
            if isinstance(reply, ResponseError):
                if str(reply).encode().startswith(_REFUSED):
                    self.close()
                    raise AuthenticationError(str(reply))
                raise reply
        return replies

    async def _reply(self, reader: asyncio.StreamReader) -> Reply:
        line = await reader.readuntil(b"\r\n")
        kind, body = line[:1], line[1:-2]
        if kind == b":":
            return int(body)
        if kind == b"$":
            size = int(body)
            return None if size < 0 else (await reader.readexactly(size + 2))[:-2]
        if kind == b"+":
            return body
        if kind == b"-":
            return ResponseError(body.decode(errors="replace"))
        if kind == b"*":
            size = int(body)
            return None if size < 0 else [await self._reply(reader) for _ in range(size)]
        raise ValueError(f"not a RESP reply: {line[:40]!r}")

    def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
