"""The settings an admin saves in the app (kept by `UserDB`): the INDI server's host and port, the
TLS files for its TLS port and the BLOB folder, read back when the app starts."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

from indipycore.tls import client_context

from .users import UserDB

logger = logging.getLogger(__name__)

__all__ = ["BLOBFOLDER", "INDIHOST", "INDIPORT", "TLS_SETTINGS", "TLSFiles", "saved_server_settings",
           "saved_tls_files"]

# the settings an admin saves in the app (UserDB.setting keys)
INDIHOST, INDIPORT, BLOBFOLDER = "indihost", "indiport", "blobfolder"
#: The TLS files' settings, in `TLSFiles`' order (also the server form's field names).
TLS_SETTINGS = ("indi_tls_ca", "indi_tls_cert", "indi_tls_key")


@dataclass(frozen=True, slots=True)
class TLSFiles:
    """The files for an INDI server's TLS port (docs/remote-observatory.rst), on the machine
    indipyweb runs on: the CA its certificate is verified with, ours and its key ("": none)."""

    ca: str = ""
    cert: str = ""
    key: str = ""

    def context(self) -> ssl.SSLContext:
        """The TLS context; `indipycore.tls.TLSFileError` (a ValueError) names a bad file."""
        return client_context(self.ca or None, self.cert or None, self.key or None)


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


def saved_tls_files(db: UserDB, given: TLSFiles | None) -> TLSFiles | None:
    """The TLS files saved with the server in `db` (an empty CA saved: plain TCP), where saved;
    `given` otherwise."""
    saved = [db.setting(name, "\0") for name in TLS_SETTINGS]
    if saved[0] == "\0":
        return given
    files = TLSFiles(*(value if value != "\0" else "" for value in saved))
    return files if files.ca else None
