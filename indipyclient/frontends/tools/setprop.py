"""``indipy-setprop``: set INDI property values, compatible with indilib's ``indi_setprop``.

    indipy-setprop [-d fd] [-h host] [-p port] [-t secs] [-v] [-w] {[-x|-n|-s] spec} ...

A spec is ``device.property.e1[;e2...]=v1[;v2...]`` or ``device.property.e1=v1[;e2=v2...]``.
Behaviour kept from indi_setprop (INDI ``tools/setINDIproperty.c``):

- when every spec is typed (``-x`` text, ``-n`` number, ``-s`` switch before it) the new
  values are sent at once, unchecked;
- otherwise it sends ``getProperties``, waits for each property's definition (restarting the
  ``-t`` timer, default 2 s, at every text, number or switch definition), refuses a property
  whose ``perm`` lacks ``w`` (exit 1), waits until every element named exists, and sends a
  ``new*Vector`` of the definition's type holding only the elements named;
- elements never seen before the timer runs out are listed ``No d.p.e from host:port`` on
  stderr, exit 1; bad usage, no server or a closed connection exit 2.

Ours besides: values are XML-escaped (indilib writes them raw, so ``<`` or ``&`` broke the
message); an untyped spec is checked by the client library against the definition (read-only,
a number that does not parse or lies outside min..max, a switch other than ``On``/``Off`` or
breaking its rule: an error naming the element, exit 1, nothing sent) and numbers go out as
plain decimals; a typed spec's numbers must parse and its switches be ``On``/``Off``; ``-w`` waits for
the driver's answer to each property: exit 0 when it ends ``Ok`` (or ``Idle``), 1 on ``Alert``
(its message printed), 1 at once when our server refuses the command (``--acl``: its
"permission denied" message printed) or at the timeout without a final state (``Busy`` is not
final). The
answer's timeout is ``-t`` when given; without ``-t`` it covers a real exposure
(`answer_timeout`): the larger of 60 s, the vector's own timeout plus 10 s and, for a
``CCD_EXPOSURE`` or ``GUIDER_EXPOSURE``, the exposure asked for plus 60 s (readout and download).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from indipyclient.model.outgoing import InvalidValue
from indipyclient.model.outgoing import new_vector as validated_vector
from indipyclient.model.tree import Model
from indipycore.protocol import DefNumberVector
from indipycore.protocol import DefSwitchVector
from indipycore.protocol import DefTextVector
from indipycore.protocol import Event
from indipycore.protocol import GetProperties
from indipycore.protocol import Message
from indipycore.protocol import NewNumberVector
from indipycore.protocol import NewSwitchVector
from indipycore.protocol import NewTextVector
from indipycore.protocol import Number
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import SetLightVector
from indipycore.protocol import SetNumberVector
from indipycore.protocol import SetSwitchVector
from indipycore.protocol import SetTextVector
from indipycore.protocol import State
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import Text
from indipycore.protocol.numbers import parse_number
from indipycore.protocol.refusals import is_refusal
from indipycore.protocol.refusals import refuses

from .blockingconnection import Connection
from .cli import TLS_LONGOPTS
from .cli import TLS_USAGE
from .cli import Reporter
from .cli import ServerOptions
from .cli import run_tool
from .specs import SetSpec
from .specs import SpecError
from .specs import parse_set_spec
from .toolerror import ToolError

__all__ = ["SetpropPlan", "answer_timeout", "main", "parse_setprop_args", "typed_vector"]

NAME = "indipy-setprop"
USAGE = """\
usage: indipy-setprop [options] {[-x|-n|-s] spec} ...
Set writable INDI properties. A spec is
    device.property.e1[;e2...]=v1[;v2...]   or   device.property.e1=v1[;e2=v2...]
