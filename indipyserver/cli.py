"""The ``indipyserver`` command: an INDI server driven like indilib's ``indiserver``.

Same positional driver arguments, ``-p``, ``-m``, ``-r``, ``-v`` and ``-f`` FIFO as indiserver, so
scripts and indiwebmanager can use it; plus in-process Python drivers, a built-in demo and
``--shared-blobs`` (how executable drivers pass BLOBs as memfds: a Unix socket stdout, or the
pipe a script asks for on a side channel).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import os
import shutil
import signal
import ssl
from collections.abc import MutableMapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING

from indipycore.commandline import ToolkitVersion
from indipycore.commandline import configure_logging
from indipycore.skyclock import ENV_SKY_CLOCK
from indipycore.skyclock import pinned
from indipycore.tls import client_context
from indipyserver.drivers.remote import RemoteSpec
from indipyserver.drivers.remote import parse_remote_spec
from indipyserver.fifo import FifoListener
from indipyserver.fifocontrol import FifoControl
from indipyserver.loop.eventloop import run
from indipyserver.procname import name_process_as_invoked
from indipyserver.pythondrivers import DriverLoadError
from indipyserver.pythondrivers import load_python_drivers
from indipyserver.routing.streamblobs import DEFAULT_STREAM_DROP_MB

if TYPE_CHECKING:
    from indipyserver.server import IPyServer

__all__ = ["Options", "load_python_drivers", "main", "parse_args"]

logger = logging.getLogger(__name__)

DESCRIPTION = """\
An INDI server (protocol 1.7) in the style of indilib's indiserver.

