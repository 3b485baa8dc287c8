"""The one ``main`` of every simulator: the serving options, the simulator's own knob, run.

Each simulator adds at most one option of its own (a speed, a rate, a period) to the options
`indipyserver.standalone` reads, and builds its driver from it.
"""

from __future__ import annotations

from collections.abc import Callable

from indipydriver import IPyDriver
from indipyserver.standalone import run_driver
from indipyserver.standalone import serving_parser


def simulator_main(doc: str | None, argv: list[str] | None,
                   make_driver: Callable[..., IPyDriver],
                   knob: tuple[str, float, str] | None = None) -> None:
    """Parse `argv` (``--host``, ``--port``, ``--stdio`` and the `knob`: its flag, default and
    help, a float handed to `make_driver`) and run the driver: served, or on stdin/stdout under
    an INDI server."""
    parser = serving_parser(doc)
    if knob is None:
        args = parser.parse_args(argv)
        run_driver(make_driver(), args)
        return
    flag, default, text = knob
    parser.add_argument(flag, type=float, default=default, help=text)
    args = parser.parse_args(argv)
    run_driver(make_driver(getattr(args, flag.lstrip("-").replace("-", "_"))), args)