A spec typed with -x (text), -n (number) or -s (switch) is sent at once; untyped specs are
checked against the property's definition first.
  -d fd    use file descriptor fd, a socket already open to the server
  -h host  server host (default localhost)
  -p port  server port (default 7624)
  -t secs  seconds to wait for definitions (default 2), and with -w for the answer (0 = for ever)
  -v       verbose, on stderr (repeat for more)
  -w       wait until the driver's answer leaves Busy: exit 0 on Ok (or Idle), 1 on Alert or
           timeout. Without -t the answer is waited for the larger of 60 s, the vector's own
           timeout + 10 s and, for CCD_EXPOSURE or GUIDER_EXPOSURE, the exposure + 60 s
""" + TLS_USAGE + """
Exit status: 0 all set, 1 something missing, read-only, invalid or (with -w) refused, 2 trouble."""

_KINDS = {"-x": "text", "-n": "number", "-s": "switch"}
_DEF_KINDS = (DefTextVector, DefNumberVector, DefSwitchVector)
_SETS = (SetTextVector, SetNumberVector, SetSwitchVector, SetLightVector, SetBLOBVector)
# -w without -t: the answer is waited for at least this long, the vector's own timeout plus
# ANSWER_MARGIN, and an exposure's length plus EXPOSURE_MARGIN (readout and download).
MIN_ANSWER_WAIT = 60.0
ANSWER_MARGIN = 10.0
EXPOSURE_MARGIN = 60.0
_EXPOSURES = {"CCD_EXPOSURE": "CCD_EXPOSURE_VALUE", "GUIDER_EXPOSURE": "GUIDER_EXPOSURE_VALUE"}


def answer_timeout(vector: str, vector_timeout: float, values: Sequence[tuple[str, str]]) -> float:
    """Seconds ``-w`` waits for the answer to setting `values` on `vector` when no ``-t`` is
    given: the larger of `MIN_ANSWER_WAIT`, the vector's own timeout (its definition's
    ``timeout``, 0 when unknown) plus `ANSWER_MARGIN` and, for an exposure vector, the
    exposure asked for plus `EXPOSURE_MARGIN`."""
    seconds = max(MIN_ANSWER_WAIT, vector_timeout + ANSWER_MARGIN)
    member = _EXPOSURES.get(vector)
    for name, value in values:
        if name == member:
            try:
                seconds = max(seconds, parse_number(value) + EXPOSURE_MARGIN)
            except ValueError:
                pass
    return seconds


@dataclass
class Settings:
    server: ServerOptions = field(default_factory=ServerOptions)  # -d -h -p -t
    timeout_given: bool = False  # -t given: it also bounds -w's wait for the answer
    verbose: int = 0
    wait: bool = False
    help: bool = False
    specs: list[SetSpec] = field(default_factory=list)


def _take_long(server: ServerOptions, arg: str, args: Sequence[str], i: int) -> int:
    """A TLS option (``--tls-ca FILE`` or ``--tls-ca=FILE``) at `arg`, its value at
    ``args[i]`` unless joined; the index after it. Any other long option is an error."""
    name, equals, value = arg[2:].partition("=")
    if f"{name}=" not in TLS_LONGOPTS:
        raise ToolError(f"option {arg} not recognized (try --help)")
    if not equals:
        if i >= len(args):
            raise ToolError(f"option {arg} requires an argument (try --help)")
        value, i = args[i], i + 1
    server.take(name, value)
    return i


def parse_setprop_args(args: Sequence[str]) -> Settings:
    """indi_setprop's command line: options first, then specs each optionally typed."""
    settings = Settings()
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] not in _KINDS:
        arg = args[i]
        i += 1
        if arg == "--help":
            settings.help = True
            continue
        if arg.startswith("--"):
            i = _take_long(settings.server, arg, args, i)
            continue
        j = 1
        while j < len(arg):
            flag = arg[j]
            j += 1
            if flag in "dhpt":
                if j < len(arg):
                    value, j = arg[j:], len(arg)
                elif i < len(args):
                    value, i = args[i], i + 1
                else:
                    raise ToolError(f"option -{flag} requires an argument (try --help)")
                settings.server.take(flag, value)
                settings.timeout_given = settings.timeout_given or flag == "t"
            elif flag == "v":
                settings.verbose += 1
            elif flag == "w":
                settings.wait = True
            else:
                raise ToolError(f"option -{flag} not recognized (try --help)")
    while i < len(args):
        kind = _KINDS.get(args[i])
        if kind is not None:
            i += 1
            if i >= len(args):
                raise ToolError(f"{args[i - 1]} must be followed by a spec")
        elif args[i].startswith("-"):
            raise ToolError(f"bad property type {args[i]!r}: use -x, -n or -s before a spec")
        try:
            settings.specs.append(parse_set_spec(args[i], kind))
        except SpecError as exc:
            raise ToolError(str(exc)) from None
        i += 1
    if not settings.specs and not settings.help:
        raise ToolError("no spec given (try --help)")
    return settings


