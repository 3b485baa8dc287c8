"""``indipy-getprop``: print INDI property values, compatible with indilib's ``indi_getprop``.

    indipy-getprop [-1] [-d fd] [-h host] [-p port] [-t secs] [-m] [-w] [-v] [--json]
                   [device.property.element ...]

Behaviour kept from indi_getprop (INDI ``tools/getINDIproperty.c``), so scripts run unchanged:

- specs default to ``*.*.*``; any field may hold ``*``; the element may be ``_LABEL _GROUP
  _STATE _PERM _TO _TS`` to print that attribute of the vector;
- one ``dev.prop.elem=value`` line per match, the value as it arrived; ``-1`` prints the value
  alone when there is exactly one query and it has no wildcard;
- a ``getProperties`` names the device when every query names the same one;
- values come from the definitions (``def*Vector``); with ``-m`` later ``set*Vector`` updates
  are printed too; write-only vectors are skipped unless ``-w``;
- a BLOB vector is asked for with ``enableBLOB Also`` and each BLOB that arrives is saved in the
  current folder as ``device.property.element.format`` (``.z`` decompressed, ``.z`` dropped);
- it ends as soon as every query without a wildcard has matched (exit 0); otherwise ``-t``
  seconds (default 2, 0 = for ever) after the last matching definition, listing ``No
  d.p.e from host:port`` on stderr for each query that matched nothing (exit 1 if any, else 0);
- exit 2 for real trouble: bad usage, no server, the server closing the connection.

Ours besides: ``-t`` takes fractions; ``*`` is a glob inside a field (``Telescope*``); errors
are one line; a malformed element from the server is skipped rather than fatal; BLOB files
cannot be written outside the folder and are written whole; ``--json`` prints what matched as
one JSON object in the shape of indipyclient's snapshot instead of the lines.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indipydriver.protocol import (
    BLOB,
    DefBLOBVector,
    DefLightVector,
    EnableBLOB,
    Event,
    GetProperties,
    SetBLOBVector,
    Vector,
)
from indipydriver.protocol.enums import BLOBEnable
from indipydriver.protocol.vectorevents import (
    DefNumberVector,
    DefSwitchVector,
    DefTextVector,
    SetLightVector,
    SetNumberVector,
    SetSwitchVector,
    SetTextVector,
)

from .blobfiles import save_blob
from .cli import Reporter, parse_options, parse_port, parse_timeout, run_tool
from .connection import Connection
from .errors import ToolError
from .specs import GetSpec, SpecError, parse_get_spec
from .values import attribute_text, member_text

__all__ = ["GetpropQuery", "main"]

NAME = "indipy-getprop"
USAGE = """\
usage: indipy-getprop [options] [device.property.element ...]
Print INDI property values as device.property.element=value lines (default spec *.*.*).
Any field may be * (a wildcard); the element may be _LABEL _GROUP _STATE _PERM _TO _TS
to print that attribute. BLOBs are saved as device.property.element.format.
  -1       print just the value when there is one query without wildcards
  -d fd    use file descriptor fd, a socket already open to the server
  -h host  server host (default localhost)
  -p port  server port (default 7624)
  -m       keep monitoring: print set*Vector updates too
  -t secs  seconds to wait after the last definition (default 2, 0 = for ever)
  -v       verbose, on stderr (repeat for more)
  -w       show write-only properties too
  --json   print the matching vectors as one JSON snapshot instead of lines
