"""The ``indipyterm`` command: ``indipyterm [--host H] [--port 7624] [--blobfolder DIR]
[--tls-ca FILE [--tls-cert FILE --tls-key FILE]] [--version]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

__all__ = ["main", "parse_args", "version"]


def version() -> str:
    try:
        return metadata.version("indipy-toolkit")
    except metadata.PackageNotFoundError:
        return "unknown"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="indipyterm",
        description="A terminal client for any INDI server: see and drive its devices.",
    )
    parser.add_argument("--host", default="localhost", help="INDI server host (default localhost)")
    parser.add_argument("--port", type=int, default=7624, help="INDI server port (default 7624)")
    parser.add_argument(
        "--blobfolder", type=Path, default=None,
        help="save received BLOBs in this folder (created if missing); BLOBs are not asked "
             "for without it",
    )
    parser.add_argument("--tls-ca", metavar="FILE", default=None,
                        help="reach the server's TLS port: its certificate verified with this "
                             "CA (docs/remote-observatory.rst)")
    parser.add_argument("--tls-cert", metavar="FILE", default=None,
                        help="our certificate, presented when the server asks (its CN names us)")
    parser.add_argument("--tls-key", metavar="FILE", default=None,
                        help="its key (default: in --tls-cert)")
    parser.add_argument("--version", action="version", version=f"indipyterm {version()}")
    args = parser.parse_args(argv)
    args.ssl = None
    if args.tls_ca or args.tls_cert or args.tls_key:
        from indipycore.tls import client_context

        try:
            args.ssl = client_context(args.tls_ca, args.tls_cert, args.tls_key)
        except ValueError as exc:
            parser.error(str(exc))
    if not 0 < args.port < 65536:
        parser.error(f"--port must be 1..65535, not {args.port}")
    if args.blobfolder is not None:
        folder = args.blobfolder.expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parser.error(f"--blobfolder {folder}: {exc.strerror}")
        args.blobfolder = folder.resolve()
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    from indipyclient.frontends.extras import require_extra

    require_extra("indipyterm", "term", ("textual",))
    from .app import TermApp  # textual is only needed once the arguments are good

    TermApp(args.host, args.port, args.blobfolder, ssl=args.ssl).run()
