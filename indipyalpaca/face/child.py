"""The face's own process (``python -m indipyalpaca.face.child``), started by
``process.FaceProcess`` with its sockets already bound: it serves them as the face in the
server's loop would, and stops at SIGTERM, SIGINT or the end of its stdin (the server gone)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys

from indipycore.commandline import configure_logging

from .hosting import AlpacaFace


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indipyalpaca.face.child",
                                     description="The Alpaca face of an indipyserver, in a "
                                                 "process of its own (started by the server).")
    parser.add_argument("--indi-host", required=True)
    parser.add_argument("--indi-port", type=int, required=True)
    parser.add_argument("--host", required=True, help="the address the HTTP socket is bound to")
    parser.add_argument("--http-fd", type=int, required=True)
    parser.add_argument("--udp-fd", type=int, default=-1)
    parser.add_argument("--discovery-port", type=int, default=0)
    registry = parser.add_mutually_exclusive_group()
    registry.add_argument("--registry", default=None)
    registry.add_argument("--no-registry", action="store_true")
    parser.add_argument("--version", default="0")
    parser.add_argument("--log-level", type=int, default=30)
    return parser


class _StdinWatch(asyncio.Protocol):
    """Stops the face when the server's end of the pipe closes."""

    def __init__(self, face: AlpacaFace) -> None:
        self.face = face

    def connection_lost(self, exc: Exception | None) -> None:
        self.face.stop()


async def _serve(face: AlpacaFace) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, face.stop)
    await loop.connect_read_pipe(lambda: _StdinWatch(face), sys.stdin)
    await face.run()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.log_level)
    http = socket.socket(fileno=args.http_fd)
    udp = socket.socket(fileno=args.udp_fd) if args.udp_fd >= 0 else None
    registry: str | bool | None = False if args.no_registry else args.registry
    face = AlpacaFace(args.indi_host, args.indi_port, host=args.host,
                      discovery_port=args.discovery_port if udp is not None else 0,
                      registry=registry, version=args.version)
    face.adopt(http, udp)
    asyncio.run(_serve(face))
    return 0


if __name__ == "__main__":
    sys.exit(main())
