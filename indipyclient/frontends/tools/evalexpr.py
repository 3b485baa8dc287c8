"""``indipy-eval``: evaluate an expression of INDI values, compatible with indilib's ``indi_eval``.

    indipy-eval [-b] [-d fd] [-e] [-f] [-h host] [-i] [-o] [-p port] [-t secs] [-v] [-w] [expr]

Behaviour kept from indi_eval (INDI ``tools/evalINDI.c``): the expression (indilib's language,
see :mod:`.expression`; read from stdin with ``-i`` or when none is given) is compiled first
(exit 2 when it cannot be); a ``getProperties`` goes to each device it names; it waits until
every operand has a value, from definitions or updates: numbers as numbers, switches 0/1 (Off/On),
lights and ``_STATE`` 0-3 (Idle, Ok, Busy, Alert), ``_TS`` the vector's timestamp in whole
seconds since 1970; the ``-t`` timer (default 2 s, 0 = for ever) restarts at every operand
value, and running out is exit 2 naming the operands never seen. Then it evaluates: ``-w``
re-evaluates at every operand update until the value is non-zero (timing out is exit 2);
``-e`` prints each value, ``-f`` the final one, ``-o`` each operand as it arrives, ``-b`` rings
the bell when true, all on stderr with ``%g``. Exit 0 when the value is non-zero, 1 when it is
zero, 2 for trouble; a bad command line is exit 1, as in indi_eval.

Ours besides: the expression is parsed into a tree and evaluated from it, never run as code;
sexagesimal numbers (``12:30:00``) are read whole (indi_eval's ``atof`` reads ``12``); ``_TS``
is read as UTC, as INDI timestamps are (indi_eval uses the local time zone); an operand used
twice gets its value (indi_eval sets only the first of two equal operands and times out);
errors are one line.
"""

from __future__ import annotations

import calendar
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from indipycore.protocol import DefLightVector
from indipycore.protocol import DefNumberVector
from indipycore.protocol import DefSwitchVector
from indipycore.protocol import Event
from indipycore.protocol import GetProperties
from indipycore.protocol import Light
from indipycore.protocol import Number
from indipycore.protocol import SetLightVector
from indipycore.protocol import SetNumberVector
from indipycore.protocol import SetSwitchVector
from indipycore.protocol import State
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import Vector
from indipycore.protocol.timestamps import parse_timestamp

from .cli import TLS_LONGOPTS
from .cli import TLS_USAGE
from .cli import Reporter
from .cli import ServerOptions
from .cli import parse_options
from .cli import run_tool
from .expression import Expression
from .expression import ExpressionError
from .expression import compile_expression
from .expression import format_g
from .toolerror import ToolError

__all__ = ["main", "operand_values"]

NAME = "indipy-eval"
USAGE = f"""\
usage: indipy-eval [options] [expr]
Evaluate an expression of INDI values; exit 0 if it is non-zero, 1 if zero, 2 on trouble.
Operands are "device.property.element" in double quotes; the element may be _STATE (0 Idle,
1 Ok, 2 Busy, 3 Alert) or _TS (the timestamp, seconds since 1970). Switches are 0/1, lights
0-3. Operators: ! + - * / && || > >= == != < <=  Functions: pi sin cos tan asin acos atan
atan2(y,x) abs floor degrad raddeg log log10 exp sqrt pow(x,y)
  -b       ring the bell (on stderr) when the expression is true
  -d fd    use file descriptor fd, a socket already open to the server
  -e       print each value of the expression (on stderr)
  -f       print the final value (on stderr)
  -h host  server host (default localhost)
  -i       read the expression from stdin
  -o       print operands as they arrive (on stderr)
  -p port  server port (default 7624)
  -t secs  seconds to wait for values (default 2, 0 = for ever)
  -v       verbose (repeat for more)
  -w       wait until the expression is true
{TLS_USAGE}
Example: indipy-eval -t 30 -w '"Telescope Simulator.EQUATORIAL_EOD_COORD._STATE"==1'"""

_STATE_VALUES = {State.IDLE: 0.0, State.OK: 1.0, State.BUSY: 2.0, State.ALERT: 3.0}


def _number(text: str) -> float:
    try:
        return Number("x", text).float
    except ValueError:
        return float("nan")


def _epoch_seconds(text: str) -> float | None:
    try:
        return float(calendar.timegm(parse_timestamp(text).timetuple()))
    except ValueError:
        return None


