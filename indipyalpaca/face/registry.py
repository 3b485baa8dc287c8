"""Stable Alpaca identities: each (INDI device, Alpaca type) keeps its number and UniqueID.

Alpaca clients remember a device by its type and number (NINA's profiles) and deduplicate by
UniqueID, so both must survive restarts and never be reused for another device. They are kept
in a small JSON file (by default in the user's data folder); numbers count from 0 per type in
the order devices are first seen, and a UniqueID is a random UUID made once.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.devicetypes import device_type_from_name

logger = logging.getLogger(__name__)

FILE_NAME = "devices.json"


def default_path() -> Path:
    """``$XDG_DATA_HOME/indipyalpaca/devices.json`` (``~/.local/share`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "indipyalpaca" / FILE_NAME


@dataclass(frozen=True)
class Identity:
    """What an Alpaca client knows a served device by."""

    name: str
    device_type: DeviceType
    number: int
    unique_id: str


class Registry:
    """The identities issued so far, read from and written to `path` (None: kept in memory
    only, for a server that must leave no file behind)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._by_key: dict[tuple[str, DeviceType], Identity] = {}
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            logger.warning("cannot read the Alpaca device numbers in %s (%s): starting afresh "
                           "in memory", path, exc)
            self.path = None
            return
        try:
            for entry in json.loads(text)["devices"]:
                dtype = device_type_from_name(str(entry["type"]))
                if dtype is None:
                    raise ValueError(f"unknown device type {entry['type']!r}")
                identity = Identity(str(entry["name"]), dtype, int(entry["number"]),
                                    str(entry["uniqueid"]))
                self._by_key[(identity.name, dtype)] = identity
        except (ValueError, KeyError, TypeError) as exc:
            keep = path.with_name(path.name + ".unreadable")
            logger.error("the Alpaca device numbers in %s are unreadable (%s): kept as %s, "
                         "new numbers are issued", path, exc, keep)
            self._by_key.clear()
            try:
                path.replace(keep)
            except OSError:
                self.path = None

    def identify(self, name: str, device_type: DeviceType) -> Identity:
        """The identity of this INDI device in this role, issued (and saved) the first time."""
        key = (name, device_type)
        identity = self._by_key.get(key)
        if identity is None:
            used = [i.number for i in self._by_key.values() if i.device_type is device_type]
            identity = Identity(name, device_type, max(used, default=-1) + 1,
                                str(uuid.uuid4()))
            self._by_key[key] = identity
            self._save()
        return identity

    def _save(self) -> None:
        if self.path is None:
            return
        entries = [{"name": i.name, "type": i.device_type.value, "number": i.number,
                    "uniqueid": i.unique_id} for i in self._by_key.values()]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".devices-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"devices": entries}, out, indent=1)
            os.replace(temporary, self.path)
        except OSError as exc:
            logger.error("cannot save the Alpaca device numbers in %s (%s): they hold until "
                         "the server stops", self.path, exc)
