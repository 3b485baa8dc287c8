"""`AlpacaDriver`: an Alpaca server's devices as one `IPyDriver`; `AlpacaPeer` serves it.

`make_driver(spec)` asks the server which devices it has (the management API, or the
devices `spec` names) and what each is (a focuser's MaxStep, a wheel's names, a camera's
sensor...), and builds one INDI device per Alpaca device from the standard roles. The
driver's `hardware` watches the server at POLLING_PERIOD: one GET per round; while it
answers, each connected device's `refresh` runs; when it stops answering, every device's
CONNECTION goes Alert with the reason, and the watch is retried with the project's retry
policy (`indipycore.retrypolicy`) until it answers again, when the connected devices are
connected on it again and CONNECTION is Ok.

`AlpacaPeer` is what the server runs in its loop (an in-process peer): it builds the driver
once the Alpaca server answers (retried the same way; nothing is served meanwhile), then
serves it. A management API that lists no device yet (a server still starting, our own face
before its INDI server's devices are known) is asked again the same way.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any

from indipyalpaca.wire import ErrorNumber
from indipycore.links import Link
from indipycore.retrypolicy import Attempts
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import Retry
from indipycore.retrypolicy import RunEnded
from indipydriver import IPyDriver

from .client import AlpacaClient
from .client import AlpacaError
from .client import AlpacaProtocolError
from .part import DEVICE_TYPES
from .part import PARTS
from .part import AlpacaPart
from .spec import AlpacaSpec

__all__ = ["AlpacaDriver", "AlpacaPeer", "NothingListed", "describe", "make_driver"]

logger = logging.getLogger(__name__)

#: How an unanswering Alpaca server is retried: soon at first, then every 4 s at most.
RETRY = Retry(ExponentialBackoff(initial=0.5, cap=4.0))


class NothingListed(AlpacaProtocolError):
    """The management API lists no device (of a type this bridge takes) yet: a server that
    is starting may list them a moment later, so it is asked again, not given up on."""


async def _listed(client: AlpacaClient) -> list[tuple[str, int]]:
    """The devices the management API lists, of the types this bridge takes."""
    try:
        listed = await client.management("v1/configureddevices")
    except AlpacaProtocolError as exc:
        raise AlpacaProtocolError(
            f"{client.base_url} has no management API ({exc}): name its devices, "
            "alpaca://HOST:PORT/camera/0,focuser/0") from exc
    if not isinstance(listed, list):
        raise AlpacaProtocolError(f"{client.base_url}: configureddevices is not a list")
    devices = []
    for entry in listed:
        try:
            kind, number = str(entry["DeviceType"]).lower(), int(entry["DeviceNumber"])
        except (KeyError, TypeError, ValueError):
            logger.warning("%s lists a device it does not describe: %r", client.base_url, entry)
            continue
        if kind in DEVICE_TYPES:
            devices.append((kind, number))
        else:
            logger.info("%s: %s/%d is not a device type this bridge takes",
                        client.base_url, kind, number)
    if not devices:
        raise NothingListed(f"{client.base_url} lists no device this bridge takes (yet)")
    return devices


async def describe(client: AlpacaClient, kind: str, number: int, name: str) -> AlpacaPart:
    """The part for one Alpaca device, read from it (ValueError for a type not taken)."""
    if kind not in PARTS:
        raise ValueError(f"Alpaca device type {kind!r} is not supported")
    module, cls = PARTS[kind]
    part: type[Any] = getattr(importlib.import_module(f".{module}", __package__), cls)
    described: AlpacaPart = await part.describe(client, number, name)
    return described


async def _describe_connected(client: AlpacaClient, kind: str, number: int, name: str
                              ) -> AlpacaPart:
    """`describe`, connecting the Alpaca device for the while when it answers NotConnected
    (a conformant device gives its facts, MaxStep or filter names, only when connected;
    alpaca-simulators gives them anyway): it is left as it was found, disconnected."""
    try:
        return await describe(client, kind, number, name)
    except AlpacaError as exc:
        if exc.number != ErrorNumber.NOT_CONNECTED:
            raise
    path = f"{kind}/{number}"
    await client.put(path, "connected", Connected=True)
    try:
        for _ in range(100):  # 20 s at most: Connected may take a moment (Platform 7)
            if await client.get(path, "connected") is True:
                break
            await asyncio.sleep(0.2)
        return await describe(client, kind, number, name)
    finally:
        await client.put(path, "connected", Connected=False)


async def make_driver(spec: AlpacaSpec, client: AlpacaClient | None = None) -> AlpacaDriver:
    """The driver for `spec`'s devices, read from the Alpaca server now (AlpacaUnreachable
    when it does not answer). A device that cannot be described (an error of its own) is
    left out with a warning; the others are served. NothingListed when the management API
    lists no device yet."""
    client = client or AlpacaClient(spec.base_url)
    devices = list(spec.devices) if spec.devices is not None else await _listed(client)
    parts: list[AlpacaPart] = []
    names: set[str] = set()
    for kind, number in devices:
        path = f"{kind}/{number}"
        try:
            name = str(await client.get(path, "name")).strip() or f"Alpaca {path}"
            unique, n = name, 2
            while unique in names:  # INDI device names must differ; Alpaca ones need not
                unique, n = f"{name} {n}", n + 1
            parts.append(await _describe_connected(client, kind, number, unique))
            names.add(unique)
        except (AlpacaError, AlpacaProtocolError, ValueError, TypeError) as exc:
            logger.warning("%s %s is left out: %s", spec, path, exc)
    if not parts:
        raise AlpacaProtocolError(f"{spec}: no device to serve")
    return AlpacaDriver(spec, client, parts)


class AlpacaDriver(IPyDriver):
    """The INDI devices of one Alpaca server (`parts`), and the watch on that server."""

    def __init__(self, spec: AlpacaSpec, client: AlpacaClient, parts: list[AlpacaPart],
                 retry: Retry = RETRY) -> None:
        super().__init__(*(part.device for part in parts))
        self.spec = spec
        self.client = client
        self.parts = parts
        self.retry = retry
        self.lost: str | None = None  # why the server is lost, None while it answers

    @property
    def period(self) -> float:
        """The shortest POLLING_PERIOD of the devices (at least 0.1 s)."""
        return max(0.1, min(part.polling_seconds for part in self.parts))

    async def hardware(self) -> None:
        attempts = self.retry.attempts()
        # No answer, and an answer that is not Alpaca's (another program took the port, a
        # proxy's error page), are both a lost server: Alert, retried.
        await self.retry.call_with_retry(lambda: self._watch(attempts), self._lost,
                                         errors=(OSError, RunEnded, AlpacaProtocolError),
                                         attempts=attempts, log=self._log_retry)

    def _log_retry(self, error: BaseException, delay: float) -> None:
        logger.info("%s: %s; retrying in %.1f s", self.spec, error, delay)

    async def _watch(self, attempts: Attempts) -> None:
        first = self.parts[0]
        while True:
            try:  # AlpacaUnreachable or garbage: lost (`_lost`, then retried)
                await first.get("connected")
            except AlpacaError:
                pass  # an Alpaca error is an answer: the server is there
            if self.lost is not None:
                await self._found()
            attempts.succeeded()
            for part in self.parts:
                if part.connected:
                    await part.guarded_refresh()
            await asyncio.sleep(self.period)

    async def _lost(self, error: BaseException) -> None:
        """Said once a way of being lost: again only when that changes (the server gone,
        then something that is not Alpaca on its port), not at every retry."""
        what = "answers no Alpaca" if isinstance(error, AlpacaProtocolError) else \
            "stopped answering"
        if self.lost == what:
            return
        self.lost = what
        logger.warning("%s %s: %s", self.spec, what, error)
        for part in self.parts:
            vector = part.device["CONNECTION"]
            await vector.send_setVector(
                state="Alert", message=f"The Alpaca server {what}: {error}"[:250])

    async def _found(self) -> None:
        """The server answers again: the connected devices are connected on it again."""
        self.lost = None
        logger.info("%s answers again", self.spec)
        for part in self.parts:
            vector = part.device["CONNECTION"]
            if not part.connected:
                await vector.send_setVector(state="Idle", message="The Alpaca server answers again")
                continue
            try:
                await part.connect()
            except (AlpacaError, AlpacaProtocolError, RuntimeError) as exc:
                await vector.send_setVector(state="Alert",
                                            message=f"Reconnecting failed: {exc}"[:250])
            else:
                await vector.send_setVector(state="Ok", message="The Alpaca server answers again")

    async def serve(self, link: Link) -> None:
        try:
            await super().serve(link)
        finally:
            await self.client.aclose()


class AlpacaPeer:
    """An Alpaca server's devices as the INDI server runs them in its own loop (an
    in-process peer): the driver is built once the server answers, then served."""

    def __init__(self, spec: AlpacaSpec, retry: Retry = RETRY) -> None:
        self.spec = spec
        self.retry = retry
        self.driver: AlpacaDriver | None = None

    def __repr__(self) -> str:
        return f"<AlpacaPeer {self.spec}>"

    async def serve(self, link: Any) -> None:
        client = AlpacaClient(self.spec.base_url)
        try:
            self.driver = await self.retry.call_with_retry(
                lambda: make_driver(self.spec, client), log=self._log_retry,
                errors=(OSError, RunEnded, NothingListed))
        except AlpacaProtocolError as exc:  # it answers, but not with devices to serve
            logger.error("%s is not served: %s", self.spec, exc)
            await client.aclose()
            return
        except BaseException:
            await client.aclose()
            raise
        await self.driver.serve(link)

    def _log_retry(self, error: BaseException, delay: float) -> None:
        logger.warning("%s: %s; retrying in %.1f s", self.spec, error, delay)
