"""CONFIG_PROCESS and POLLING_PERIOD: a standard device's saved configuration, indilib's way.

As indilib's DefaultDevice (checked against 1.9.9's simulators): CONFIG_PROCESS "Configuration"
(Options, AtMostOne: CONFIG_LOAD, CONFIG_SAVE, CONFIG_DEFAULT, CONFIG_PURGE) is defined from
the start on every standard device; POLLING_PERIOD "Polling" (Options, PERIOD_MS ``%.f``
10..600000 step 1000) too on a device whose role polls (indilib's CCD, Telescope and Focuser add
it; its FilterWheel and Weather do not). The file is ``<folder>/<device>_config.xml``,
``~/.indi`` by default, in indilib's format (`configfile`):

- CONFIG_SAVE writes the device's saved vectors; the first file saved (or found at start) is
  also copied to ``<device>_config.xml.default``, which is never overwritten;
- CONFIG_LOAD applies the file's entries, each as a client's request for that vector would be
  (a role acts on it); a role's vector while disconnected, and an entry the device cannot take,
  is skipped and logged;
- CONFIG_DEFAULT does the same with the ``.default`` file;
- CONFIG_PURGE deletes the file (not the ``.default``);
- each answers CONFIG_PROCESS Ok (all switches Off), or Alert when it failed, with indilib's
  messages (``[INFO] Saving device configuration...``).

When the device is made, DEBUG, DEBUG_LEVEL and POLLING_PERIOD are taken from the file
silently (indilib does so at the driver's first getProperties), and so are the settings each
role names in its ``startup_names`` (indilib's base classes read them in initProperties: the
CCD's ACTIVE_DEVICES, CCD_CAPTURE_FORMAT and CCD_TRANSFER_FORMAT, the Telescope's and
Weather's GEOGRAPHIC_COORD, the filter wheel's FILTER_NAME); nothing else is loaded on connect:
indilib's base classes load the rest only on CONFIG_LOAD, which clients such as KStars send
after connecting.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from indipycore.protocol import events as pe
from indipycore.protocol.enums import SwitchState

from ..rxevents import ClientVectorEvent
from ..vectors import NumberVector
from ..vectors import PropertyVector
from ..vectors import SwitchVector
from .configfile import ConfigEntry
from .configfile import ConfigError
from .configfile import config_path
from .configfile import read_config
from .configfile import write_config
from .groups import OPTIONS_TAB
from .vectortables import NumberSpec
from .vectortables import Param
from .vectortables import SwitchSpec
from .vectortables import VectorSpec
from .vectortables import build

__all__ = ["CONFIG_NAMES", "STARTUP_NAMES", "Apply", "ConfigFiles", "SavedConfig",
           "new_event"]

#: The vectors this module defines.
CONFIG_NAMES = ("CONFIG_PROCESS", "POLLING_PERIOD")

#: Taken from the file when the device is made (indilib's DefaultDevice::ISGetProperties),
#: besides the roles' `role.startup_names`.
STARTUP_NAMES = ("DEBUG", "DEBUG_LEVEL", "POLLING_PERIOD")

#: Never saved nor loaded: loading them would connect, or load again.
NEVER_SAVED = ("CONNECTION", "CONFIG_PROCESS", "DRIVER_INFO")

CONFIG_VECTORS = (
    VectorSpec("CONFIG_PROCESS", "Configuration", OPTIONS_TAB, "rw", (
        SwitchSpec("CONFIG_LOAD", "Load"),
        SwitchSpec("CONFIG_SAVE", "Save"),
        SwitchSpec("CONFIG_DEFAULT", "Default"),
        SwitchSpec("CONFIG_PURGE", "Purge"),
    ), rule="AtMostOne"),
    VectorSpec("POLLING_PERIOD", "Polling", OPTIONS_TAB, "rw", (
        NumberSpec("PERIOD_MS", "Period (ms)", "%.f", 10, 600000, 1000, Param("period_ms")),
    ), when="polling"),
)

#: Applies one entry read from the file; returns why it was not applied, or "".
Apply = Callable[[ConfigEntry], Awaitable[str]]

_NEW = {"Number": (pe.NewNumberVector, pe.Number), "Switch": (pe.NewSwitchVector, pe.Switch),
        "Text": (pe.NewTextVector, pe.Text)}


def new_event(devicename: str, entry: ConfigEntry) -> Any:
    """The protocol's new*Vector a client would send to set `entry`'s values."""
    vector_class, member_class = _NEW[entry.kind]
    members = tuple(member_class(name, SwitchState(value) if entry.kind == "Switch" else value)
                    for name, value in entry.values.items())
    return vector_class(devicename, entry.name, members)


class ConfigFiles:
    """Where a device's configuration lives: ``<folder>/<device>_config.xml`` (folder
    ``~/.indi``, HOME respected, unless given) and its ``.default`` copy."""

    def __init__(self, devicename: str, folder: Path | None = None) -> None:
        self.path = (config_path(devicename) if folder is None
                     else Path(folder) / f"{devicename}_config.xml")
        self.default = self.path.with_name(self.path.name + ".default")

    def save(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(data)
        self.keep_default()

    def keep_default(self) -> None:
        """Copy the file to the ``.default`` one unless that exists (indilib's
        IUSaveDefaultConfig: the first configuration saved or found stays the default)."""
        if self.path.is_file() and not self.default.exists():
            shutil.copyfile(self.path, self.default)


class SavedConfig:
    """CONFIG_PROCESS and POLLING_PERIOD of one device, and what CONFIG_PROCESS does.

    `period_ms` is POLLING_PERIOD's first value; None leaves POLLING_PERIOD out. `logger` is
    the device's (its records reach clients as messages).
    """

    def __init__(self, devicename: str, *, folder: Path | None, logger: logging.Logger,
                 period_ms: float | None) -> None:
        self.devicename = devicename
        self.files = ConfigFiles(devicename, folder)
        self.logger = logger
        made = build(CONFIG_VECTORS, polling=period_ms is not None, period_ms=period_ms or 1000)
        self.process = made.vector("CONFIG_PROCESS", SwitchVector)
        self.polling = made.optional("POLLING_PERIOD", NumberVector)

    def read(self, vectors: Mapping[str, PropertyVector], saved: set[str], default: bool = False
             ) -> tuple[list[ConfigEntry], list[str]]:
        """The entries of the file (or the ``.default``) for `saved` vectors, and why the
        others were left out. Raises OSError (no file) or `ConfigError` (not XML)."""
        path = self.files.default if default else self.files.path
        read = read_config(path.read_bytes(), self.devicename, vectors)
        problems = list(read.problems)
        entries = []
        for entry in read.entries:
            if entry.name in saved:
                entries.append(entry)
            else:
                problems.append(f"{entry.name}: not one of the device's saved settings: skipped")
        return entries, problems

    def startup(self, vectors: Mapping[str, PropertyVector], names: set[str]
                ) -> list[ConfigEntry]:
        """The file's entries for `names` (DEBUG, DEBUG_LEVEL, POLLING_PERIOD and the roles'
        `startup_names`), read silently when the device is made (no file: none); the
        ``.default`` copy is made if missing, as indilib does."""
        try:
            entries, _problems = self.read(vectors, names)
            self.files.keep_default()
        except (OSError, ConfigError) as exc:
            logging.getLogger(__name__).debug("%s: no saved configuration taken: %s",
                                              self.devicename, exc)
            return []
        return entries

    async def run(self, event: ClientVectorEvent[Any], saved: list[PropertyVector],
                  vectors: Mapping[str, PropertyVector], apply: Apply) -> None:
        """A client's CONFIG_PROCESS: the switch it turned On, done; the vector answered Ok
        (or Alert) with every switch Off. `saved` are the vectors CONFIG_SAVE writes,
        `vectors` the device's by name, `apply` applies an entry as a client's request."""
        chosen = next((name for name, value in event.items() if value == "On"), None)
        for name in self.process:
            self.process[name] = "Off"
        if chosen is None:
            await self.process.send_setVector(state="Idle")
            return
        names = {vector.name for vector in saved}
        if chosen == "CONFIG_SAVE":
            done = self._save(saved)
        elif chosen == "CONFIG_PURGE":
            done = self._purge()
        else:
            default = chosen == "CONFIG_DEFAULT"
            done = await self._load(vectors, names, apply, default)
            if default and done:
                self.logger.info("Default configuration loaded.")
        await self.process.send_setVector(state="Ok" if done else "Alert")

    def _save(self, saved: list[PropertyVector]) -> bool:
        self.logger.info("Saving device configuration...")
        try:
            self.files.save(write_config(self.devicename, saved))
        except OSError as exc:
            self.logger.warning("Failed to save configuration. %s", exc)
            return False
        self.logger.info("Device configuration saved.")
        return True

    def _purge(self) -> bool:
        try:
            self.files.path.unlink()
        except OSError as exc:
            self.logger.warning("Unable to purge configuration file %s. Error %s",
                                self.files.path, exc.strerror or exc)
            return False
        self.logger.info("Configuration file successfully purged.")
        return True

    async def _load(self, vectors: Mapping[str, PropertyVector], saved: set[str], apply: Apply,
                    default: bool) -> bool:
        try:
            entries, problems = self.read(vectors, saved, default)
        except OSError as exc:
            if default:
                self.logger.info("Error loading default configuration. %s", exc)
            else:
                self.logger.info("No previous configuration found. To save driver "
                                 "configuration, click Save Configuration in Options tab.")
            return False
        except ConfigError as exc:
            self.logger.warning("Unable to parse config XML: %s", exc)
            return False
        self.logger.info("Loading device configuration...")
        for entry in entries:
            why = await apply(entry)
            if why:
                problems.append(f"{entry.name}: {why}: skipped")
        if problems:
            for problem in problems:
                self.logger.debug("%s", problem)
            skipped = ", ".join(problem.split(":", 1)[0] for problem in problems)
            self.logger.warning("%d saved settings not applied (%s)", len(problems), skipped)
        self.logger.info("Device configuration applied.")
        return True
