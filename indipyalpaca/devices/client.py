"""`AlpacaClient`: one Alpaca server's device API over HTTP (httpx), as the bridge calls it.

Every call has a bounded time (`timeout`; the image download `image_timeout`), sends
``ClientID`` and a counted ``ClientTransactionID`` with exactly the casing the reference gives
(alpaca-simulators reads GET keys case-sensitively), and turns what comes back into a value
or one of three errors:

- `AlpacaUnreachable` (an ``OSError``): no answer (refused, reset, timed out), so the retry
  policy's loops treat it as a lost link;
- `AlpacaError`: the device answered with an Alpaca error number; it carries the number and
  the device's ``ErrorMessage`` (alpaca-simulators uses some numbers for other errors than
  the reference: the message is what matters to a user);
- `AlpacaProtocolError`: an HTTP error status or a body that is not the envelope (garbage).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import httpx

from indipyalpaca.wire import AlpacaError as WireError
from indipyalpaca.wire import ErrorNumber
from indipyalpaca.wire import ImageBytesError
from indipyalpaca.wire import decode
from indipyalpaca.wire.imagebytes import to_rows

__all__ = ["AlpacaClient", "AlpacaError", "AlpacaProtocolError", "AlpacaUnreachable", "Image"]

#: An image as FITS orders it: width, height, planes (1 for mono) and the pixels, planes
#: outermost, then rows (y), then x.
Image = tuple[int, int, int, Sequence[int] | Sequence[float]]

logger = logging.getLogger(__name__)

# httpx logs every request at INFO: a line per poll in a server run with -v. Quieter unless
# the application chose a level for it.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

#: Seconds for a call's connect, read and write (ConformU's slowest property target is 1 s).
DEFAULT_TIMEOUT = 5.0
#: Seconds for an image download (ConformU allows ImageArray 600 s; a LAN frame takes a few).
IMAGE_TIMEOUT = 120.0


class AlpacaUnreachable(OSError):
    """The Alpaca server did not answer (refused, reset, timed out)."""


class AlpacaProtocolError(ValueError):
    """The Alpaca server answered something that is not an Alpaca reply."""


class AlpacaError(WireError):
    """An Alpaca error number from a device (`number`), with its ErrorMessage (`message`) and
    the member that answered it; its text says all three."""

    def __init__(self, number: int, message: str, member: str = "") -> None:
        try:
            name = ErrorNumber(number).name.lower().replace("_", " ")
        except ValueError:
            name = "driver error"
        super().__init__(number, message or name)
        self.member = member
        where = f", {member}" if member else ""
        self.args = (f"{self.message} (Alpaca error 0x{number:X}{where})",)


def _form_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class AlpacaClient:
    """The device API of the Alpaca server at `base_url` (``http://host:port``)."""

    def __init__(self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT,
                 image_timeout: float = IMAGE_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.image_timeout = image_timeout
        self.client_id = random.randint(1, 65535)
        self._transactions = itertools.count(1)
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None or self._http.is_closed:
            self._http = httpx.AsyncClient(
                base_url=self.base_url, timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=8, max_keepalive_connections=4))
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP connections (a new call opens them again)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _ids(self) -> dict[str, str]:
        return {"ClientID": str(self.client_id),
                "ClientTransactionID": str(next(self._transactions))}

    async def _send(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                    data: Mapping[str, str] | None = None, headers: Mapping[str, str] | None
                    = None, timeout: float | None = None) -> httpx.Response:
        try:
            return await self._client().request(
                method, path, params=params, data=data, headers=headers,
                timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT)
        except httpx.TransportError as exc:
            raise AlpacaUnreachable(f"{self.base_url} does not answer {method} {path}: "
                                    f"{type(exc).__name__}: {exc or 'no reason given'}") from exc

    @staticmethod
    def _envelope(response: httpx.Response, member: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise AlpacaProtocolError(
                f"{member}: HTTP {response.status_code}: {response.text[:200].strip()}")
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise AlpacaProtocolError(f"{member}: the reply is not JSON: "
                                      f"{response.content[:80]!r}") from exc
        if not isinstance(body, dict):
            raise AlpacaProtocolError(f"{member}: the reply is not a JSON object")
        number = body.get("ErrorNumber", 0)
        if not isinstance(number, int):
            raise AlpacaProtocolError(f"{member}: ErrorNumber {number!r} is not a number")
        if number:
            raise AlpacaError(number, str(body.get("ErrorMessage") or ""), member)
        return body

    async def get(self, device: str, member: str, **params: object) -> Any:
        """GET ``/api/v1/{device}/{member}`` (device is ``type/number``): its Value."""
        query = {**self._ids(), **{key: _form_value(value) for key, value in params.items()}}
        response = await self._send("GET", f"/api/v1/{device}/{member}", params=query)
        body = self._envelope(response, f"{device}/{member}")
        if "Value" not in body:
            raise AlpacaProtocolError(f"{device}/{member}: the reply has no Value")
        return body["Value"]

    async def put(self, device: str, member: str, **params: object) -> Any:
        """PUT ``/api/v1/{device}/{member}`` with form parameters (exact casing): its Value,
        None when the member returns nothing."""
        form = {**{key: _form_value(value) for key, value in params.items()}, **self._ids()}
        response = await self._send("PUT", f"/api/v1/{device}/{member}", data=form)
        return self._envelope(response, f"{device}/{member}").get("Value")

    async def management(self, path: str) -> Any:
        """GET ``/management/{path}``: its Value (AlpacaProtocolError without one: a server
        with no management API, as alpaca-simulators 1.3.2)."""
        response = await self._send("GET", f"/management/{path}", params=self._ids())
        return self._envelope(response, f"management/{path}").get("Value")

    async def image(self, device: str) -> Image:
        """The last image, asked for as ImageBytes (a JSON reply is taken too), in FITS
        order."""
        response = await self._send(
            "GET", f"/api/v1/{device}/imagearray", params=self._ids(),
            headers={"Accept": "application/imagebytes"}, timeout=self.image_timeout)
        member = f"{device}/imagearray"
        kind = response.headers.get("content-type", "")
        if response.status_code == 200 and kind.startswith("application/imagebytes"):
            try:
                frame = decode(response.content)
            except ImageBytesError as exc:
                raise AlpacaProtocolError(f"{member}: {exc}") from exc
            if frame.error_number:
                raise AlpacaError(frame.error_number, frame.message, member)
            # Millions of pixels reordered: off the event loop, so the server keeps serving.
            return await asyncio.to_thread(to_rows, frame)
        body = self._envelope(response, member)
        return await asyncio.to_thread(_json_image, body, member)


def _json_image(body: Mapping[str, Any], member: str) -> Image:
    """A JSON ImageArray reply (``Value[x][y]``, Rank 2 only) in FITS order."""
    value = body.get("Value")
    if body.get("Rank") != 2 or not isinstance(value, list) or not value:
        raise AlpacaProtocolError(f"{member}: only a Rank 2 JSON image is supported")
    width, height = len(value), len(value[0])
    rows = [0] * (width * height)
    for x, column in enumerate(value):
        if not isinstance(column, list) or len(column) != height:
            raise AlpacaProtocolError(f"{member}: the JSON image is not rectangular")
        rows[x::width] = [int(v) for v in column]
    return width, height, 1, rows
