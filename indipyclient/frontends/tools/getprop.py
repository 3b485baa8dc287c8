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
  seconds (default 2, 0 = for ever) after the last matching definition arrived, listing ``No
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

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

# Only what parsing the command line and connecting need is imported here: the protocol core
# (``getpropquery``, ``blobfiles``) loads after the request is sent, while the server answers.
from .cli import TLS_LONGOPTS
from .cli import TLS_USAGE
from .cli import Reporter
from .cli import ServerOptions
from .cli import parse_options
from .cli import run_tool
from .specs import GetSpec
from .specs import SpecError
from .specs import parse_get_spec
from .toolerror import ToolError

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from indipycore.protocol import BLOB

    from .blockingconnection import Connection
    from .getpropquery import GetpropQuery
    from .snapshotjson import MatchedSnapshot

__all__ = ["GetpropQuery", "main"]

NAME = "indipy-getprop"
USAGE = f"""\
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
{TLS_USAGE}
Exit status: 0 every query matched, 1 some query matched nothing, 2 real trouble."""

def _parse_args(args: list[str]) -> tuple[ServerOptions, dict[str, Any], list[GetSpec]]:
    opts, operands = parse_options(args, "1d:h:p:mt:vw", ["json", "help", *TLS_LONGOPTS])
    server = ServerOptions()
    settings: dict[str, Any] = {"verbose": 0, "just_value": False, "monitor": False,
                                "write_only": False, "json": False, "help": False}
    for opt, value in opts:
        if opt == "-1":
            settings["just_value"] = True
        elif opt in ("-d", "-h", "-p", "-t") or opt.startswith("--tls-"):
            server.take(opt.lstrip("-"), value)
        elif opt == "-m":
            settings["monitor"] = True
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
    return server, settings, specs


# `<getProperties version="1.7" device="...">` cut around the device's name.
_EARLY_DEVICE = (b'<getProperties version="1.7" device="', b'"/>\n')


def early_request(specs: Sequence[GetSpec]) -> bytes | None:
    """The ``getProperties`` bytes to send before the protocol core is loaded, or None.

    Only when they need no escaping: the request names no device, or one whose name has no
    character XML must escape. The core's ``serialise`` writes exactly these bytes (a test
    holds them equal); any other name waits for it.
    """
    devices = {spec.device for spec in specs}
    if len(devices) != 1 or "*" in specs[0].device:
        return b'<getProperties version="1.7"/>\n'
    device = devices.pop()
    if not device.isprintable() or any(c in device for c in "&<>\"'"):
        return None
    # The core writer's spelling, held equal to `serialise` by a test; the one element in the
    # packages spelt outside the serialiser (tests/test_xml_writers.py names it).
    return _EARLY_DEVICE[0] + device.encode() + _EARLY_DEVICE[1]


def _getprop(args: list[str]) -> int:
    server, settings, specs = _parse_args(args)
    if settings["help"]:
        print(USAGE)
        return 0
    report = Reporter(NAME, settings["verbose"])
    conn = server.connect(report.error)
    report.info(f"connected to {conn.where}")
    timeout = server.timeout
    # As indi_getprop: the quiet period runs from the request, and restarts with each matching
    # definition from the moment its bytes arrived (not when Python got round to parsing them).
    early = early_request(specs)
    if early is not None:
        try:
            conn.send_bytes(early)
        except BaseException:
            conn.close()
            raise
    deadline = None if timeout is None else time.monotonic() + timeout
    from .getpropquery import GetpropQuery  # the protocol core: loads while the server answers

    query = GetpropQuery(specs, just_value=settings["just_value"], monitor=settings["monitor"],
                         write_only=settings["write_only"])
    snapshot = None
    if settings["json"]:
        # Only for --json: the library's model and snapshot are start-up time of every run.
        from .snapshotjson import MatchedSnapshot

        snapshot = MatchedSnapshot(server.host, server.port)
    try:
        _read_answers(conn, query, snapshot, report, timeout, deadline,
                      request=early is None)
    finally:
        conn.close()
    if query.finished:
        return 0
    missing = query.missing()
    for spec in missing:
        report.raw(f"No {spec} from {conn.where}")
    return 1 if missing else 0


def _read_answers(conn: Connection, query: GetpropQuery, snapshot: MatchedSnapshot | None,
                  report: Reporter, timeout: float | None, deadline: float | None, *,
                  request: bool) -> None:
    """Send the request unless sent early, then print (or gather, for --json) what matches,
    until the query is finished or the quiet period ends; what is gathered is written even
    when the connection fails."""
    from pathlib import Path

    out = sys.stdout
    folder = Path.cwd()
    lines: list[str] = []  # written in one go when every event read so far is handled
    try:
        if request:
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
                lines.extend(outcome.lines)
                if lines and conn.idle():
                    out.write("\n".join(lines) + "\n")
                    out.flush()
                    lines.clear()
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
                deadline = conn.arrived + timeout
    finally:
        if lines:
            out.write("\n".join(lines) + "\n")
        if snapshot is not None:
            import json  # only for --json: every import is start-up time of every run

            out.write(json.dumps(snapshot.dictdump(), indent=2, ensure_ascii=False) + "\n")
        out.flush()


def _save(report: Reporter, folder: Path, device: str, prop: str, member: BLOB) -> Path | None:
    from .getpropblobs import save_blob

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


def __getattr__(name: str) -> Any:
    # ``from indipyclient.frontends.tools.getprop import GetpropQuery`` keeps working; loaded on use.
    if name == "GetpropQuery":
        from .getpropquery import GetpropQuery

        return GetpropQuery
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run indipy-getprop with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return run_tool(NAME, _getprop, argv)

if __name__ == "__main__":
    raise SystemExit(main())
