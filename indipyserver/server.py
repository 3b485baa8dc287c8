"""`IPyServer`: in-process drivers, executable drivers and remote servers behind one port."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import re
import signal
import ssl
import sys
import threading
import weakref
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import Unpack

from indipycore.commandline import configure_logging
from indipycore.protocol.timestamps import format_timestamp
from indipycore.tls import server_context
from indipydriver import Device
from indipydriver import IPyDriver
from indipyserver.clients.clientconnection import DEFAULT_MAX_CLIENT_QUEUE
from indipyserver.clients.clientconnection import ClientConnection
from indipyserver.clients.faceport import AVAILABLE as FACE_DOOR
from indipyserver.clients.faceport import FacePort
from indipyserver.clients.tlsport import HANDSHAKE_TIMEOUT
from indipyserver.clients.tlsport import MAX_HANDSHAKES
from indipyserver.clients.tlsport import TLSPort
from indipyserver.clients.unixsocket import listen_unix as unix_listener
from indipyserver.clients.unixsocket import shown
from indipyserver.compat3x import Done
from indipyserver.compat3x import Server3x
from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.executable import DRIVER_OF_ENV
from indipyserver.drivers.executable import SERVES_ITSELF_STATUS
from indipyserver.drivers.executable import ExDriverConnection
from indipyserver.drivers.inprocess import InProcessDriverConnection
from indipyserver.drivers.messagelog import DriverMessageLog
from indipyserver.drivers.served import AGENT_SERVER_ENV
from indipyserver.drivers.served import ServedDriver
from indipyserver.drivers.served import address_text
from indipyserver.drivers.served import reachable_host
from indipyserver.fastpath.shortcut import Shortcut
from indipyserver.loop.eventloop import run
from indipyserver.loop.flowcontrol import Congestion
from indipyserver.loop.flowcontrol import KeepingUp
from indipyserver.movedoptions import MovedCalls
from indipyserver.movedoptions import MovedOptions
from indipyserver.movedoptions import moved_calls
from indipyserver.routing.router import Router
from indipyserver.routing.streamblobs import DEFAULT_STREAM_DROP_MB

if TYPE_CHECKING:
    from indipyserver.announcehost import ServerAnnouncing
    from indipyserver.audit import AuditTrail
    from indipyserver.routing.access import ClientGuard
    from indipyserver.routing.aclrules import Rule

logger = logging.getLogger(__name__)

#: The servers running on each event loop that asked to stop on SIGINT/SIGTERM.
_SIGNAL_SERVERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[IPyServer]] = (
    weakref.WeakKeyDictionary()
)


def _stop_servers_on(loop: asyncio.AbstractEventLoop, sig: signal.Signals) -> None:
    # Said once, as the command line says it, however many servers share the loop (each
    # says which port it stopped).
    logger.info("%s received: shutting down", sig.name)
    for server in list(_SIGNAL_SERVERS.get(loop, ())):
        server._on_signal(sig)


def _reload_servers_on(loop: asyncio.AbstractEventLoop) -> None:
    """SIGHUP: every server on the loop re-reads its access rules and reopens its audit."""
    logger.info("SIGHUP received: reloading")
    for server in list(_SIGNAL_SERVERS.get(loop, ())):
        server.reload()


def read_acl(path: str) -> list[Rule]:
    """The rules of the access rules file `path`; OSError when it cannot be read, AclError
    (a ValueError) at its first malformed line."""
    from indipyserver.routing.aclrules import parse_acl

    with open(path, encoding="utf-8") as file:
        text = file.read()
    return parse_acl(text, path)


def _guard(server: IPyServer, audit: str | os.PathLike[str] | None,
           audit_queue: int | None) -> ClientGuard:
    """The router's guard for `server`'s ACL and audit trail (`server.audit` set), imported
    only for a server that has them."""
    from indipyserver.audit import DEFAULT_QUEUE
    from indipyserver.audit import AuditTrail
    from indipyserver.routing.access import AccessRules
    from indipyserver.routing.access import ClientGuard

    rules = AccessRules(read_acl(server.acl)) if server.acl is not None else None
    if audit is not None:
        server.audit = AuditTrail(audit, audit_queue or DEFAULT_QUEUE)
    return ClientGuard(rules, server.audit)


#: Seconds a client has, when the server stops, to take what is still queued for it.
CLOSE_GRACE = 1.0



def _check_limits(maxconnections: int, max_client_queue_mb: float,
                  max_stream_behind_mb: float) -> None:
    if maxconnections < 1:
        raise ValueError("maxconnections must be at least 1")
    if max_client_queue_mb <= 0:
        raise ValueError("max_client_queue_mb must be positive")
    if max_stream_behind_mb < 0:
        raise ValueError("max_stream_behind_mb must be 0 (never drop) or positive")


def _check_alpaca(serves_tcp: bool, alpaca: int, discovery: int) -> None:
    """Refuse an Alpaca face that cannot work now, not when it starts serving."""
    if not serves_tcp:
        raise ValueError("the Alpaca face is a client of the plain TCP port: give a port")
    if not 0 <= alpaca < 65536 or not 0 <= discovery < 65536:
        raise ValueError("the Alpaca port and its discovery port must be ports (0..65535)")
    from indipyserver.alpacahost import check_alpaca_extra

    check_alpaca_extra()


def _shortcuts(router: Router, *, audited: bool) -> tuple[Shortcut, Shortcut | None]:
    """The round trip's shortcut for drivers that read a peer, and the one for clients.

    Under access rules a client's new vector takes it only where its state `may_write` it (the
    router's question too); with an audit trail, never: the router records every command
    before it goes on (``routing.access.ClientGuard``), in that one place.
    """
    shortcut = Shortcut(router.tables)
    return shortcut, None if audited else shortcut


class IPyServer(Server3x):
    """An INDI server: routes between TCP clients and every kind of driver.

    Binds to localhost by default: INDI has no authentication (INDI notes 4.10). With
    `port=0` the system picks a port; `await server.started()` then read `server.port`.
    `port=None` serves no plain TCP port (only what `listen_tls` or `listen_unix` open; `port`
    is then 0).

    `max_stream_behind_mb` (indiserver's -d): a client more than this far behind is not given
    video stream frames (``routing.streamblobs``); 0 gives it every one. `message_log_dir`
    (indiserver's -l): drivers' messages are appended to ``DIR/YYYY-MM-DD.islog``
    (``drivers.messagelog``). `acl` (``--acl``): the access rules file (``routing.aclrules``):
    a client sees and sets only what a rule grants its identity (the Alpaca face's is
    ``alpaca``: ``clients.faceport``); a malformed line raises
    AclError (a ValueError) naming the file, the line and why; `reload()` (SIGHUP) re-reads
    it. `audit` (``--audit``): every client's new*Vector is appended to this file as a JSON
    line (``indipyserver.audit``; `audit_queue` entries (default 10000) wait for the disk at
    most, past which commands are refused) -- docs/remote-observatory.rst. Neither is
    imported, nor asked anything on the routing paths, without them. Both shape the router
    built here, so they stay constructor arguments.

    What else it listens on or serves is added by methods, called before it runs:
    `listen_tls` (a TLS port), `listen_unix` (indiserver's -u) and `serve_alpaca` (its devices
    as ASCOM Alpaca devices). The keywords they replace (``tls_port=``, ``unix_path=``,
    ``alpaca=``, ...: ``movedoptions``) still work for one release, with a DeprecationWarning
    naming the method.
    """

    def __init__(
        self,
        *drivers: Any,
        host: str = "localhost",
        port: int | None = 7624,
        maxconnections: int = 100,
        max_client_queue_mb: float = DEFAULT_MAX_CLIENT_QUEUE / (1024 * 1024),
        max_stream_behind_mb: float = DEFAULT_STREAM_DROP_MB,
        message_log_dir: str | None = None,
        handle_signals: bool = True,
        acl: str | os.PathLike[str] | None = None,
        audit: str | os.PathLike[str] | None = None,
        audit_queue: int | None = None,
        **moved: Unpack[MovedOptions],
    ) -> None:
        """Check the options now (a wrong one raises ValueError); the class says what each does."""
        _check_limits(maxconnections, max_client_queue_mb, max_stream_behind_mb)
        if port is not None and not 0 <= port < 65536:
            raise ValueError(f"port must be a port number (0..65535), not {port!r}")
        self.host = host
        #: The plain TCP port (the bound one once started); 0 when there is none (port=None).
        self.port: int = port if port is not None else 0
        #: Whether the plain TCP port is served (not with ``port=None``: ``-p 0``).
        self.serves_tcp = port is not None
        #: The TLS port (`listen_tls`; the bound one once started), its interface and context.
        self.tls_port: int | None = None
        self.tls_host: str | None = None
        self.tls_context: ssl.SSLContext | None = None
        self.tls_handshake_timeout = HANDSHAKE_TIMEOUT
        #: The TLS port while it listens (``clients.tlsport``: handshakes, counts); or None.
        self.tls: TLSPort | None = None
        self.maxconnections = maxconnections
        self.max_client_queue_bytes = int(max_client_queue_mb * 1024 * 1024)
        self.handle_signals = handle_signals
        #: The Unix socket (`listen_unix`) and whether attached BLOBs go on as they are there.
        self.unix_path: str | None = None
        self.unix_attached = True
        #: The Alpaca face's options (`serve_alpaca`): its HTTP port (None: no face), ...
        self.alpaca: int | None = None
        self.alpaca_host: str | None = None
        self.alpaca_discovery = 32227
        self.alpaca_registry: str | None = None
        self.alpaca_process = False
        self.alpaca_port: int | None = None
        self.alpaca_face: Any = None  # the face serving (alpacahost), once started
        self.face_door: FacePort | None = None  # its private socket (clients.faceport)
        #: DNS-SD announcing (`announce`; ``announcehost``), or None: not announced.
        self.announcing: ServerAnnouncing | None = None
        self.acl = os.fspath(acl) if acl is not None else None
        self.audit: AuditTrail | None = None
        guard = None
        if acl is not None or audit is not None:
            guard = _guard(self, audit, audit_queue)
        self.router = Router(
            stream_drop_bytes=int(max_stream_behind_mb * 1024 * 1024),
            message_log=DriverMessageLog(message_log_dir) if message_log_dir else None,
            guard=guard,
        )
        self._shortcut, self._client_shortcut = _shortcuts(self.router,
                                                           audited=self.audit is not None)
        self.clients: set[ClientConnection] = set()
        self._keeping_up = KeepingUp()  # its clients' progress, for fallingbehind
        self._congestion = Congestion()  # its congested clients, holding up its drivers' reads
        self._connections: list[DriverConnection] = []
        #: What each executable driver started here finds in its environment unless its env=
        #: or the server's sets it (`AGENT_SERVER_ENV`): one dict, shared by them.
        self.handed_env: dict[str, str] = {}
        self._tasks: dict[DriverConnection, asyncio.Task[None]] = {}
        self._taskgroup: asyncio.TaskGroup | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        #: Set when `asyncrun` has finished (indipyserver 0.0.6's name).
        self.stopped = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        if moved:
            self._call_moved(moved_calls(moved, stacklevel=2))
        if len(drivers) == 1 and isinstance(drivers[0], list):
            drivers = tuple(drivers[0])  # indipydriver 3.0's IPyServer([driver, ...])
        for driver in drivers:
            self.add_driver(driver)

    def _call_moved(self, calls: MovedCalls) -> None:
        """The methods the deprecated keywords stand for (``movedoptions``)."""
        if calls.listen_unix is not None:
            self.listen_unix(**calls.listen_unix)
        if calls.listen_tls is not None:
            self.listen_tls(**calls.listen_tls)
        if calls.serve_alpaca is not None:
            self.serve_alpaca(**calls.serve_alpaca)

    # -- what the server listens on ------------------------------------------------------

    def _before_running(self, method: str, already: bool) -> None:
        """Listeners are opened once, when the server starts: a method that adds one refuses
        to be called while it runs (or twice: a server has one of each)."""
        if self._loop is not None and not self.stopped.is_set():
            raise RuntimeError(f"server.{method}() must be called before the server runs "
                               "(run() or asyncrun()): it opens nothing on a running server")
        if already:
            raise RuntimeError(f"server.{method}() was already called: a server has one")

    def listen_tls(
        self, port: int, cert: str | os.PathLike[str], key: str | os.PathLike[str] | None = None,
        *, client_ca: str | os.PathLike[str] | None = None, host: str | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
    ) -> None:
        """Also serve TLS clients on `port` (``--tls-port``; 0: the system picks, read
        `tls_port` after `started()`), on `host` (default: the server's), presenting `cert` and
        `key` (PEM; None: the key is in `cert`). With `client_ca` a client must present a
        certificate signed by that CA, whose subject CN is its identity (``clients.tlsport``).
        A handshake takes at most `handshake_timeout` seconds. The files are read now: one
        that is missing or unusable raises TLSFileError (a ValueError) naming it. Call it
        before the server runs (RuntimeError after)."""
        self._before_running("listen_tls", self.tls_port is not None)
        if not isinstance(port, int) or not 0 <= port < 65536:
            raise ValueError(f"the TLS port must be a port number (0..65535), not {port!r}")
        if not cert:
            raise ValueError("a TLS port needs the server's certificate: "
                             "listen_tls(port, cert, key)")
        if handshake_timeout <= 0:
            raise ValueError("the TLS handshake timeout must be positive")
        self.tls_context = server_context(
            os.fspath(cert), os.fspath(key) if key is not None else None,
            os.fspath(client_ca) if client_ca is not None else None)
        self.tls_port, self.tls_host = port, host
        self.tls_handshake_timeout = handshake_timeout

    def listen_unix(self, path: str | os.PathLike[str], *, attached: bool = True) -> None:
        """Also serve local clients on the Unix socket `path` (indiserver's -u), abstract on
        Linux (``clients.unixsocket``). There the BLOBs C drivers attach as memory files go on
        as they are, as indiserver's clients get them, unless `attached` is False (inline
        base64, as over TCP). Call it before the server runs (RuntimeError after)."""
        self._before_running("listen_unix", self.unix_path is not None)
        if not os.fspath(path):
            raise ValueError("listen_unix needs a socket path")
        self.unix_path = os.fspath(path)
        self.unix_attached = attached

    def serve_alpaca(self, port: int, *, host: str | None = None, discovery: int = 32227,
                     registry: str | os.PathLike[str] | None = None,
                     process: bool = False) -> None:
        """Also serve every device as an ASCOM Alpaca device (``--alpaca``; the optional extra
        ``[alpaca]``) on this HTTP `port` (0: the system picks; `alpaca_port` after
        `started()`), on `host` (default: the server's), with discovery on UDP `discovery` (0:
        off) and the lasting device numbers in the file `registry` (default: the user's data
        folder) -- docs/alpaca.rst. With `process` the face runs in a process of its own
        (restarted if it dies), so Alpaca requests never hold up the INDI side's loop. The
        face is a client of the plain TCP port, and needs the extra: ValueError now without
        either. Call it before the server runs (RuntimeError after)."""
        self._before_running("serve_alpaca", self.alpaca is not None)
        _check_alpaca(self.serves_tcp, port, discovery)
        self.alpaca, self.alpaca_host, self.alpaca_discovery = port, host, discovery
        self.alpaca_registry = os.fspath(registry) if registry is not None else None
        self.alpaca_process = process

    def announce(self, interfaces: Sequence[str] | None = None, *,
                 web: str | None = None) -> None:
        """Announce this server by DNS-SD while it runs (the optional extra
        ``[discovery]``; the command does unless ``--no-announce``): ``_indi._tcp`` on its
        plain and TLS ports, on the network `interfaces` named (default:
        ``INDIPY_MDNS_INTERFACES``, else every one with multicast on) that reach the address
        it listens on; the TXT record says its ports, `web` (the web client's URL beside it)
        and its devices. A clean stop sends the goodbyes. A name this machine has no
        interface of raises InterfaceError (a ValueError) now; without the extra, or without
        multicast, the server says why once and serves unannounced."""
        self._before_running("announce", self.announcing is not None)
        from indipyserver.announcehost import ServerAnnouncing

        self.announcing = ServerAnnouncing(interfaces, web=web)

    def device_names(self) -> list[str]:
        """The names of the devices the server has now (in the order they came)."""
        return list(self.router.tables.owner)

    def __repr__(self) -> str:
        return f"<IPyServer {self.host}:{self.port} {len(self._connections)} drivers>"

    # -- what the server serves ----------------------------------------------------------

    @property
    def connections(self) -> list[DriverConnection]:
        """Every driver-side connection: in-process, executable and remote."""
        return list(self._connections)

    def add_driver(self, driver: Any) -> DriverConnection:
        """Serve an in-process `IPyDriver` (or any ready-made `DriverConnection`)."""
        if isinstance(driver, DriverConnection):
            return self.add_connection(driver)
        _check_driver(driver)
        return self.add_connection(InProcessDriverConnection(driver))

    def add_exdriver(self, program: str, *args: str, debug_enable: bool = False,
                     **options: Any) -> DriverConnection:
        """Run an executable driver (C or Python) as a child process.

        Options (name=, config=, env=, max_restarts=, retry=, shared_blobs=, ...) go to
        `ExDriverConnection`; its stdout is a Unix socket for an ELF program, a pipe and a side
        channel for BLOB memfds for a script (``shared_blobs``: ``drivers.fdchannel``).
        `debug_enable` (0.0.6) is kept on the connection; traffic is logged at DEBUG level by
        the ``indipyserver`` loggers whatever it is.
        A program that does not exist or is not executable (a path, or a name looked up on
        ``PATH``) raises FileNotFoundError or PermissionError saying so; one that ran and
        died later is restarted with backoff.
        """
        from indipyserver.drivers.programs import check_program

        env_path = (options.get("env") or {}).get("PATH", os.environ.get("PATH", os.defpath))
        check_program(program, env_path)
        conn = self.add_connection(ExDriverConnection(program, *args, **options))
        conn.debug_enable = debug_enable  # type: ignore[attr-defined]
        return conn

    def add_remote(
        self, host: str, port: int = 7624, blob_enable: bool = False,
        debug_enable: bool = False, ssl: ssl.SSLContext | None = None, **options: Any
    ) -> DriverConnection:
        """Chain another INDI server: its devices are served here too (device=, ... options).
        `debug_enable` as for `add_exdriver`. With `ssl` (asyncio's convention; make one with
        ``indipycore.tls.client_context(ca, cert, key)``) it is reached over TLS: its
        certificate verified (for ``server_hostname=``, by default `host`), ours presented if
        the context holds one; one that does not verify is logged and retried, never used."""
        from indipyserver.drivers.remote import RemoteConnection

        conn = self.add_connection(RemoteConnection(host, port, blob_enable=blob_enable,
                                                    ssl=ssl, **options))
        conn.debug_enable = debug_enable  # type: ignore[attr-defined]
        return conn

    def add_alpaca(self, url: str, *, devices: Sequence[str] | None = None) -> DriverConnection:
        """Serve an Alpaca server's devices as INDI devices (the optional extra ``[alpaca]``):
        ``add_alpaca("alpaca://host:11111")`` takes every device its management API lists;
        ``devices=["camera/0", "focuser/0"]`` (or ``alpaca://host:11111/camera/0,focuser/0``)
        names them, for a server without one. The devices appear once the Alpaca server
        answers; it is retried until then, and whenever it stops answering. ValueError for a
        bad address, ImportError saying what to install without the extra."""
        from indipyserver.alpacahost import alpaca_connection

        return self.add_connection(alpaca_connection(url, devices))

    def add_connection(self, conn: DriverConnection) -> DriverConnection:
        """Add a driver-side connection; started at once when the server is running."""
        conn.congestion = self._congestion  # held up by this server's clients only
        if isinstance(conn, ExDriverConnection):
            conn.handed = self.handed_env
        if not isinstance(conn, InProcessDriverConnection):
            conn.shortcut = self._shortcut  # it reads a peer: the shortcut can apply
            self._shortcut.driver_added()
        self._connections.append(conn)
        if self._taskgroup is not None:
            self._start(conn)
        return conn

    def remove_connection(self, conn: DriverConnection) -> None:
        """Stop a connection for good (FIFO `stop`); its devices are deleted for clients."""
        if conn in self._connections:
            self._connections.remove(conn)
        task = self._tasks.pop(conn, None)
        if not conn.stop() and task is not None:  # stop() lets a child be reaped first
            task.cancel()

    def _start(self, conn: DriverConnection) -> None:
        assert self._taskgroup is not None
        task = self._taskgroup.create_task(self._run_connection(conn), name=f"driver {conn.label}")
        self._tasks[conn] = task

    async def _run_connection(self, conn: DriverConnection) -> None:
        try:
            await conn.run(self.router)
        except asyncio.CancelledError:
            raise
        except Exception:
            # One broken connection must not take the server (the TaskGroup) down.
            logger.exception("connection %s failed", conn.label)
        finally:
            self._tasks.pop(conn, None)

    # -- running -------------------------------------------------------------------------

    def _refuse_as_a_driver(self) -> None:
        """Exit with `SERVES_ITSELF_STATUS`, saying why and what to do, when this process was
        started by an indipyserver as an executable driver: that server talks to it on
        stdin/stdout and would never see this server's devices (issue 58, 4f)."""
        parent = os.environ.get(DRIVER_OF_ENV)
        if parent is None or parent != str(os.getppid()):
            return
        program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "this program"
        logger.error(
            "%s was started by indipyserver (pid %s) as an executable driver, which speaks "
            "INDI on stdin/stdout, but it starts a server of its own (IPyServer on %s:%s), "
            "where no client of that indipyserver looks: it exits. Let indipyserver load it "
            "in-process (a .py file that is not executable: chmod -x it, or --driver-script "
            "FILE), or end it with asyncio.run(driver.asyncrun()) to speak on stdin/stdout",
            program, parent, self.host, self.port)
        raise SystemExit(SERVES_ITSELF_STATUS)

    def run(self) -> None:
        """Serve until SIGINT/SIGTERM or `shutdown()`, on the server's own event loop.

        The same as ``asyncio.run(server.asyncrun())``, except that the loop's selector reads
        clients and executable drivers itself (``loop.eventloop``): a round trip costs less.
        A script that has not configured logging (the root logger has no handler) is given the
        command line's default, as web frameworks' ``run()`` do: warnings, where the server
        listens, that it stops and what executable drivers print, on stderr. A Ctrl-C stops it
        cleanly (with ``handle_signals=False`` too: no traceback).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # none: as it should be (and run outside this handler, whose context
            # would otherwise be chained to every traceback logged while serving)
        else:
            raise RuntimeError("IPyServer.run() starts an event loop of its own; inside a "
                               "running one (a coroutine, Jupyter), use: await "
                               "server.asyncrun()")
        _default_logging()
        self._refuse_as_a_driver()
        try:
            run(self.asyncrun())
        except KeyboardInterrupt:  # no handler of ours (handle_signals=False): stopped all the same
            logger.info("SIGINT received: stopped")
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            # The first thing a newcomer meets when indiserver (or a second script) already
            # holds 7624: one line saying so and what to change, not a traceback from asyncio.
            raise SystemExit(f"{_bind_failure(exc)}: another server listens there; stop it, "
                             "or serve on another port: IPyServer(driver, port=7625)") from None

    async def asyncrun(self) -> None:
        """Serve until `shutdown()` (or SIGINT/SIGTERM); then close everything and return."""
        self._refuse_as_a_driver()
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self.stopped.clear()
        listeners: list[asyncio.Server] = []
        face = None
        try:
            await self._listen(listeners)
            if self.alpaca is not None:
                face = self._alpaca_face(await self._face_door(listeners))
        except (OSError, ValueError):
            for listener in listeners:
                listener.close()
            raise
        self._tell_listening()
        self._install_signals()
        if self.audit is not None:
            self.audit.start()
        try:
            async with asyncio.TaskGroup() as tg:
                self._taskgroup = tg
                for conn in self._connections:
                    self._start(conn)
                if face is not None:
                    tg.create_task(face.run(), name="alpaca face")
                announcing = None
                if self.announcing is not None:
                    announcing = tg.create_task(self.announcing.run(self), name="dns-sd")
                self._ready.set()
                await self._stop.wait()
                if announcing is not None:
                    announcing.cancel()  # its goodbyes, before the ports close
                if face is not None:
                    face.stop()
                for task in list(self._tasks.values()):
                    task.cancel()
        finally:
            self._taskgroup = None
            self._ready.clear()
            for listener in listeners:
                listener.close()
            if self.tls is not None:
                self.tls.close()
            for client in list(self.clients):
                client.close()
            await self._closed_or_aborted(list(self.clients))
            self._remove_signals()
            if self.audit is not None:
                self.audit.close()
            logger.info("server on port %s stopped",
                        self.port if self.serves_tcp else self.tls_port)
            self.stopped.set()

    async def _listen(self, listeners: list[asyncio.Server]) -> None:
        """Open the Unix socket, the TLS port and the plain port that were asked for (each
        appended to `listeners` as it opens, so a later failure closes the earlier ones). The
        plain port opens last: a client (or a test, or a script) that sees it accept finds
        the others open too."""
        if not self.serves_tcp and self.tls_port is None and self.unix_path is None:
            raise ValueError("nothing to listen on: port=None, and neither listen_tls() nor "
                             "listen_unix() was called")
        host = "127.0.0.1" if self.host == "localhost" else self.host
        if self.tls_port is not None:
            assert self.tls_context is not None
            self.tls = TLSPort(self.tls_context, self._client_factory,
                                handshake_timeout=self.tls_handshake_timeout,
                                max_handshakes=MAX_HANDSHAKES)
            tls_host = self.tls_host or self.host
            server = await self.tls.listen(
                "127.0.0.1" if tls_host == "localhost" else tls_host, self.tls_port)
            listeners.append(server)
            self.tls_port = server.sockets[0].getsockname()[1]
            logger.info("serving INDI over TLS on %s:%d%s", tls_host, self.tls_port,
                        " (client certificates required)" if self.tls.requires_certificates
                        else "")
        if self.unix_path is not None:
            assert self._loop is not None
            listeners.append(await unix_listener(self._loop, self._client_factory,
                                               self.unix_path))
            logger.info("serving INDI on Unix socket %s", shown(self.unix_path))
        if self.serves_tcp:
            assert self._loop is not None
            server = await self._loop.create_server(self._client_factory, host, self.port)
            listeners.append(server)
            self.port = server.sockets[0].getsockname()[1]
            logger.info("serving INDI on %s:%d", self.host, self.port)

    def _tell_listening(self) -> None:
        """Each in-process driver that is a client of this server (`ServedDriver`: an
        agent) learns where it listens: the plain port, else the Unix socket."""
        if self.serves_tcp:
            host, port = reachable_host(self.host), self.port
        elif self.unix_path is not None:
            host, port = f"localhost:{self.unix_path}", 7624
        else:
            return
        for conn in self._connections:
            if isinstance(conn, InProcessDriverConnection) and \
                    isinstance(conn.driver, ServedDriver):
                conn.driver.server_listening(host, port)
        if self.serves_tcp:
            # Every executable driver learns it too, as INDIPY_AGENT_SERVER (issue 89 item
            # 6): an agent started by `indipyserver -p 17624` drives 17624, not 7624.
            self.handed_env[AGENT_SERVER_ENV] = address_text(host, port)

    async def _face_door(self, listeners: list[asyncio.Server]) -> FacePort | None:
        """The Alpaca face's private socket (``clients.faceport``), listening, so that its
        requests reach the access rules and the audit trail as ``alpaca``; None where the
        system has no such door (not Linux)."""
        if not FACE_DOOR:
            return None
        door = FacePort(self._client_factory, self._face_pids)
        listeners.append(await door.listen())
        self.face_door = door
        return door

    def _face_pids(self) -> tuple[int, ...]:
        """The processes allowed through the face's door: the running face's."""
        face = self.alpaca_face
        return tuple(face.pids()) if face is not None else ()

    def _alpaca_face(self, door: FacePort | None) -> Any:
        """The Alpaca face (``alpacahost``), its ports bound: an INDI client of this server
        through its door, or (without one) on the server's own address."""
        from indipycore.commandline import toolkit_version
        from indipyserver.alpacahost import make_face

        indi_host = "127.0.0.1" if self.host in ("localhost", "0.0.0.0", "") else self.host
        if indi_host == "::":
            indi_host = "::1"
        if door is not None:
            indi_host = door.host
        host = self.alpaca_host or ("127.0.0.1" if self.host == "localhost" else self.host)
        assert self.alpaca is not None and self.serves_tcp
        face = make_face(indi_host, self.port, host, self.alpaca, self.alpaca_discovery,
                         self.alpaca_registry, toolkit_version(), process=self.alpaca_process)
        face.bind()
        self.alpaca_port = face.port
        self.alpaca_face = face
        # Said without -v, as the INDI port is: where Alpaca clients (and NINA's or ASCOM's
        # discovery) find this server is the first thing an --alpaca user looks for.
        logger.info("serving Alpaca on %s:%d, %s%s", host, face.port,
                    f"discovery answering on UDP {self.alpaca_discovery}"
                    if self.alpaca_discovery else "no discovery (--alpaca-discovery 0)",
                    " (the face in a process of its own)" if self.alpaca_process else "")
        return face

    async def _closed_or_aborted(self, clients: list[ClientConnection]) -> None:
        """Give closing clients CLOSE_GRACE seconds to take what is left for them, then abort
        them: one that does not read never would, and its socket would outlive the server."""
        pending = [c for c in clients if not c.closed.is_set()]
        if not pending:
            return
        try:
            async with asyncio.timeout(CLOSE_GRACE):
                for client in pending:
                    await client.closed.wait()
        except TimeoutError:
            for client in pending:
                if not client.closed.is_set():
                    logger.debug("client %s did not take its last bytes: aborted", client.label)
                    client.abort()
            await asyncio.sleep(0)  # the transports close their sockets in a callback

    async def started(self) -> None:
        """Wait until the server listens (then `port` is the bound port) and drivers run."""
        await self._ready.wait()

    def shutdown(self, shutdownmessage: str = "") -> None:
        """Ask `asyncrun` to stop; safe from any thread. A `shutdownmessage` is logged as an
        error, as indipyserver 0.0.6 did."""
        if shutdownmessage:
            logger.error(shutdownmessage)
        loop = self._loop
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                loop.call_soon_threadsafe(self._stop.set)
                return
        self._stop.set()

    def reload(self) -> bool:
        """Re-read the access rules file and reopen the audit trail (SIGHUP). A file that
        cannot be read or has a malformed line keeps the rules in force, and says why in the
        log; False then."""
        if self.audit is not None:
            self.audit.reopen()
        if self.acl is None:
            return True
        try:
            rules = read_acl(self.acl)
        except (OSError, ValueError) as exc:
            logger.error("access rules not reloaded, the old ones stay in force: %s", exc)
            return False
        from indipyserver.routing.access import AccessRules

        self.router.set_access(AccessRules(rules))
        logger.info("access rules reloaded from %s: %d rules", self.acl, len(rules))
        return True

    def send_message(self, message: str, timestamp: str | datetime | None = None) -> Done:
        """A device-less message to every connected client, queued at once; the result may be
        awaited, as 0.0.6 scripts do (``await server.send_message(...)``)."""
        if isinstance(timestamp, datetime):
            timestamp = format_timestamp(timestamp)
        self.router.send_message(message, timestamp)
        return Done()

    # -- internals -----------------------------------------------------------------------

    def _client_factory(self) -> ClientConnection:
        return ClientConnection(
            self.router,
            self.clients,
            maxconnections=self.maxconnections,
            max_queue_bytes=self.max_client_queue_bytes,
            keeping_up=self._keeping_up,
            congestion=self._congestion,
            shortcut=self._client_shortcut,
            attach_on_unix=self.unix_attached,
        )

    def _install_signals(self) -> list[signal.Signals]:
        """Stop on SIGINT/SIGTERM; one handler per loop serves every server running on it.

        `add_signal_handler` replaces the loop's previous handler, so servers sharing a loop
        (examples/chain.py runs three) register in `_SIGNAL_SERVERS` and the first one in
        installs the handler that stops them all.
        """
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return []
        loop = self._loop
        assert loop is not None
        servers = _SIGNAL_SERVERS.setdefault(loop, set())
        servers.add(self)
        if self.acl is not None or self.audit is not None:
            # SIGHUP re-reads the rules (`reload`); only then: its default ends the process,
            # which a server without them keeps.
            with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
                loop.add_signal_handler(signal.SIGHUP, _reload_servers_on, loop)
        if len(servers) > 1:
            return []
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, _stop_servers_on, loop, sig)
            except (NotImplementedError, RuntimeError):
                continue
            installed.append(sig)
        return installed

    def _remove_signals(self) -> None:
        """Leave the loop's signal registry; the last server out removes the handler."""
        loop = self._loop
        servers = _SIGNAL_SERVERS.get(loop) if loop is not None else None
        if loop is None or servers is None or self not in servers:
            return
        servers.discard(self)
        if not servers:
            del _SIGNAL_SERVERS[loop]
            with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
                loop.remove_signal_handler(signal.SIGHUP)
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        self._stop.set()


def _bind_failure(exc: OSError) -> str:
    """asyncio's bind error said plainly: "port 7624 on 127.0.0.1 is in use"."""
    found = re.search(r"\('([^']*)', (\d+)", str(exc))
    if found is None:
        return f"cannot listen: {exc.strerror or exc}"
    return f"port {found.group(2)} on {found.group(1)} is in use"


def _default_logging() -> None:
    """The command line's log without -v, for a script whose logging is not configured:
    warnings of everything, and the server's own lines (where it serves, that it stops) and
    what executable drivers print on stderr."""
    if logging.getLogger().handlers:
        return  # configured by the user: theirs to decide
    configure_logging(logging.WARNING)
    for name in (__name__, "indipyserver.driver_stderr"):
        named = logging.getLogger(name)
        if named.level == logging.NOTSET:
            named.setLevel(logging.INFO)


def _check_driver(driver: object) -> None:
    """A clear TypeError for what newcomers pass instead of a driver object: it was accepted
    and failed when served, in a traceback from inside the server."""
    if isinstance(driver, IPyDriver):
        if not hasattr(driver, "shutdownrequested"):
            raise TypeError(f"{type(driver).__name__}.__init__ must call "
                            "super().__init__(*devices, ...) to set the driver up")
        return
    if isinstance(driver, type) and issubclass(driver, IPyDriver):
        raise TypeError(f"IPyServer takes driver objects, not the class {driver.__name__}: "
                        f"create one, {driver.__name__}(device, ...)")
    if isinstance(driver, Device):
        raise TypeError(f"IPyServer takes drivers, not devices: give device "
                        f"{driver.devicename!r} to your IPyDriver subclass, "
                        "MyDriver(device), and serve that")
    if isinstance(driver, (list, tuple)):
        raise TypeError("IPyServer takes drivers as separate arguments: IPyServer(*drivers)")
    raise TypeError(f"IPyServer serves IPyDriver objects, not {type(driver).__name__} "
                    f"{driver!r:.80}")
