"""One service by its name, as the listing prints it: where a host name is taken, a name is.

`resolve_service` lists (``browse.discover_async``) until the service called `name` is found,
and returns at once then; otherwise a LookupError names what was found instead, so a typo is
seen as one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from indipydiscovery.browse import discover_async
from indipydiscovery.service import KINDS
from indipydiscovery.service import Kind
from indipydiscovery.service import Service
from indipydiscovery.service import find

#: The DNS-SD suffix of each kind's full names.
_SUFFIXES: dict[str, Kind] = {"._indi._tcp.local.": "indi", "._indigo._tcp.local.": "indigo"}


async def resolve_service(name: str, timeout: float = 3.0, *,
                          interfaces: Sequence[str] | None = None,
                          alpaca_port: int | None = None) -> Service:
    """The service called `name` (its instance name, ``pi INDI 7624``, or its full DNS-SD
    name), found within `timeout` seconds on `interfaces` (as `discover_async`); a full name
    browses its own kind only. LookupError, listing the names found, when it is not there."""
    kinds: tuple[Kind, ...] = KINDS
    for suffix, kind in _SUFFIXES.items():
        if name.endswith(suffix):
            kinds = (kind,)
    seen: list[Service] = []
    wanted: asyncio.Future[Service] = asyncio.get_running_loop().create_future()

    def found(service: Service) -> None:
        seen.append(service)
        if not wanted.done() and find([service], name) is not None:
            wanted.set_result(service)

    options = {} if alpaca_port is None else {"alpaca_port": alpaca_port}
    listing = asyncio.ensure_future(discover_async(timeout, interfaces=interfaces, kinds=kinds,
                                                   on_found=found, **options))
    try:
        either: list[asyncio.Future[Any]] = [listing, wanted]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not listing.done():
            listing.cancel()
            await asyncio.gather(listing, return_exceptions=True)
    if wanted.done():
        return wanted.result()
    listing.result()  # its error, if it failed
    names = sorted({s.name for s in seen})
    raise LookupError(f"no server called {name!r} found within {timeout:g} s; found: "
                      f"{', '.join(map(repr, names)) if names else 'none'}")
