"""The web client announced by DNS-SD (``_http._tcp`` with ``path=`` its base path; the
optional extra ``[discovery]``), on by default, ``--no-announce`` off: so a browser-less
finder (``indipy-discover``, a phone's service browser) lists it beside the INDI servers.

As the server's announcing (``indipyserver.announcehost``): what keeps it from announcing is
said once and the web client serves on; a clean stop sends the goodbye.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence

from indipydiscovery.announce import HTTP_SERVICE
from indipydiscovery.announce import Announcement
from indipydiscovery.announce import Announcer
from indipydiscovery.announce import NotAnnounced
from indipydiscovery.announce import extra_missing
from indipydiscovery.announce import instance_name
from indipydiscovery.txt import web_txt

__all__ = ["announce_web", "announced_url"]

logger = logging.getLogger(__name__)

_WILDCARDS = ("", "0.0.0.0", "::")


def announced_url(scheme: str, host: str, port: int, base: str) -> str:
    """The web client's address as another machine would type it: the host's ``.local``
    name where it listens on every address."""
    if host in _WILDCARDS:
        host = f"{socket.gethostname().split('.')[0]}.local"
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}{base}/"


async def announce_web(host: str, port: int, base: str,
                       interfaces: Sequence[str] | None = None) -> None:
    """Announce the web client on `port` until cancelled, then send the goodbye."""
    missing = extra_missing()
    if missing is not None:
        logger.info("not announced by DNS-SD: %s", missing)
        return
    announcer = Announcer(interfaces, listen_host=host)
    service = Announcement(instance_name("INDI web", port), HTTP_SERVICE, port,
                           web_txt(base or "/"))
    try:
        names = await announcer.start([service])
    except NotAnnounced as exc:
        logger.info("not announced by DNS-SD (port %d): %s", port, exc)
        return
    logger.info("announced by DNS-SD as %r on %s", names[0], ", ".join(announcer.addresses))
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        await announcer.stop()