A positional DRIVER is one of
  program            an executable INDI driver found on PATH or by path (indi_simulator_ccd,
                     ./my_driver); it runs as a child process speaking INDI on stdin/stdout and is
                     restarted with backoff when it dies (at most -r times in a row); one
                     that does not exist or is not executable is an error (exit status 1)
  [device]@host[:port]
                     a remote INDI server (ours or indilib's), port 7624 by default;
                     "CCD Simulator"@pi.local takes that one device, @pi.local:7625 all of them;
                     lost remotes are retried forever and never stop this server
  [device]@tls://host[:port]
                     a remote server of ours reached on its TLS port: its certificate is
                     verified with --remote-tls-ca (default: the system's CAs) and ours
                     (--remote-tls-cert/--remote-tls-key) presented; one that does not verify
                     is never used, logged and retried
  file.py            a Python file that is NOT executable is loaded in-process, as --driver-script
  package.module     a Python module (dotted name, no program of that name on PATH) is loaded
                     in-process, as --module: e.g. indipyagents.imager, the imager agent,
                     which drives this server as its client (it learns the port itself)
  alpaca://HOST:PORT[/camera/0,focuser/0]
                     an ASCOM Alpaca server's devices as INDI devices (the extra [alpaca]):
                     every device its management API lists, or those named; an Alpaca server
                     that does not answer is retried and never stops this server

Shared BLOBs (--shared-blobs): drivers pass their BLOBs as shared memory (memfds), which the
server sends clients as one line of base64 (and clients on -u as they are). "auto" (the
default): every driver gets a Unix socket as stdout, as under indiserver 1.9.9, and any but an
ELF program (a script) a side channel too (INDIPY_BLOB_FD), on which a Python IPyDriver asks
for a pipe, quicker for small messages, and passes its memfds; "on": the socket alone; "off": a
pipe for every driver and no side channel (BLOBs inline).
It applies to the drivers given here and to those started through the FIFO.

In-process Python drivers (--driver-script FILE, --module NAME): the file or module is imported
and must provide, in this order of preference, make_driver() returning an IPyDriver (or a list
of them), a module-level list `drivers`, or a module-level `driver`. Its `if __name__ ==
"__main__":` block is not run.
"""

EPILOG = """\
FIFO (-f): one command per line, as indiserver and indiwebmanager write them:
  start <driver> [-n "name"] [-c "config"] [-s "skel"] [-p "prefix"]
  stop <driver> [-n "name"]
  start "Dev Name"@host:7625          (a line with @ is a remote; @tls://host:port too)
-n/-c/-s/-p set INDIDEV/INDICONFIG/INDISKEL/INDIPREFIX for the driver. The FIFO is created if
missing. With -f the server keeps running with no drivers at all.

examples:
  indipyserver --demo
  indipyserver indi_simulator_telescope indi_simulator_ccd
  indipyserver -p 7625 --host 0.0.0.0 indi_lx200generic --driver-script my_driver.py
  indipyserver "Dome Simulator"@obs-east:7624 @obs-west:7624
  indipyserver -v -f /tmp/indififo
  INDIPYSERVER_HOST=0.0.0.0 indipyserver indi_simulator_ccd   (as --host 0.0.0.0)

Run as "indiserver" (a symlink of that name earlier on PATH, for indiwebmanager), the process
is named indiserver on Linux, so tools that look for indiserver's process find it.

Ctrl-C or SIGTERM shuts down cleanly: drivers get EOF, then SIGTERM, then SIGKILL, and are
reaped; the exit status is 0.
"""


@dataclass(frozen=True, slots=True)
class ExDriverSpec:
    """An executable driver from the command line."""

    program: str
    args: tuple[str, ...] = ()


@dataclass(slots=True)
class Options:
    """The parsed command line."""

    port: int
    host: str
    max_client_mb: int
    max_stream_mb: float
    log_dir: str | None
    max_restarts: int
    maxconnections: int
    unix_path: str | None
    verbosity: int
    fifo: str | None
    demo: bool
    remote_blobs: bool
    shared_blobs: bool | None  # --shared-blobs: None (auto), True (on), False (off)
    exdrivers: list[ExDriverSpec]
    remotes: list[RemoteSpec]
    scripts: list[str]
    modules: list[str]
    alpaca: int | None = None  # --alpaca PORT: serve the devices as ASCOM Alpaca too
    alpaca_discovery: int = 32227
    alpaca_devices: str | None = None
    alpaca_process: bool = False  # --alpaca-process: the face in a process of its own
    alpacas: list[str] = field(default_factory=list)  # alpaca:// servers (the extra's)
    acl: str | None = None  # --acl FILE: the access rules
    audit: str | None = None  # --audit FILE: every client's command, a JSON line each
    tls_port: int | None = None  # --tls-port: also serve TLS clients (clients.tlsport)
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    tls_host: str | None = None
    remote_tls_ca: str | None = None  # remotes written @tls://host:port
    remote_tls_cert: str | None = None
    remote_tls_key: str | None = None
    announce: bool = True  # --no-announce: no DNS-SD (announcehost)
    mdns_interfaces: list[str] = field(default_factory=list)  # --mdns-interface, repeated


# The fields of `Options` that `_parse` works out from the arguments rather than copies.
_WORKED_OUT = frozenset({"shared_blobs", "exdrivers", "remotes", "scripts", "modules", "alpacas"})


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="indipyserver",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=ToolkitVersion)
    parser.add_argument("drivers", nargs="*", metavar="DRIVER",
                        help="executable driver, [device]@host[:port] remote, or a .py file")
    parser.add_argument("-p", "--port", type=int, default=7624,
                        help="TCP port to listen on (default 7624; 0: no plain TCP port, "
                             "with --tls-port or -u)")
    parser.add_argument("--host", default=os.environ.get(HOST_ENV) or "localhost",
                        help=f"interface to listen on (default ${HOST_ENV} if set, else "
                             "localhost; 0.0.0.0 for all: INDI has no authentication)")
    parser.add_argument("-m", type=int, default=128, metavar="MB", dest="max_client_mb",
                        help="MB queued to one client before it is disconnected (default 128)")
    parser.add_argument("--maxconnections", type=int, default=100, metavar="N",
                        help="clients connected at once; one more is told and closed "
                             "(default 100; a chained server above counts as one)")
    parser.add_argument("-u", metavar="PATH", dest="unix_path",
                        help="also serve local clients on this Unix socket (abstract on "
                             "Linux, as indiserver's -u; libindiclient host 'localhost:PATH'). "
                             "Off by default: indiserver's default @/tmp/indiserver stays free")
    parser.add_argument("-l", metavar="DIR", dest="log_dir",
                        help="append the drivers' messages to DIR/YYYY-MM-DD.islog, as "
                             "indiserver")
    parser.add_argument("-d", type=float, default=DEFAULT_STREAM_DROP_MB, metavar="MB",
                        dest="max_stream_mb",
                        help="MB a client may be behind and still get video stream frames "
                             f"(BLOB formats with 'stream'), as indiserver (default "
                             f"{DEFAULT_STREAM_DROP_MB}; 0 never drops them)")
    parser.add_argument("-r", type=int, default=10, metavar="N", dest="max_restarts",
                        help="restarts of a failing driver before it is given up (default 10; "
                             "the count resets after a minute of stable running)")
    parser.add_argument("-v", action="count", default=0, dest="verbosity",
                        help="-v key events, -vv debug of the server, -vvv debug of everything")
    parser.add_argument("-f", metavar="FIFO", dest="fifo",
                        help="read start/stop commands from this FIFO (indiserver compatible)")
    parser.add_argument("--driver-script", action="append", default=[], metavar="FILE",
                        dest="scripts", help="load an in-process Python driver from a file")
    parser.add_argument("--module", action="append", default=[], metavar="NAME",
                        dest="modules", help="load an in-process Python driver from a module")
    parser.add_argument("--demo", action="store_true",
                        help="also serve the built-in demo thermostat (no hardware needed)")
    parser.add_argument("--remote-blobs", action="store_true",
                        help="ask remote servers for BLOBs always, not only when a client does")
    parser.add_argument("--shared-blobs", choices=list(SHARED_BLOBS), default="auto",
                        help="how executable drivers pass BLOBs as shared memory: auto "
                             "(default: a Unix socket stdout, and for scripts, not ELF "
                             "programs, a side channel too, where an IPyDriver asks for a "
                             "pipe), on (the socket alone), off (pipes, BLOBs inline; see "
                             "above)")
    _add_alpaca_options(parser)
    _add_discovery_options(parser)
    parser.add_argument("--acl", metavar="FILE", default=None,
                        help="access rules, one a line: IDENTITY read|write DEVICE[.VECTOR] "
                             "(globs * and ?); a client sees and sets only what they grant "
                             "(Alpaca clients of --alpaca are the identity alpaca); "
                             "SIGHUP re-reads the file (docs/remote-observatory.rst)")
    parser.add_argument("--audit", metavar="FILE", default=None,
                        help="append every client's new*Vector to FILE as a JSON line (who, "
                             "from where, what, whether allowed); SIGHUP reopens it")
    tls = parser.add_argument_group(
        "TLS", "encrypted clients and chained servers, identified by their certificate "
               "(docs/remote-observatory.rst)")
    for flag, metavar, text in TLS_OPTIONS:
        tls.add_argument(flag, metavar=metavar, default=None, help=text,
                         type=int if metavar == "PORT" else str)
    return parser


#: The environment variable that sets --host's default: how an operator opens the server to
#: the network when another program starts it (indiwebmanager cannot pass --host).
HOST_ENV = "INDIPYSERVER_HOST"

#: The TLS options (their group of --help): flag, metavar, help.
TLS_OPTIONS = (
    ("--tls-port", "PORT", "also serve INDI over TLS on this port (needs --tls-cert)"),
    ("--tls-cert", "FILE", "the server's certificate (PEM; its chain after it)"),
    ("--tls-key", "FILE", "the certificate's private key (PEM; default: in --tls-cert)"),
    ("--tls-client-ca", "FILE", "require every TLS client to present a certificate signed by "
                                "this CA; its subject CN is the client's identity"),
    ("--tls-host", "HOST", "interface of the TLS port (default: --host's), e.g. 0.0.0.0 while "
                           "the plain port stays on localhost"),
    ("--remote-tls-ca", "FILE", "the CA that signed the certificates of remotes written "
                                "@tls://host:port (default: the system's CAs)"),
    ("--remote-tls-cert", "FILE", "the certificate this server presents to such remotes"),
    ("--remote-tls-key", "FILE", "its private key (default: in --remote-tls-cert)"),
)

#: --shared-blobs -> ``ExDriverConnection(shared_blobs=...)``.
SHARED_BLOBS: dict[str, bool | None] = {"auto": None, "on": True, "off": False}


def _is_in_process_script(arg: str) -> bool:
    return arg.endswith(".py") and os.path.isfile(arg) and not os.access(arg, os.X_OK)


def _is_python_module(arg: str) -> bool:
    """A dotted name (``indipyagents.imager``) that is no program on PATH nor a file here,
    and that Python finds: loaded in-process, as ``--module`` would."""
    if "." not in arg or not all(part.isidentifier() for part in arg.split(".")):
        return False
    if shutil.which(arg) is not None or os.path.exists(arg):
        return False
    try:
        return importlib.util.find_spec(arg) is not None
    except (ImportError, ValueError):
        return False


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Parse the command line; exits with status 2 and a usage message on errors."""
    parser = _build_parser()
    ns = parser.parse_args(argv)
    exdrivers: list[ExDriverSpec] = []
    remotes: list[RemoteSpec] = []
    scripts = list(ns.scripts)
    modules = list(ns.modules)
    alpacas: list[str] = []
    for arg in ns.drivers:
        if arg.startswith("alpaca://"):
            from indipyalpaca.devices.spec import parse_alpaca_url  # lazily: the extra's

            try:
                parse_alpaca_url(arg)
            except ValueError as exc:
                parser.error(str(exc))
            alpacas.append(arg)
        elif "@" in arg:
            try:
                remotes.append(parse_remote_spec(arg))
            except ValueError as exc:
                parser.error(str(exc))
        elif _is_in_process_script(arg):
            scripts.append(arg)
        elif _is_python_module(arg):
            modules.append(arg)
        else:
            exdrivers.append(ExDriverSpec(arg))
    if not (exdrivers or remotes or alpacas or scripts or modules or ns.demo or ns.fifo):
        parser.error("nothing to serve: give a driver, --driver-script, --module, --demo or -f")
    if not 0 <= ns.port < 65536:
        parser.error(f"bad port {ns.port}")
    _check_tls(parser, ns)
    if ns.max_restarts < 0 or ns.max_client_mb <= 0 or ns.max_stream_mb < 0:
        parser.error("-r and -d must be >= 0 and -m > 0")
    if ns.maxconnections < 1:
        parser.error("--maxconnections must be at least 1")
    if ns.unix_path is not None and not ns.unix_path:
        parser.error("-u needs a path")
    _check_alpaca_options(parser, ns)
    _check_mdns(parser, ns)
    # Every other field is the option of the same name as argparse parsed it.
    parsed = {f.name: getattr(ns, f.name) for f in fields(Options) if f.name not in _WORKED_OUT}
    return Options(
        **parsed,
        shared_blobs=SHARED_BLOBS[ns.shared_blobs],
        exdrivers=exdrivers,
        remotes=remotes,
        scripts=scripts,
        modules=modules,
        alpacas=alpacas,
    )


def _check_alpaca_options(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> None:
    if ns.alpaca is not None and not 0 < ns.alpaca < 65536:
        parser.error(f"bad --alpaca port {ns.alpaca}")
    if not 0 <= ns.alpaca_discovery < 65536:
        parser.error(f"bad --alpaca-discovery port {ns.alpaca_discovery}")
    if ns.alpaca_process and ns.alpaca is None:
        parser.error("--alpaca-process needs --alpaca PORT")


def _add_alpaca_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alpaca", type=int, metavar="PORT", default=None,
                        help="also serve the devices as ASCOM Alpaca devices on this HTTP port "
                             "(NINA, SharpCap...; needs the extra [alpaca]; docs/alpaca.rst)")
    parser.add_argument("--alpaca-discovery", type=int, metavar="UDPPORT", default=32227,
                        help="answer Alpaca discovery on this UDP port (default 32227, 0 off)")
    parser.add_argument("--alpaca-devices", metavar="FILE", default=None,
                        help="keep the Alpaca device numbers and UniqueIDs in FILE (default: "
                             "devices.json in the user's data folder, indipyalpaca/)")
    parser.add_argument("--alpaca-process", action="store_true",
                        help="serve Alpaca from a process of its own (restarted if it dies), "
                             "so Alpaca clients polling never hold up the INDI side")


def _add_discovery_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-announce", action="store_false", dest="announce",
                        help="do not announce this server by DNS-SD (_indi._tcp; announced "
                             "by default when the extra [discovery] is installed)")
    parser.add_argument("--mdns-interface", action="append", default=[], metavar="NAME",
                        dest="mdns_interfaces",
                        help="announce on this network interface only (repeatable; default: "
                             "INDIPY_MDNS_INTERFACES, else every one with multicast on)")


def _check_mdns(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> None:
    """A --mdns-interface this machine does not have stops the command, naming those it has."""
    if ns.mdns_interfaces:
        from indipydiscovery.interfaces import chosen_interfaces

        try:
            chosen_interfaces(ns.mdns_interfaces)
        except ValueError as exc:
            parser.error(f"--mdns-interface: {exc}")


def _check_tls(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> None:
    """The TLS options make sense together, and -p 0 leaves something to listen on."""
    if ns.tls_port is None:
        if ns.tls_cert or ns.tls_key or ns.tls_client_ca or ns.tls_host:
            parser.error("--tls-cert, --tls-key, --tls-client-ca and --tls-host need "
                         "--tls-port")
    elif not 0 < ns.tls_port < 65536:
        parser.error(f"bad --tls-port {ns.tls_port}")
    elif not ns.tls_cert:
        parser.error("--tls-port needs --tls-cert (and --tls-key unless the key is in it)")
    if ns.port == 0 and ns.tls_port is None and ns.unix_path is None:
        parser.error("-p 0 turns the plain TCP port off: give --tls-port or -u to listen on")
    if ns.port == 0 and ns.alpaca is not None:
        parser.error("--alpaca is a client of the plain TCP port: -p 0 turns it off")


def _configure_logging(verbosity: int) -> None:
    """0: warnings (failures, and the recoveries that end them), where the server listens and
    how it is announced (or why not), when it stops and what drivers print on stderr
    (indiserver shows those too); -v: key events (INFO); -vv: server debug (clients coming and
    going); -vvv: debug of everything."""
    root_level = {0: logging.WARNING, 1: logging.INFO, 2: logging.INFO}.get(verbosity, logging.DEBUG)
    configure_logging(root_level)
    if verbosity == 0:
        for name in ("indipyserver.server", "indipyserver.cli", "indipyserver.driver_stderr",
                     "indipyserver.announcehost"):
            logging.getLogger(name).setLevel(logging.INFO)
    if verbosity == 2:
        logging.getLogger("indipyserver").setLevel(logging.DEBUG)


def fifo_control(server: IPyServer, options: Options) -> FifoControl:
    """The FIFO's commands for `server`, with the command line's -r, --shared-blobs and
    --remote-tls-* files."""
    return FifoControl(server, max_restarts=options.max_restarts,
                       shared_blobs=options.shared_blobs,
                       add_remote=lambda spec: add_remote(server, spec, options))


def pin_sky_clock(environ: MutableMapping[str, str]) -> None:
    """A rehearsal's sky clock (``INDIPY_AGENT_SKY_CLOCK``) without its wall time gets one,
    now: every driver, in-process or started later, then reads the very same sky (issue 89
    item 5: the agents' and our simulators')."""
    text = environ.get(ENV_SKY_CLOCK, "").strip()
    if text:
        environ[ENV_SKY_CLOCK] = pinned(text, datetime.now(UTC))
        logger.info("the drivers' sky clock: %s=%s", ENV_SKY_CLOCK, environ[ENV_SKY_CLOCK])


def build_server(options: Options) -> IPyServer:
    """Make the server the options describe (drivers are started by ``asyncrun``)."""
    from indipyserver.server import IPyServer

    pin_sky_clock(os.environ)  # before any driver reads it, in-process or not
    drivers = load_python_drivers(options.scripts, options.modules)
    if options.demo:
        from indipyserver.demo import make_driver

        drivers.append(make_driver())
    server = IPyServer(
        *drivers,
        host=options.host,
        port=options.port or None,  # -p 0: no plain TCP port
        max_client_queue_mb=options.max_client_mb,
        max_stream_behind_mb=options.max_stream_mb,
        maxconnections=options.maxconnections,
        message_log_dir=options.log_dir,
        handle_signals=False,  # _main owns SIGINT/SIGTERM: it also stops the FIFO listener
        acl=options.acl,
        audit=options.audit,
    )
    if options.unix_path is not None:
        server.listen_unix(options.unix_path, attached=options.shared_blobs is not False)
    if options.tls_port is not None:
        server.listen_tls(options.tls_port, options.tls_cert or "", options.tls_key,
                          client_ca=options.tls_client_ca, host=options.tls_host)
    if options.alpaca is not None:
        server.serve_alpaca(options.alpaca, discovery=options.alpaca_discovery,
                            registry=options.alpaca_devices, process=options.alpaca_process)
    if options.announce:
        server.announce(options.mdns_interfaces or None)  # InterfaceError: a bad option
    for ex in options.exdrivers:
        server.add_exdriver(
            ex.program, *ex.args, max_restarts=options.max_restarts,
            shared_blobs=options.shared_blobs,
        )
    context = remote_tls_context(options) if any(r.tls for r in options.remotes) else None
    for remote in options.remotes:
        add_remote(server, remote, options, context)
    for url in options.alpacas:
        try:
            server.add_alpaca(url)
        except ImportError as exc:  # the extra is missing: one line, exit status 1
            raise DriverLoadError(str(exc)) from exc
    return server


def remote_tls_context(options: Options) -> ssl.SSLContext:
    """The TLS context of the remotes written ``@tls://``: their certificates verified with
    --remote-tls-ca, ours from --remote-tls-cert presented (TLSFileError naming a bad file)."""
    return client_context(options.remote_tls_ca, options.remote_tls_cert,
                          options.remote_tls_key)


def add_remote(server: IPyServer, spec: RemoteSpec, options: Options,
               context: ssl.SSLContext | None = None) -> None:
    """Chain the remote `spec` (over TLS if written ``@tls://``: with `context`, by default
    the options' `remote_tls_context`)."""
    if spec.tls and context is None:
        context = remote_tls_context(options)
    server.add_remote(spec.host, spec.port, blob_enable=options.remote_blobs,
                      device=spec.device, ssl=context if spec.tls else None)


async def serve(options: Options) -> None:
    """Run until cancelled (SIGINT/SIGTERM cancel it), with the FIFO if one was given.

    With ``-f`` the server keeps running with zero drivers, as indiserver does; without it,
    drivers that exit for good are logged and the server stays up for the rest.
    """
    server = build_server(options)
    loop = asyncio.get_running_loop()
    if options.acl or options.audit:
        # Re-read the rules, reopen the trail (its default, ending the process, stays
        # without them).
        loop.add_signal_handler(signal.SIGHUP, _reload, server)
    try:
        await _serve(server, options)
    finally:
        if options.acl or options.audit:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signal.SIGHUP)


def _reload(server: IPyServer) -> None:
    logger.info("SIGHUP received: reloading")
    server.reload()


async def _serve(server: IPyServer, options: Options) -> None:
    async with asyncio.TaskGroup() as tg:
        listener = None
        if options.fifo:
            listener = tg.create_task(FifoListener(options.fifo, fifo_control(server, options)).run())
        await server.asyncrun()
        if listener is not None:
            listener.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``indipyserver`` console script."""
    name_process_as_invoked()  # first, on the main thread: run as `indiserver`, named so
    options = parse_args(argv)
    _configure_logging(options.verbosity)
    try:
        return run(_main(options))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 0


async def _main(options: Options) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stopping = False

    def stop(signame: str) -> None:
        nonlocal stopping
        if not stopping:
            logger.info("%s received: shutting down", signame)  # as IPyServer.run() says it
            stopping = True
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig.name)
    try:
        await serve(options)
    except asyncio.CancelledError:
        if not stopping:
            raise
        task.uncancel()
        return 0
    except (ValueError, OSError) as exc:  # bad driver module, port in use, FIFO not a FIFO,
        # an access rules file with a malformed line (its name, the line and why)
        # A driver's own error shows where it came from with -v (one line without).
        where = isinstance(exc, DriverLoadError) and options.verbosity > 0
        logger.error("%s", exc, exc_info=exc.__cause__ if where else None)
        return 1
    except ExceptionGroup as group:
        for error in group.exceptions:
            # Expected failures (port in use, FIFO path) read best without a traceback.
            expected = isinstance(error, (ValueError, OSError))
            logger.error("%s", error, exc_info=None if expected else error)
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    return 0