def typed_vector(spec: SetSpec, kind: str) -> Event:
    """The ``new*Vector`` for ``spec`` sent as ``kind``; ToolError (exit 1) for a bad value."""
    members: list[Any] = []
    for name, value in spec.values:
        where = f"{spec.device}.{spec.prop}.{name}"
        if kind == "number":
            try:
                parse_number(value)
            except ValueError:
                raise ToolError(f"{where}: {value!r} is not a number", 1) from None
            members.append(Number(name, value.strip()))
        elif kind == "switch":
            try:
                members.append(Switch(name, SwitchState(value.strip())))
            except ValueError:
                raise ToolError(f"{where}: a switch is On or Off, not {value!r}", 1) from None
        else:
            members.append(Text(name, value))
    cls: Any = {"number": NewNumberVector, "switch": NewSwitchVector}.get(kind, NewTextVector)
    event: Event = cls(device=spec.device, name=spec.prop, members=tuple(members))
    return event


class SetpropPlan:
    """The pure part of setprop: which definitions release which specs, and what to send.

    Definitions go into the client library's model, and an untyped spec's values are checked
    against the vector it learnt by the library (``indipyclient.model.outgoing``): read-only
    vectors, numbers that do not parse or lie outside min..max, switches that are not On/Off or
    break OneOfMany/AtMostOne are refused with the reason, before anything is sent.
    """

    def __init__(self, specs: Sequence[SetSpec]) -> None:
        self.model = Model()
        self.specs = list(specs)
        self.typed = all(spec.kind is not None for spec in self.specs)
        self.found: list[set[str]] = [set() for _ in self.specs]
        self.sent = [False] * len(self.specs)

    def typed_vectors(self) -> list[Event]:
        return [typed_vector(spec, spec.kind or "text") for spec in self.specs]

    def handle(self, event: Event) -> tuple[bool, list[Event]]:
        """(restart the timer?, new vectors to send) for one event from the server."""
        if not isinstance(event, _DEF_KINDS):
            return False, []
        event_vector: Any = event
        self.model.apply(event)
        to_send: list[Event] = []
        for index, spec in enumerate(self.specs):
            if self.sent[index] or (event_vector.device, event_vector.name) != (
                spec.device, spec.prop
            ):
                continue
            names = {member.name for member in event_vector.members}
            self.found[index] = {name for name, _ in spec.values if name in names}
            if "w" in event_vector.perm.value and len(self.found[index]) < len(spec.values):
                continue  # not all there yet: maybe a later definition has them
            vector = self.model.vector(spec.device, spec.prop)
            if vector is None:  # the model refused it (over its limits): say so, as missing
                continue
            try:
                to_send.append(validated_vector(vector, dict(spec.values)))
            except InvalidValue as exc:
                raise ToolError(str(exc), 1) from None
            self.sent[index] = True
        return True, to_send

    @property
    def finished(self) -> bool:
        return all(self.sent)

    def missing(self) -> list[str]:
        return [f"{spec.device}.{spec.prop}.{name}"
                for spec, found in zip(self.specs, self.found, strict=True)
                for name, _ in spec.values if name not in found]


