"""The face's ASGI application: the device API (its own dispatcher, `_Entrance`) and the
management API (Starlette).

Device paths are matched here, not by a router, because Alpaca wants a 400 with a reason for
every path it does not know (a capitalised type, a device number that does not exist, a
member the type lacks) while a member the type has but the INDI device cannot do is a 200
with 0x400. PUT bodies are parsed here too, keeping their keys' exact casing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import PlainTextResponse
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from indipyalpaca.wire import imagebytes
from indipyalpaca.wire.devicetypes import device_type_from_url
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.replies import JSON_TYPE
from indipyalpaca.wire.replies import envelope
from indipyalpaca.wire.replies import reply_body
from indipyalpaca.wire.requests import BadRequest
from indipyalpaca.wire.requests import Params
from indipyalpaca.wire.requests import ServerTransactionCounter

from .framestream import FrameStream
from .served import Served

logger = logging.getLogger(__name__)

SERVER_NAME = "indipyalpaca INDI server"
MANUFACTURER = "indipy-toolkit"
_NUMBER = re.compile(r"[0-9]{1,10}")
MAX_BODY = 64 * 1024  # a form of a few parameters; more is not an Alpaca request
#: The verbs of the device API.
DEVICE_VERBS = ("GET", "PUT")


class FaceApp:
    """The handlers, sharing the devices and one ServerTransactionID counter."""

    def __init__(self, served: Served, version: str = "0", location: str = "") -> None:
        self.served = served
        self.counter = ServerTransactionCounter()
        self.version = version
        self.location = location

    def reply(self, params: Params, **fields: Any) -> Response:
        client_id = params.client_transaction_id()
        body = envelope(client_id, self.counter.next(), **fields)
        try:
            data = reply_body(body)
        except ValueError:  # a NaN or infinity from the INDI side: invalid JSON
            data = reply_body(envelope(client_id, self.counter.next(), value=None,
                                       error_number=0x4FF,
                                       error_message="the INDI device reported a value that "
                                                     "is not a finite number"))
        return Response(data, media_type=JSON_TYPE)

    async def params(self, request: Request) -> Params:
        if request.method == "GET":  # as Starlette's QueryParams reads it, without the copies
            query = request.scope["query_string"].decode("latin-1")
            return Params(parse_qsl(query, keep_blank_values=True), exact=False)
        # Refused by its declared length, or read only up to the limit: a huge body (or an
        # endless chunked one) must not be held in memory before it is refused.
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise BadRequest(f"a request body of {declared} bytes is too large "
                             f"(at most {MAX_BODY})")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise BadRequest(f"a request body of more than {MAX_BODY} bytes is too large")
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            text = body.decode("utf-8")
            items = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"the body is not a URL-encoded form: {exc}") from None
        return Params(items, exact=True)

    # -- management --------------------------------------------------------------------

    async def management(self, request: Request) -> Response:
        path = request.url.path
        try:
            params = await self.params(request)
            params.ids()
        except BadRequest as exc:
            return PlainTextResponse(str(exc), status_code=400)
        if path == "/management/apiversions":
            return self.reply(params, value=[1])
        if path == "/management/v1/description":
            return self.reply(params, value={"ServerName": SERVER_NAME,
                                             "Manufacturer": MANUFACTURER,
                                             "ManufacturerVersion": self.version,
                                             "Location": self.location})
        if path == "/management/v1/configureddevices":
            await self.served.indi.listed()  # not before the server's devices are heard
            return self.reply(params, value=[
                {"DeviceName": d.name, "DeviceType": d.device_type.value,
                 "DeviceNumber": d.identity.number, "UniqueID": d.identity.unique_id}
                for d in self.served.all()])
        return PlainTextResponse(f"no management member {path}", status_code=400)

    async def setup(self, request: Request) -> Response:
        return HTMLResponse("<!doctype html><title>Setup</title><p>These devices are INDI "
                            "devices; set them up in your INDI client. Nothing to configure "
                            "here.</p>")

    # -- devices -----------------------------------------------------------------------

    async def device(self, request: Request) -> Response:
        path = request.scope["path"]  # what request.url.path gives, without building a URL
        parts = path.split("/")  # "", "api", version, type, number, member
        if len(parts) != 6 or parts[2] != "v1":
            return _bad(f"{path} is not /api/v1/{{type}}/{{number}}/{{member}}")
        _, _, _, type_name, number_text, member = parts
        dtype = device_type_from_url(type_name)
        if dtype is None:
            return _bad(f"{type_name!r} is not a device type (they are lower case)")
        if not _NUMBER.fullmatch(number_text):
            return _bad(f"{number_text!r} is not a device number")
        device = self.served.find(dtype, int(number_text))
        if device is None:
            return _bad(f"there is no {type_name} {number_text}")
        if not device.is_member(member):
            return _bad(f"{member!r} is not a member of {type_name} (members are lower case)")
        verb = request.method
        if device.handler(verb, member) is None and device.has_other_verb(verb, member):
            return PlainTextResponse(f"{member} is not a {verb} member", status_code=405)
        try:
            params = await self.params(request)
            params.ids()
        except BadRequest as exc:
            return _bad(str(exc))
        try:
            value = await device.call(verb, member, params)
        except BadRequest as exc:
            return _bad(str(exc))
        except AlpacaError as exc:
            if verb == "GET":
                return self.reply(params, value=None, error_number=exc.number,
                                  error_message=exc.message)
            return self.reply(params, error_number=exc.number, error_message=exc.message)
        except Exception:
            logger.exception("Alpaca %s %s of %s failed", verb, member, device.name)
            return PlainTextResponse("internal error of the INDI-Alpaca face (logged)",
                                     status_code=500)
        if isinstance(value, FrameStream):
            return await self.image(request, params, value)
        if verb == "GET":
            return self.reply(params, value=value)
        return self.reply(params)

    async def image(self, request: Request, params: Params, stream: FrameStream) -> Response:
        """ImageArray as ImageBytes when the client accepts it (alpyca does), its pixels
        sent as the camera's conversion writes them; else JSON, made in a worker thread
        once they are all written."""
        client_id = params.client_transaction_id()
        server_id = self.counter.next()
        if imagebytes.CONTENT_TYPE in request.headers.get("accept", ""):
            image = await stream.image()
            header = imagebytes.encode(image.frame(client_id, server_id))
            return _FrameResponse(header, image.nbytes, stream.chunks())
        try:
            image = await stream.converted()
        except AlpacaError as exc:
            return self.reply(params, value=None, error_number=exc.number,
                              error_message=exc.message)

        def as_json() -> bytes:
            body: dict[str, Any] = {"Type": 2, "Rank": image.rank}
            body.update(envelope(client_id, server_id, value=image.json_value()))
            return reply_body(body)

        return Response(await asyncio.to_thread(as_json), media_type=JSON_TYPE)


class _FrameResponse(Response):
    """An ImageBytes reply sent as its 44-byte header, then the pixels in the pieces the
    camera's conversion hands out (none copied whole, none waited for longer than needed)."""

    media_type = imagebytes.CONTENT_TYPE

    def __init__(self, header: bytes, size: int, pieces: AsyncIterator[bytes]) -> None:
        super().__init__(b"", media_type=imagebytes.CONTENT_TYPE)
        self.header, self.pieces = header, pieces
        self.headers["content-length"] = str(len(header) + size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.header, "more_body": True})
        async for piece in self.pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _bad(reason: str) -> Response:
    return PlainTextResponse(reason, status_code=400)


class _Entrance:
    """The face's ASGI entry, the one way to a device member: a GET or PUT of ``/api/...``
    goes to `FaceApp.device`, which matches the path, the verb and the parameters itself;
    another verb there is 405. Starlette's routing and middleware are not in that path (for
    a polled GET they cost as much as the answer itself, in the server's event loop); they
    serve the management API and ``/setup``."""

    def __init__(self, app: Starlette, face: FaceApp) -> None:
        self.app = app
        self.face = face
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            if scope["method"] in DEVICE_VERBS:
                response = await self.face.device(Request(scope, receive))
            else:
                response = PlainTextResponse(
                    f"{scope['method']} is not an Alpaca verb (GET or PUT)", status_code=405,
                    headers={"Allow": ", ".join(DEVICE_VERBS)})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def make_app(served: Served, version: str = "0", location: str = "") -> _Entrance:
    """The ASGI app of the face (no lifespan: the host runs the INDI client)."""
    face = FaceApp(served, version, location)
    routes = [
        Route("/management/{rest:path}", face.management, methods=["GET"]),
        Route("/setup", face.setup, methods=["GET"]),
        Route("/setup/{rest:path}", face.setup, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.face = face
    return _Entrance(app, face)
