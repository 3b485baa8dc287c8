"""Saving a received BLOB as ``device.property.element.format``, as indi_getprop names it.

``.z`` payloads are decompressed and the ``.z`` dropped from the name (indilib does the same).
Unlike indilib, a name cannot leave the folder whatever the strings hold (``/`` and NUL become
``_``), and the file is written whole or not at all (a temporary file renamed into place).
"""

from __future__ import annotations

import os
from pathlib import Path

from indipycore.protocol.blobs import is_zlib_format
from indipycore.protocol.blobs import unpack_blob

__all__ = ["blob_filename", "save_blob"]

_UNSAFE = str.maketrans({"/": "_", "\0": "_", os.sep: "_"})


def blob_filename(device: str, prop: str, element: str, fmt: str) -> str:
    """The file name indi_getprop would use, made safe: ``dev.prop.elem.fits`` for ``.fits.z``."""
    fmt = fmt.strip()
    if is_zlib_format(fmt):
        fmt = fmt[:-2]
    return f"{device}.{prop}.{element}{fmt}".translate(_UNSAFE)


def save_blob(folder: Path, device: str, prop: str, element: str, fmt: str, data: bytes,
              size: int | None = None) -> tuple[Path, str | None]:
    """Write the BLOB's payload into ``folder``; returns the path and a warning, if any.

    Raises ValueError when a ``.z`` payload is not valid zlib data, OSError when the file cannot
    be written.
    """
    payload = unpack_blob(data, fmt)
    warning = None
    if size and len(payload) != size:
        warning = f"the server said {size} bytes, {len(payload)} arrived"
    path = folder / blob_filename(device, prop, element, fmt)
    from indipyclient.model.partfiles import (
        create_part_file,  # only when a BLOB arrives: imports are start-up time
    )

    fd, tmp = create_part_file(folder, ".indipy-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path, warning