def _setprop(args: list[str]) -> int:
    settings = parse_setprop_args(args)
    if settings.help:
        print(USAGE)
        return 0
    report = Reporter(NAME, settings.verbose)
    plan = SetpropPlan(settings.specs)
    if plan.typed:
        vectors = plan.typed_vectors()  # checked before connecting: nothing sent if one is bad
    conn = settings.server.connect(report.error)
    report.info(f"connected to {conn.where}")
    try:
        if plan.typed:
            if settings.wait:
                conn.send(*[GetProperties(version="1.7", device=s.device, name=s.prop)
                            for s in settings.specs])
            conn.send(*vectors)
            sent: list[Any] = vectors
        else:
            sent = _send_checked(conn, plan, settings.server.timeout, report)
        if not settings.wait:
            conn.shutdown_write()
            return 0
        return _await_answers(conn, sent, plan,
                              settings.server.timeout if settings.timeout_given else "default", report)
    finally:
        conn.close()


def _send_checked(conn: Connection, plan: SetpropPlan, timeout: float | None,
                  report: Reporter) -> list[Event]:
    conn.send(GetProperties(version="1.7"))
    sent: list[Any] = []
    deadline = None if timeout is None else time.monotonic() + timeout
    while not plan.finished:
        event = conn.next_event(deadline)
        if event is None:
            for name in plan.missing():
                report.raw(f"No {name} from {conn.where}")
            raise ToolError("", 1)  # the reason is on stderr already, as indi_setprop says it
        restart, vectors = plan.handle(event)
        if vectors:
            for vector in vectors:
                new: Any = vector
                for member in new.members:
                    report.info(f"{new.device}.{new.name}.{member.name} <- "
                                f"{getattr(member.value, 'value', member.value)}")
            conn.send(*vectors)
            sent.extend(vectors)
        if restart and timeout is not None:
            deadline = time.monotonic() + timeout
    return sent


def _await_answers(conn: Connection, sent: Sequence[Any], plan: SetpropPlan,
                   timeout: float | None | str, report: Reporter) -> int:
    """Wait for each sent vector to leave Busy; `timeout` is ``-t`` (None: for ever) or
    ``"default"``, `answer_timeout` of each vector, learnt again as definitions arrive."""
    waiting = {(v.device, v.name) for v in sent}
    values = {(v.device, v.name): [(m.name, str(getattr(m.value, "value", m.value)))
                                   for m in v.members] for v in sent}
    started = time.monotonic()

    def allowed() -> float | None:
        if timeout != "default":
            return None if timeout is None else float(timeout)
        seconds = 0.0
        for device, name in waiting:
            known = plan.model.vector(device, name)
            own = known.timeout if known is not None else 0.0
            seconds = max(seconds, answer_timeout(name, own, values[(device, name)]))
        return seconds

    failed = False
    limit = allowed()
    while waiting:
        event = conn.next_event(None if limit is None else started + limit)
        if event is None:
            for device, name in sorted(waiting):
                report.error(f"{device}.{name}: no answer from the driver within {limit:g} s "
                             "(still Busy; -t changes it)")
            return 1
        if isinstance(event, _DEF_KINDS):  # its timeout may lengthen the default wait
            plan.model.apply(event)
            limit = allowed()
            continue
        if isinstance(event, Message) and is_refusal(text := event.message or ""):
            # The server would not pass it on (--acl, the audit): no answer will come.
            for key in sorted(k for k in waiting if refuses(text, *k)):
                waiting.discard(key)
                failed = True
                report.error(f"{key[0]}.{key[1]}: {text}")
            continue
        if not isinstance(event, _SETS):
            continue
        key = (event.device, event.name)
        if key not in waiting or event.state is None or event.state is State.BUSY:
            continue
        waiting.discard(key)
        message = f": {event.message}" if event.message else ""
        if event.state is State.ALERT:
            failed = True
            report.error(f"{key[0]}.{key[1]}: Alert{message}")
        else:
            report.info(f"{key[0]}.{key[1]}: {event.state.value}{message}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run indipy-setprop with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return run_tool(NAME, _setprop, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
