"""A driver program that runs either way: serving itself, or as an executable driver.

indilib's ``indiserver`` (and ours, and indiwebmanager through them) starts a driver with a
pipe on its standard input and speaks INDI over stdin/stdout. Run from a terminal, the same
program is more useful serving itself on a port. `run_driver` decides, once for every such
program (the simulators of `indipysimulators`, a user's own driver):

- it serves itself with `IPyServer` when given ``--port`` or ``--host``, or when its standard
  input is a terminal, or /dev/null (a background job in a script, ``nohup``: no INDI server
  gave it a pipe, and none ever writes there);
- otherwise (its standard input is a pipe, as under indiserver) it speaks INDI on
  stdin/stdout, and its log goes to stderr, which indiserver copies into its own log;
- ``--stdio`` forces the driver mode.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TextIO

from indipycore.commandline import configure_logging
from indipydriver.driver import IPyDriver
from indipydriver.links import reads_nothing
from indipyserver.server import IPyServer

logger = logging.getLogger(__name__)

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 7624


def serving_parser(doc: str | None) -> argparse.ArgumentParser:
    """A command line parser described by `doc`'s first line, with the options `run_driver`
    reads: ``--host``, ``--port`` and ``--stdio`` (add the program's own to it)."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().split("\n", 1)[0])
    parser.add_argument("--host", default=None,
                        help=f"serve on this interface (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=None,
                        help=f"serve on this port (default {DEFAULT_PORT})")
    parser.add_argument("--stdio", action="store_true",
                        help="speak INDI on stdin/stdout (what indiserver expects)")
    return parser


def serves_itself(args: argparse.Namespace, stdin: TextIO | None = None) -> bool:
    """Whether to serve on a port: asked to (``--port``/``--host``), or run from a terminal
    or with stdin on /dev/null; never with ``--stdio``."""
    if args.stdio:
        return False
    if args.port is not None or args.host is not None:
        return True
    given = stdin if stdin is not None else sys.stdin
    return given.isatty() or _stdin_reads_nothing(given)


def _stdin_reads_nothing(stdin: TextIO | None) -> bool:
    """Whether `stdin` is /dev/null or closed (`reads_nothing`); False for one without a
    file descriptor (a test's StringIO)."""
    if stdin is None:  # Python leaves sys.stdin None when fd 0 was closed at start
        return True
    try:
        fd = stdin.fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return False
    return reads_nothing(fd)


def run_driver(driver: IPyDriver, args: argparse.Namespace) -> None:
    """Run `driver` until its server stops (Ctrl-C) or, under an INDI server, until its
    standard input ends; `args` holds `serving_parser`'s options."""
    if not serves_itself(args):
        # stdout carries INDI: logs go to stderr (the INDI server's log).
        configure_logging(logging.INFO)
        if _stdin_reads_nothing(sys.stdin):  # --stdio with nothing on stdin: said, status 1
            logger.error("--stdio, but standard input is /dev/null (a background job, nohup): "
                         "no INDI server can speak to the driver; let a server start it, or "
                         "leave out --stdio to serve on a port")
            raise SystemExit(1)
        asyncio.run(driver.asyncrun())
        return
    host, port = args.host or DEFAULT_HOST, args.port or DEFAULT_PORT
    configure_logging(logging.INFO)
    if args.port is None and args.host is None and _stdin_reads_nothing(sys.stdin):
        logger.info("standard input is /dev/null (a background job, nohup): serving on a "
                    "port rather than on stdin/stdout (--stdio for that, under an INDI server)")
    logger.info("%s served on %s:%s; Ctrl-C to stop", ", ".join(driver), host, port)
    IPyServer(driver, host=host, port=port).run()  # a Ctrl-C stops it cleanly
