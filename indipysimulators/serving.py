"""The one ``main`` of every simulator: the serving options, the simulator's own knob, run.

Each simulator adds an option of its own (a speed, a rate, a period; the camera two: its bits
and its longest exposure) to the options `indipyserver.standalone` reads, and builds its
driver from them.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence

from indipydriver import IPyDriver
from indipyserver.standalone import run_driver
from indipyserver.standalone import serving_parser

Knob = tuple[str, float, str]


def simulator_main(doc: str | None, argv: list[str] | None,
                   make_driver: Callable[..., IPyDriver],
                   knob: Knob | None = None, more: Sequence[Knob] = ()) -> None:
    """Parse `argv` (``--host``, ``--port``, ``--stdio`` and the `knob`, then those of `more`:
    each its flag, default and help, a float handed to `make_driver` in that order) and run
    the driver: served, or on stdin/stdout under an INDI server."""
    parser = serving_parser(doc)
    knobs = ([knob] if knob is not None else []) + list(more)
    for flag, default, text in knobs:
        parser.add_argument(flag, type=float, default=default, help=text)
    args = parser.parse_args(argv)
    run_driver(make_driver(*(getattr(args, flag.lstrip("-").replace("-", "_"))
                             for flag, _, _ in knobs)), args)
