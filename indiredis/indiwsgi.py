"""``make_wsgi_app``: the web client from redis for WSGI servers (waitress, ...), as
indiredis 0.7's ``indiwsgi`` had it.

The pages are the ``indipyweb`` ASGI app over a ``RedisSource``; ``a2wsgi``'s
``ASGIMiddleware`` adapts it. What WSGI loses, and how it is made up:

* WSGI has no lifespan: the app's start-up (the redis source, the change hub) is run here on
  the adapter's event loop, in one daemon thread, for the life of the process;
* every open page keeps one live stream (SSE) open, and under WSGI each holds one of the
  server's worker threads for as long as it is open (waitress has 4 by default: raise
  ``threads`` to the number of pages you expect, or serve the ASGI app with uvicorn);
* the app's graceful shutdown (closing the streams) is the process's exit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from pathlib import Path
from typing import Any

from .hosts import RedisServer
from .hosts import redis_server

__all__ = ["WsgiApp", "make_wsgi_app"]


def make_wsgi_app(redis_host: RedisServer | None = None, blob_folder: str | Path | None = None,
                  *, dbfolder: str | Path | None = None, url: str = "",
                  indihost: str = "redis", indiport: int = 0) -> WsgiApp:
    """A WSGI application serving the web client with ``redis_host``'s store as its state
    (BLOB files listed from ``blob_folder``; users in ``dbfolder``/indipyweb.db, by default
    the user's data folder as for indipyweb; ``url`` a base path such as ``/telescope``
    behind a proxy; ``indihost``/``indiport`` the INDI server the bridge is connected to, for
    the pages to name: by default they say "INDI server (through redis)")."""
    from indipyweb.app import make_app

    from .websource import RedisSource

    redis_host = redis_host or redis_server()
    app = make_app(RedisSource(redis_host, indihost, indiport), dbfolder=dbfolder,
                   blobfolder=blob_folder, basepath=url)
    return WsgiApp(app)


class WsgiApp:
    """The adapted app (a WSGI callable); ``close()`` ends its start-up context and loop."""

    def __init__(self, app: Any) -> None:
        from a2wsgi import ASGIMiddleware

        self.app = app
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever,
                                        name="indiredis wsgi loop", daemon=True)
        self._thread.start()
        entered: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._stop: asyncio.Event | None = None

        async def lifespan() -> None:
            self._stop = asyncio.Event()
            async with app.router.lifespan_context(app):
                entered.set_result(None)
                await self._stop.wait()

        self._running = asyncio.run_coroutine_threadsafe(lifespan(), self.loop)
        entered.result(timeout=30)
        self.wsgi = ASGIMiddleware(app, loop=self.loop)

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.wsgi(environ, start_response)

    def close(self) -> None:
        """Stop the source and the loop (a process that exits need not call it)."""
        if self._stop is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self._stop.set)
            self._running.result(timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()
