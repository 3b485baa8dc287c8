"""Saving received BLOBs as files: safe names, written whole or not at all.

A BLOB is saved as ``<device>_<vector>_<member>_<YYYYmmdd_HHMMSS_fff><format>`` in the folder,
``.z`` left off the format since the bytes have been decompressed (``model``). Every part of the
name comes from the server, so each is reduced to letters, digits, ``-``, ``_`` and single dots
(never ``/``, ``..``, a leading dot or a control character) and capped in length: whatever the
device, vector, member or format strings contain, the file lands inside the folder.

The bytes go to a hidden temporary file in the same folder, which is then linked to its final
name (``os.link`` fails rather than overwrite: a second BLOB in the same millisecond gets
``_1``, ``_2``...) and unlinked: a program watching the folder never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import datetime
from pathlib import Path

from indipycore.protocol.blobs import is_zlib_format

from .partfiles import create_part_file

__all__ = ["blob_filename", "place_blob", "safe_part", "save_blob", "saved_format"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-.]+")
_DOTS = re.compile(r"\.{2,}")
_PART_MAX = 60
_FORMAT_MAX = 24


def safe_part(text: str, limit: int = _PART_MAX) -> str:
    """One name part reduced to safe characters (runs of others become ``_``); never empty,
    never starting with a dot, never holding ``..``."""
    cleaned = _DOTS.sub(".", _UNSAFE.sub("_", text)).lstrip(".")[:limit]
    return cleaned or "_"


def saved_format(fmt: str) -> str:
    """The suffix a BLOB of wire format ``fmt`` is saved with: ``.z`` dropped (the bytes were
    decompressed), safe characters only, always starting with one dot (``""`` if none)."""
    fmt = fmt.strip()
    if is_zlib_format(fmt):
        fmt = fmt[:-2]
    cleaned = _DOTS.sub(".", _UNSAFE.sub("", fmt)).strip(".")[:_FORMAT_MAX].rstrip(".")
    return "." + cleaned if cleaned else ""


def blob_filename(devicename: str, vectorname: str, membername: str, fmt: str,
                  timestamp: datetime, counter: int = 0) -> str:
    """The file name a BLOB is saved under (see the module docstring)."""
    stamp = timestamp.strftime("%Y%m%d_%H%M%S_") + f"{timestamp.microsecond // 1000:03d}"
    extra = f"_{counter}" if counter else ""
    return (f"{safe_part(devicename)}_{safe_part(vectorname)}_{safe_part(membername)}"
            f"_{stamp}{extra}{saved_format(fmt)}")


def save_blob(folder: Path, devicename: str, vectorname: str, membername: str, fmt: str,
              data: bytes, timestamp: datetime) -> Path:
    """Write ``data`` whole under a new safe name in ``folder`` and return its path. Blocking:
    the connection calls it in a worker thread. Raises ``OSError`` when the folder cannot be
    written."""
    fd, tmpname = create_part_file(folder, ".indipyclient-")
    with os.fdopen(fd, "wb") as tmp:
        tmp.write(data)
    return place_blob(tmpname, folder, devicename, vectorname, membername, fmt, timestamp)


def place_blob(tmp: Path, folder: Path, devicename: str, vectorname: str, membername: str,
               fmt: str, timestamp: datetime) -> Path:
    """Give the complete temporary file ``tmp`` (in ``folder``) its safe name; ``tmp`` is
    gone afterwards whatever happens."""
    try:
        for counter in range(1000):
            final = folder / blob_filename(devicename, vectorname, membername, fmt, timestamp,
                                           counter)
            try:
                os.link(tmp, final)
            except FileExistsError:
                continue
            return final
        raise FileExistsError(f"no free name for a BLOB of {devicename}.{vectorname} in {folder}")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
