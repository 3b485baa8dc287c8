"""The settings an admin saves in the app (kept by `UserDB`): the INDI server's host and port and
the BLOB folder, read back when the app starts."""

from __future__ import annotations

import logging
from pathlib import Path

from .users import UserDB

logger = logging.getLogger(__name__)

__all__ = ["BLOBFOLDER", "INDIHOST", "INDIPORT", "saved_server_settings"]

# the settings an admin saves in the app (UserDB.setting keys)
INDIHOST, INDIPORT, BLOBFOLDER = "indihost", "indiport", "blobfolder"


def saved_server_settings(db: UserDB, host: str, port: int, blobfolder: str | Path | None
                          ) -> tuple[str, int, str | Path | None]:
    """The INDI server and BLOB folder saved in `db`, where saved; the given ones otherwise."""
    saved_host, saved_port = db.setting(INDIHOST), db.setting(INDIPORT)
    if saved_host and saved_port.isdigit():
        host, port = saved_host, int(saved_port)
        logger.info("the INDI server saved in the app's settings: %s:%s", host, port)
    saved_folder = db.setting(BLOBFOLDER, "\0")
    if saved_folder != "\0":
        blobfolder = saved_folder or None
    return host, port, blobfolder