def operand_values(event: Event) -> list[tuple[str, float]]:
    """Every ``dev.prop.elem`` value an event carries, in indi_eval's order (members, then
    ``_STATE``, then ``_TS``)."""
    if not isinstance(event, Vector) or not hasattr(event, "device"):
        return []
    vector: Any = event
    prefix = f"{vector.device}.{vector.name}."
    values: list[tuple[str, float]] = []
    if isinstance(vector, DefNumberVector | SetNumberVector | DefSwitchVector | SetSwitchVector
                  | DefLightVector | SetLightVector):
        for member in vector.members:
            if isinstance(member, Number):
                values.append((prefix + member.name, _number(member.value)))
            elif isinstance(member, Switch):
                values.append((prefix + member.name, float(member.value is SwitchState.ON)))
            elif isinstance(member, Light):
                values.append((prefix + member.name, _STATE_VALUES[member.value]))
    state = getattr(vector, "state", None)
    if state is not None:
        values.append((prefix + "_STATE", _STATE_VALUES[state]))
    timestamp = getattr(vector, "timestamp", None)
    if timestamp:
        seconds = _epoch_seconds(timestamp)
        if seconds is not None:
            values.append((prefix + "_TS", seconds))
    return values


@dataclass
class EvalSettings:
    """indi_eval's command line: connection, timer and the one-letter flags."""

    server: ServerOptions = field(default_factory=ServerOptions)  # -d -h -p -t
    verbose: int = 0
    flags: set[str] = field(default_factory=set)  # b e f i o w


def _read_args(args: list[str]) -> tuple[EvalSettings, Expression]:
    try:
        opts, operands = parse_options(args, "bd:efh:iop:t:vw", ["help", *TLS_LONGOPTS])
    except ToolError as exc:
        raise ToolError(str(exc), 1) from None  # indi_eval's usage exits 1
    settings = EvalSettings()
    try:
        for opt, value in opts:
            if opt == "--help":
                print(USAGE)
                raise ToolError("", 0)
            if opt in ("-d", "-h", "-p", "-t") or opt.startswith("--tls-"):
                settings.server.take(opt.lstrip("-"), value)
            elif opt == "-v":
                settings.verbose += 1
            else:
                settings.flags.add(opt[1])
    except ToolError as exc:
        raise ToolError(str(exc), 0 if exc.status == 0 else 1) from None
    if len(operands) > 1:
        raise ToolError("give one expression (quote it) (try --help)", 1)
    text = operands[0] if operands and "i" not in settings.flags else sys.stdin.read()
    try:
        return settings, compile_expression(text)
    except ExpressionError as exc:
        raise ToolError(f"cannot compile the expression: {exc}", 2) from None


def _eval(args: list[str]) -> int:
    settings, expression = _read_args(args)
    flags = settings.flags
    report = Reporter(NAME, settings.verbose)
    timeout = settings.server.timeout
    conn = settings.server.connect(report.error)
    wanted = set(expression.operands)
    values: dict[str, float] = {}

    def take(event: Event) -> bool:
        seen = False
        for name, value in operand_values(event):
            if name in wanted:
                values[name] = value
                seen = True
                if "o" in flags:
                    report.raw(f"{name}={format_g(value)}")
        return seen

    def restart() -> float | None:
        return None if timeout is None else time.monotonic() + timeout

    try:
        if expression.devices:
            conn.send(*[GetProperties(version="1.7", device=d) for d in expression.devices])
        deadline = restart()
        while len(values) < len(wanted):
            event = conn.next_event(deadline)
            if event is None:
                unseen = [name for name in expression.operands if name not in values]
                raise ToolError("no values seen for " + ", ".join(unseen), 2)
            if take(event):
                deadline = restart()
        deadline = restart()
        while True:
            value = expression.evaluate(values)
            if "b" in flags and value != 0:
                sys.stderr.write("\a")
            if "e" in flags:
                report.raw(format_g(value))
            if "w" not in flags or value != 0:
                break
            while True:
                event = conn.next_event(deadline)
                if event is None:
                    raise ToolError("timed out waiting for new values", 2)
                if take(event):
                    break
            deadline = restart()
    finally:
        conn.close()
    if "f" in flags and "e" not in flags:
        report.raw(format_g(value))
    return 0 if value != 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run indipy-eval with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return run_tool(NAME, _eval, argv)


if __name__ == "__main__":
    raise SystemExit(main())
