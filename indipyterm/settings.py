"""The server and BLOB folder the user typed on the settings screen, checked (no textual).

The same rules as the ``indipyterm`` command line (``cli.py``): a host, a port 1..65535, and a
BLOB folder that is created when missing (blank: BLOBs are not asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "SettingsRefused", "read_settings"]


class SettingsRefused(ValueError):
    """What the user typed cannot be used; ``str(exc)`` says which field and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Where to connect and where received BLOBs go (None: not saved, not asked for)."""

    host: str
    port: int
    blobfolder: Path | None


def read_settings(host: str, port: str, blobfolder: str) -> Settings:
    """The settings typed, checked; the BLOB folder is created when missing (as the command
    line does). Raises `SettingsRefused`."""
    host = host.strip()
    if not host or any(c.isspace() for c in host):
        raise SettingsRefused("host: give a host name or address, e.g. localhost")
    try:
        number = int(port.strip())
    except ValueError:
        raise SettingsRefused(f"port: {port.strip()!r} is not a whole number") from None
    if not 0 < number < 65536:
        raise SettingsRefused(f"port: must be 1..65535, not {number}")
    folder: Path | None = None
    if blobfolder.strip():
        folder = Path(blobfolder.strip()).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsRefused(f"BLOB folder {folder}: {exc.strerror or exc}") from None
        folder = folder.resolve()
    return Settings(host, number, folder)