Exit status: 0 every query matched, 1 some query matched nothing, 2 real trouble."""

_DEFS = (DefTextVector, DefNumberVector, DefSwitchVector, DefLightVector, DefBLOBVector)
_SETS = (SetTextVector, SetNumberVector, SetSwitchVector, SetLightVector)


@dataclass
class Outcome:
    """What one event from the server asks the tool to do."""

    lines: list[str] = field(default_factory=list)
    blobs: list[tuple[str, str, BLOB]] = field(default_factory=list)  # (device, prop, member)
    send: list[Event] = field(default_factory=list)
    matched: list[tuple[GetSpec, Vector[Any], tuple[str, ...]]] = field(default_factory=list)
    restart_timer: bool = False
    notes: list[str] = field(default_factory=list)


class GetpropQuery:
    """The pure part of getprop: which events match which queries and what to print.

    Feed it every event from the server with :meth:`handle`; :attr:`finished` says when every
    query has been answered.
    """

    def __init__(
        self,
        specs: Sequence[GetSpec],
        *,
        just_value: bool = False,
        monitor: bool = False,
        write_only: bool = False,
    ) -> None:
        self.specs = list(specs)
        self.ok = [False] * len(self.specs)
        self.one_match = len(self.specs) == 1 and not self.specs[0].wildcard
        self.just_value = just_value and self.one_match
        self.monitor = monitor
        self.write_only = write_only
        self._blobs_enabled: set[tuple[str, str]] = set()
        # Queries naming their device and property exactly are found by dict lookup, the
        # others by trying each: a thousand exact queries cost no more per event than one.
        self._exact: dict[tuple[str, str], list[int]] = {}
        self._scanned: list[int] = []
        for index, spec in enumerate(self.specs):
            if "*" in spec.device or "*" in spec.prop:
                self._scanned.append(index)
            else:
                self._exact.setdefault((spec.device, spec.prop), []).append(index)
        self._unanswered = sum(1 for spec in self.specs if not spec.wildcard)
        self._any_wildcard = any(spec.wildcard for spec in self.specs)

    def get_properties(self) -> GetProperties:
        """The request to send: for one device when every query names the same device."""
        devices = {spec.device for spec in self.specs}
        if len(devices) == 1 and "*" not in self.specs[0].device:
            return GetProperties(version="1.7", device=devices.pop())
        return GetProperties(version="1.7")

    @property
    def finished(self) -> bool:
        """True once every query is answered: none has a wildcard and each matched (not -m)."""
        return not self.monitor and not self._any_wildcard and self._unanswered == 0

    def missing(self) -> list[GetSpec]:
        """The queries that matched nothing."""
        return [spec for spec, ok in zip(self.specs, self.ok, strict=True) if not ok]

    def handle(self, event: Event) -> Outcome:
        outcome = Outcome()
        is_def = isinstance(event, _DEFS)
        if not (is_def or isinstance(event, SetBLOBVector)
                or (self.monitor and isinstance(event, _SETS))):
            return outcome
        vector: Any = event  # a def or set vector: every one has device and name
        device, name = vector.device, vector.name
        candidates = self._exact.get((device, name), [])
        if self._scanned:
            candidates = sorted(
                [*candidates,
                 *(i for i in self._scanned if self.specs[i].matches_vector(device, name))])
        for index in candidates:
            spec = self.specs[index]
            perm = getattr(vector, "perm", None)
            if perm is not None and not self.write_only and "r" not in perm.value:
                outcome.notes.append(f"{device}.{name} is write-only")
                continue
            if isinstance(vector, DefBLOBVector):
                # As indi_getprop: ask for the BLOBs; their values (and keyword queries) are
                # answered from each setBLOBVector that arrives.
                if (device, name) not in self._blobs_enabled:
                    self._blobs_enabled.add((device, name))
                    outcome.send.append(
                        EnableBLOB(device=device, name=name, value=BLOBEnable.ALSO)
                    )
            else:
                self._elements(index, spec, vector, outcome)
            if self.one_match:
                return outcome
            if is_def:
                outcome.restart_timer = True
        return outcome

    def _answer(self, index: int) -> None:
        if not self.ok[index]:
            self.ok[index] = True
            if not self.specs[index].wildcard:
                self._unanswered -= 1

    def _elements(self, index: int, spec: GetSpec, vector: Any, outcome: Outcome) -> None:
        device, name = vector.device, vector.name
        keyword = spec.keyword
        if keyword is not None:
            self._answer(index)
            text = attribute_text(vector, keyword)
            outcome.lines.append(text if self.just_value else f"{device}.{name}.{spec.element}={text}")
            outcome.matched.append((spec, vector, ()))
            return
        names: list[str] = []
        for member in vector.members:
            if not spec.matches_element(member.name):
                continue
            self._answer(index)
            names.append(member.name)
            if isinstance(member, BLOB):
                outcome.blobs.append((device, name, member))
            elif self.just_value:
                outcome.lines.append(member_text(member))
            else:
                outcome.lines.append(f"{device}.{name}.{member.name}={member_text(member)}")
            if self.one_match:
                break
        if names:
            outcome.matched.append((spec, vector, tuple(names)))


def _parse_args(args: list[str]) -> tuple[dict[str, Any], list[GetSpec]]:
    opts, operands = parse_options(args, "1d:h:p:mt:vw", ["json", "help"])
    settings: dict[str, Any] = {"host": "localhost", "port": 7624, "timeout": 2.0, "fd": None,
                                "verbose": 0, "just_value": False, "monitor": False,
                                "write_only": False, "json": False, "help": False}
    for opt, value in opts:
        if opt == "-1":
            settings["just_value"] = True
        elif opt == "-d":
            try:
                settings["fd"] = int(value)
            except ValueError:
                raise ToolError(f"-d needs a file descriptor number, got {value!r}") from None
        elif opt == "-h":
            settings["host"] = value
        elif opt == "-p":
            settings["port"] = parse_port(value)
        elif opt == "-m":
            settings["monitor"] = True
        elif opt == "-t":
            settings["timeout"] = parse_timeout(value)
        elif opt == "-v":
            settings["verbose"] += 1
        elif opt == "-w":
            settings["write_only"] = True
        elif opt == "--json":
            settings["json"] = True
        elif opt == "--help":
            settings["help"] = True
    try:
        specs = [parse_get_spec(text) for text in operands or ["*.*.*"]]
    except SpecError as exc:
        raise ToolError(str(exc), 2) from None
    return settings, specs


def _getprop(args: list[str]) -> int:
    settings, specs = _parse_args(args)
    if settings["help"]:
        print(USAGE)
        return 0
    report = Reporter(NAME, settings["verbose"])
    query = GetpropQuery(specs, just_value=settings["just_value"], monitor=settings["monitor"],
                         write_only=settings["write_only"])
    snapshot = None
    if settings["json"]:
        # Only for --json: the library's model and snapshot are start-up time of every run.
        from .snapshotjson import MatchedSnapshot

        snapshot = MatchedSnapshot(settings["host"], settings["port"])
    if settings["fd"] is not None:
        conn = Connection.from_fd(settings["fd"], on_error=report.error)
    else:
        conn = Connection.open(settings["host"], settings["port"], on_error=report.error)
    where = conn.where
    report.info(f"connected to {where}")
    timeout: float | None = settings["timeout"]
    out = sys.stdout
    folder = Path.cwd()
    try:
        conn.send(query.get_properties())
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            event = conn.next_event(deadline)
            if event is None:
                break
            if snapshot is not None:
                snapshot.learn(event)
            outcome = query.handle(event)
            for note in outcome.notes:
                report.info(note)
            if outcome.send:
                conn.send(*outcome.send)
            if snapshot is None:
                if outcome.lines:
                    out.write("\n".join(outcome.lines) + "\n")
                    if conn.idle():
                        out.flush()
            else:
                for spec, vector, names in outcome.matched:
                    snapshot.select(spec, vector, names)
            for device, prop, member in outcome.blobs:
                path = _save(report, folder, device, prop, member)
                if snapshot is not None:
                    snapshot.select_blob(device, prop, member.name, path)
            if query.finished:
                break
            if outcome.restart_timer and timeout is not None:
                deadline = time.monotonic() + timeout
    finally:
        if snapshot is not None:
            import json  # only for --json: every import is start-up time of every run

            out.write(json.dumps(snapshot.dictdump(), indent=2, ensure_ascii=False) + "\n")
        out.flush()
        conn.close()
    if query.finished:
        return 0
    missing = query.missing()
    for spec in missing:
        report.raw(f"No {spec} from {where}")
    return 1 if missing else 0


def _save(report: Reporter, folder: Path, device: str, prop: str, member: BLOB) -> Path | None:
    try:
        path, warning = save_blob(folder, device, prop, member.name, member.format, member.data,
                                  member.size)
    except (ValueError, OSError) as exc:
        report.error(f"{device}.{prop}.{member.name}: not saved: {exc}")
        return None
    if warning:
        report.error(f"{device}.{prop}.{member.name}: {warning}")
    report.info(f"wrote {path.name}")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run indipy-getprop with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return run_tool(NAME, _getprop, argv)

if __name__ == "__main__":
    raise SystemExit(main())
