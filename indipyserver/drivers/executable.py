"""Executable (third-party) drivers run as child processes, restarted with backoff.

stdin and stderr are pipes. stdout is one end of an AF_UNIX socketpair, as indiserver gives
every driver; any program but an ELF one (a script) also gets a side channel for its BLOBs'
descriptors, on which it may ask for stdout on a pipe instead, as an ``IPyDriver`` does
(``drivers.fdchannel``: which stdout when, ``shared_blobs``/``--shared-blobs``, and the side
channel's protocol). An indilib driver
checks fd 1 with ``getsockopt(SO_DOMAIN)`` and, on a Unix socket, passes each BLOB's data as a
memfd (SCM_RIGHTS) instead of writing it as 72-column base64 with ``enclen``, which
libindiclient miscounts (``bloblen`` about 1.4 % too large). We take the descriptors
(`SocketReader`, or the side channel's `FdChannel`) and send clients one line of base64
(``blobs.attached``), as indiserver 1.9.9 does. What else a driver writes is read with
cut-through on either (the socket with fewer, larger reads than a pipe's, ``bench/RESULTS.md``).
An attached element is small (the data travels aside) and comes whole; a large one is then
passed on in pieces as it is encoded, over several loop iterations, its reader held unless
what the driver sends meanwhile cannot overtake it. What such a driver sends inline (a BLOB it
did not allocate as shared memory) streams through as a pipe driver's does (cut-through,
``blobs.cutthrough``), in order with the conversions (``blobs.attached``).

The pipes and socket themselves, and the room they are given, are made in ``drivers.stdio``;
stderr's lines are logged, bounded, by ``drivers.stderrlog``; the program is checked before the
driver is added, and a failed start explained, by ``drivers.programs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shlex
import signal
from collections.abc import Callable
from collections.abc import Mapping
from functools import partial

from indipycore.retrypolicy import Backoff
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry
from indipycore.retrypolicy import RunEnded
from indipyserver.blobs.attached import AttachedBlobs
from indipyserver.blobs.cutthrough import BlobForwarder
from indipyserver.blobs.sharedbuffers import SharedBuffers
from indipyserver.drivers.driverconnection import DEFAULT_DRIVER_QUEUE_BYTES
from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.fdchannel import BLOB_FD_ENV
from indipyserver.drivers.fdchannel import is_elf
from indipyserver.drivers.inbound import InboundProtocol
from indipyserver.drivers.outbound import OutboundProtocol
from indipyserver.drivers.outbound import WriteGate
from indipyserver.drivers.outbound import pump
from indipyserver.drivers.pipereader import PipeReader
from indipyserver.drivers.pipereader import SocketReader
from indipyserver.drivers.pipewriter import PipeWriter
from indipyserver.drivers.programs import UNRUNNABLE_ERRNOS
from indipyserver.drivers.programs import check_program
from indipyserver.drivers.programs import start_hint
from indipyserver.drivers.stderrlog import log_stderr
from indipyserver.drivers.stdio import DriverStdio
from indipyserver.routing.ports import DriverSide

# check_program stays importable from here, where it was (it lives in drivers.programs).
__all__ = ["ExDriverConnection", "check_program"]

logger = logging.getLogger("indipyserver.exdriver")  # the name users' logs know

#: Seconds a driver must run for its deaths in a row (and its restart delays) to count from 0
#: again: indiserver counts restarts over its whole life, so ten crashes spread over a week
#: retire a driver for good there, and it restarts a dead one at once (INDI issue #1332).
DRIVER_STABLE_AFTER = 60.0

#: Counts the driver processes started (`ExDriverConnection.start_serial`).
_STARTS = itertools.count()

#: Set in each executable driver's environment to the server's pid: a child that starts an
#: `IPyServer` of its own (an executable .py ending with ``IPyServer(driver).run()``) sees
#: it is one of our drivers (its parent's pid) and exits with `SERVES_ITSELF_STATUS`, saying
#: why, instead of quietly serving on its own port while this server has no devices of it.
DRIVER_OF_ENV = "INDIPYSERVER_DRIVER_OF"

#: Seconds a SIGKILLed driver is waited for when its reaping is cancelled (`_kill_and_wait`).
KILL_WAIT = 5.0
#: That child's exit status (EX_CONFIG): the driver is dropped, not restarted.
SERVES_ITSELF_STATUS = 78


class ExDriverConnection(DriverConnection):
    """One executable driver: spawned, watched, restarted with backoff, and reaped on shutdown.

    ``name``, ``config``, ``skel`` and ``prefix`` become ``INDIDEV``, ``INDICONFIG``, ``INDISKEL``
    and ``INDIPREFIX``, as indiserver's FIFO options do; ``INDIDEV`` pins the device name an
    indilib driver would otherwise take from the first ``getProperties`` it sees.
    ``shared_blobs``: None (the default) gives every program stdout on a Unix socket (BLOBs
    attached as descriptors taken) and any but an ELF one the side channel beside it, on
    which it may ask for a pipe (``drivers.fdchannel``); True the socket alone to any program;
    False a pipe alone (every BLOB inline).
    ``retry`` (a ``Retry``, ``indipycore.retrypolicy``) replaces the restart policy (give it
    a ``stable_after``: with 0 every spawn counts as a success, so its limit is never reached);
    ``backoff`` replaces only its delays, ``max_restarts`` only its limit.
    """

    is_remote = False

    def __init__(
        self,
        program: str,
        *args: str,
        name: str | None = None,
        config: str | None = None,
        skel: str | None = None,
        prefix: str | None = None,
        env: Mapping[str, str] | None = None,
        max_restarts: int | None = 10,
        backoff: Backoff | None = None,
        max_queue_bytes: int = DEFAULT_DRIVER_QUEUE_BYTES,
        grace: float = 2.0,
        retry: Retry | None = None,
        shared_blobs: bool | None = None,
    ) -> None:
        # Named in logs as started: `python cam.py` must not be logged as just `python`.
        command = shlex.join([program, *args]) if args else program
        super().__init__(
            command if name is None else f"{command} ({name})", max_queue_bytes=max_queue_bytes
        )
        self.program = program
        self.args = args
        self.name = name
        self.env: dict[str, str] = dict(env or {})
        #: What the server hands every driver it starts (`IPyServer.handed_env`: its
        #: address), under the server's own environment and `env`, which win.
        self.handed: Mapping[str, str] = {}
        for key, value in (
            ("INDIDEV", name),
            ("INDICONFIG", config),
            ("INDISKEL", skel),
            ("INDIPREFIX", prefix),
        ):
            if value is not None:
                self.env[key] = value
        # The restart delays: 0.5 s doubling to 30 s, at most `max_restarts` deaths in a row,
        # counted again from 0 after a run of DRIVER_STABLE_AFTER seconds (`backoff` alone
        # replaces the delays and keeps the rest).
        self.retry = retry or Retry(backoff or ExponentialBackoff(0.5, 30.0), max_restarts,
                                    stable_after=DRIVER_STABLE_AFTER)
        self.restarts = self.retry.attempts()
        self.grace = grace
        self.shared_blobs = shared_blobs
        self.pid: int | None = None
        #: The last start's stdout: "socket", "pipe+fdchannel" or "pipe" (None until started;
        #: "socket+fdchannel" until the driver's first word says which it chose).
        self.stdout_kind: str | None = None
        self.exited_for_good = False
        #: Set when the program could not be executed before it ever ran (`_spawn`).
        self.unrunnable = False
        #: When its process last started, as a count of every driver started in this process:
        #: FIFO ``stop BIN`` stops the lowest, as indiserver stops the oldest it runs (a
        #: restart counts as a new start there too). None until it has started.
        self.start_serial: int | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._stop_requested = False
        self._stop_event = asyncio.Event()
        self._end_stdin: Callable[[], None] | None = None  # while its stdin is open
        self._sigterm_by_us = False
        self._restarting = False  # the next start follows a death (logged as a recovery)

    def stop(self) -> bool:
        """Stop the driver for good (FIFO ``stop``): ``run`` reaps the process and returns.

        As at shutdown, its stdin is closed first (indilib's drivers and ours exit on EOF) and
        SIGTERM sent only if it is still running after half the grace period."""
        self._stop_requested = True
        self._stop_event.set()
        process = self._process
        if process is None or process.returncode is not None:
            return True
        if self._end_stdin is not None:
            self._end_stdin()
        try:
            asyncio.get_running_loop().call_later(self.grace / 2, self._terminate, process)
        except RuntimeError:  # not called from the server's loop
            self._terminate(process)
        return True

    def _terminate(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            self._sigterm_by_us = True  # no news when it dies of it (`_reap`)
            process.terminate()

    async def run(self, router: DriverSide) -> None:
        """Run the driver for the life of the server, restarting it when it dies: each life is
        ``_life``, restarted by the one loop, ``Retry.call_with_retry``, until stopped, never
        runnable, or dead ``max_restarts`` times in a row (exited for good)."""
        try:
            await self.retry.call_with_retry(
                lambda: self._life(router), self._died, errors=(RunEnded,),
                attempts=self.restarts, log=self._log_restart, sleep=self._wait_unless_stopped)
        except RetriesExhausted as exc:
            self.exited_for_good = True
            logger.error("driver %s exited for good after %d restarts", self.label,
                         exc.failures)
        finally:
            # Asked for by the FIFO: said; the server shutting down: each driver is not news.
            level = logging.INFO if self._stop_requested and not _cancelling() else logging.DEBUG
            logger.log(level, "driver %s stopped", self.label)

    async def _life(self, router: DriverSide) -> None:
        """One run of the driver: ``RunEnded`` when it died (to be restarted); returns when it
        was stopped, or cannot be executed at all."""
        if self._stop_requested:
            return
        await self._run_once(router)
        if self._stop_requested:
            return
        if self.unrunnable:
            # Never ran and cannot be executed: retrying would only repeat the error for
            # minutes (indiserver spends its -r restarts on it within a second).
            self.exited_for_good = True
            return
        raise RunEnded(f"driver {self.label} died")

    async def _died(self, error: BaseException) -> None:
        self._restarting = True  # the next start is logged as a recovery

    def _log_restart(self, error: BaseException, delay: float) -> None:
        logger.warning("restarting driver %s in %.1f s", self.label, delay)

    async def _wait_unless_stopped(self, delay: float) -> None:
        """The delay before a restart, cut short by ``stop()`` (``_life`` then returns)."""
        try:
            async with asyncio.timeout(delay):  # (wait_for can lose a cancellation)
                await self._stop_event.wait()
        except TimeoutError:
            pass

    async def _run_once(self, router: DriverSide) -> None:
        """Start the program once and serve it until it ends: its stdio made, its process
        spawned, its reader and writer run, everything closed and reaped after."""
        env = dict(self.handed)
        env.update(os.environ)
        env.update(self.env)
        for key, value in self.handed.items():
            if env[key] != value:
                logger.info("driver %s keeps its %s=%s (not this server's %s)",
                            self.label, key, env[key], value)
        # auto: the socket, and a script the side channel too, where it may ask for a pipe
        offer = self.shared_blobs is None and not is_elf(self.program, env.get("PATH"))
        stdio = DriverStdio(self.shared_blobs is not False, side=offer)
        try:
            process = await self._spawn(stdio, env)
        except BaseException:  # the server stopped while the program was being started
            stdio.close_ours()  # our ends of its socketpairs and pipe, not left to the GC
            raise
        if process is None:
            return
        buffers = stdio.side if stdio.side is not None else SharedBuffers()
        inbound, attached = self._reader_for(router, stdio.kind != "pipe", buffers)
        await self._serve(router, process, stdio, buffers, inbound, attached)

    async def _spawn(self, stdio: DriverStdio,
                     env: dict[str, str]) -> asyncio.subprocess.Process | None:
        """The program started on `stdio` (None, logged, when it cannot be executed)."""
        env[DRIVER_OF_ENV] = str(os.getpid())
        passed: tuple[int, ...] = ()
        if stdio.side is not None:
            passed = (stdio.side.child_fd,)
            env[BLOB_FD_ENV] = str(stdio.side.child_fd)
        else:
            env.pop(BLOB_FD_ENV, None)  # not one the server itself was given
        try:
            process = await asyncio.create_subprocess_exec(
                self.program,
                *self.args,
                stdin=stdio.child_in,
                stdout=stdio.child_out,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                pass_fds=passed,
                # Own process group: a Ctrl-C in the terminal reaches only the server, which then
                # shuts its drivers down in order instead of watching them all die at once.
                process_group=0,
            )
        except OSError as exc:
            stdio.close_ours()
            # A driver that has run before keeps its restarts (its program may be back after
            # an upgrade); one that never ran and cannot be executed is dropped at once.
            self.unrunnable = self.pid is None and exc.errno in UNRUNNABLE_ERRNOS
            logger.error("cannot start driver %s: %s%s%s", self.label, exc,
                         start_hint(self.program, exc),
                         ": dropped, not retried" if self.unrunnable else "")
            return None
        finally:
            stdio.close_childs()  # the child holds its own copies
        self._process = process
        self.pid = process.pid
        self.stdout_kind = stdio.kind
        self.start_serial = next(_STARTS)
        self.restarts.succeeded()
        # A restart ends the warning of the death before it: said at the same level, so that
        # whoever saw the failure sees the recovery (issue 28).
        logger.log(
            logging.WARNING if self._restarting else logging.INFO,
            "%s driver %s (pid %d%s)",
            "restarted" if self._restarting else "started",
            self.label,
            process.pid,
            {"socket": "", "pipe": ", stdout on a pipe",
             "socket+fdchannel": ", a side channel beside its stdout"}[stdio.kind],
        )
        self._restarting = False
        return process

    def _reader_for(self, router: DriverSide, shared: bool,
                    buffers: SharedBuffers) -> tuple[InboundProtocol, AttachedBlobs | None]:
        """What reads the driver's stdout: frames to the router, BLOBs streamed on, and (on a
        Unix socket, or beside a side channel: `shared`) its attached BLOBs through
        `AttachedBlobs`."""
        on_frames = partial(router.driver_frames, self)
        attached: AttachedBlobs | None = None
        if shared:
            # What it sends inline streams as a pipe driver's does, through AttachedBlobs,
            # which also passes an attached BLOB on in pieces as it encodes it, in order.
            attached = AttachedBlobs(
                on_frames,
                buffers,
                self.label,
                BlobForwarder(router, self, on_whole=on_frames),
                self.congestion,
                # a Unix client gets even a small image's memfd
                small_to_sink=partial(router.takes_attached, self),
            )
            inbound = InboundProtocol(attached, self.label, attached, self.congestion,
                                      split_attached=True)
            attached.reader = inbound
        else:
            inbound = InboundProtocol(
                on_frames, self.label, BlobForwarder(router, self), self.congestion
            )
        inbound.stray_text_hint = (" (a print() to stdout? An executable driver's stdout "
                                   "carries INDI XML only: log to stderr)")
        # A set vector alone in a read goes to its clients before it is framed (``fastpath.shortcut``).
        # (While AttachedBlobs converts, a set vector read meanwhile reaches the image's
        # receivers behind it: they stream it, else the reader is held.)
        if self.shortcut is not None:
            inbound.shortcut_route = partial(self.shortcut.route_set, self)
        return inbound, attached

    async def _serve(self, router: DriverSide, process: asyncio.subprocess.Process,
                     stdio: DriverStdio, buffers: SharedBuffers, inbound: InboundProtocol,
                     attached: AttachedBlobs | None) -> None:
        """Read and write the driver until its stdout ends, then close its pipes, reap it and
        tell the router it is gone (if it was told the driver was ready)."""
        ready = False

        def tell_ready() -> None:
            nonlocal ready
            router.driver_ready(self)
            ready = True

        try:
            await self._exchange(process, stdio, buffers, inbound, attached, tell_ready)
        finally:
            self._process = None
            if attached is not None:
                attached.close()
            buffers.close_all()  # descriptors the dead driver sent for nothing
            if ready:
                router.driver_lost(self)

    async def _exchange(self, process: asyncio.subprocess.Process, stdio: DriverStdio,
                        buffers: SharedBuffers, inbound: InboundProtocol,
                        attached: AttachedBlobs | None, tell_ready: Callable[[], None]) -> None:
        """The driver's stdin and stdout served until its stdout ends, then closed, and the
        process reaped; `tell_ready` once its stdin is open, before its first read."""
        loop = asyncio.get_running_loop()
        gate = WriteGate()
        write_pipe = os.fdopen(stdio.write_fd, "wb", buffering=0)
        write_transport: asyncio.WriteTransport | None = None
        read_transport: asyncio.ReadTransport | None = None
        async with asyncio.TaskGroup() as tg:
            try:
                write_transport = PipeWriter(loop, write_pipe, OutboundProtocol(gate))
                self._end_stdin = write_transport.close
                # Ready before the first byte is read, so the router knows the driver when
                # its first definitions arrive; early output just waits in the pipe.
                self.discard_outgoing()
                tell_ready()
                assert process.stderr is not None
                tg.create_task(log_stderr(process.stderr, self))
                pumping = tg.create_task(pump(self, write_transport, gate))
                # A script's stdout: the socket, or the pipe it asks for (its first word).
                await stdio.settle()
                self.stdout_kind = stdio.kind
                if stdio.sock is not None:
                    read_transport = SocketReader(loop, stdio.sock, inbound, buffers.push)
                else:
                    read_transport = PipeReader(
                        loop, os.fdopen(stdio.read_fd, "rb", buffering=0), inbound)
                inbound.start()
                self.reader_now = read_transport.read_now  # the shortcut: a quick answer, read at once
                await inbound.closed.wait()
                if attached is not None:
                    await attached.finished()  # its last image is delivered all the same
                pumping.cancel()
            finally:
                self.reader_now = None
                self._end_stdin = None
                # Closing stdin first lets a C driver exit by itself (it exits on EOF). A
                # driver that stopped reading never drains what is buffered for it, so its
                # transport is aborted: close() would wait for that drain for ever and leak.
                if write_transport is None:
                    write_pipe.close()
                elif write_transport.get_write_buffer_size():
                    write_transport.abort()
                else:
                    write_transport.close()
                if read_transport is not None:
                    read_transport.close()
                else:
                    stdio.close_read()
                if attached is not None:
                    attached.close()  # a BLOB being converted: given up, its fds closed
                await self._reap(process)

    async def _stop_child(self, process: asyncio.subprocess.Process) -> bool:
        """Let the child exit on the EOF of its stdin, else SIGTERM, else SIGKILL; whether it
        was stopped by us (its end is then no news)."""
        if process.returncode is None:
            try:
                await asyncio.wait_for(asyncio.shield(process.wait()), self.grace / 2)
            except TimeoutError:
                pass
        stopped, self._sigterm_by_us = self._sigterm_by_us, False  # by us: no news
        if process.returncode is None:
            stopped = True
            process.terminate()
            try:
                await asyncio.wait_for(asyncio.shield(process.wait()), self.grace)
            except TimeoutError:
                logger.warning("driver %s ignored SIGTERM; killing it", self.label)
                process.kill()
        return stopped

    async def _reap(self, process: asyncio.subprocess.Process) -> None:
        """Stop and wait for the child; runs even when the server is being cancelled."""
        try:
            stopped = await self._stop_child(process)
            returncode = await asyncio.shield(process.wait())
        except asyncio.CancelledError:
            # Cancelled again while reaping (the end of an event loop cancels every task,
            # and the server's task group its drivers once more): the child is killed and
            # waited for all the same, or it outlives the server and its transport is left
            # to the garbage collector ("subprocess N is still running", issue 90 item 5).
            await _kill_and_wait(process)
            raise
        if (stopped and returncode == -signal.SIGTERM) or self._stop_requested or _cancelling():
            # Stopped by us (FIFO stop, server shutdown): indilib's drivers exit with status 1
            # on the EOF of their stdin, which is no news at a clean stop.
            logger.debug("driver %s (pid %d) stopped, status %d", self.label, process.pid,
                         returncode)
        elif returncode == SERVES_ITSELF_STATUS and not self.unrunnable:
            # Our IPyServer in the child refused to serve (its stderr line says so above):
            # restarting would only repeat it.
            self.unrunnable = True
            logger.error("driver %s starts a server of its own instead of speaking INDI on "
                         "stdin/stdout, so this server has none of its devices: dropped, not "
                         "retried (its own message is above)", self.label)
        elif returncode < 0:
            logger.warning(
                "driver %s (pid %d) killed by %s",
                self.label,
                process.pid,
                signal.Signals(-returncode).name,
            )
        else:
            logger.warning("driver %s (pid %d) exited with status %d", self.label, process.pid,
                           returncode)

    def __repr__(self) -> str:
        return f"ExDriverConnection({self.program!r}, pid={self.pid})"


async def _kill_and_wait(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the child and wait until it is reaped, through further cancellations: SIGKILL
    cannot be ignored, so the wait is short; bounded all the same (a process stuck in the
    kernel), after which the child watcher still reaps it while the loop runs."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    reaped = asyncio.ensure_future(process.wait())
    deadline = asyncio.get_running_loop().time() + KILL_WAIT
    while not reaped.done() and asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([reaped], timeout=deadline - asyncio.get_running_loop().time())
    if not reaped.done():
        reaped.cancel()
        logger.error("driver process %d did not end within %.0f s of SIGKILL", process.pid,
                     KILL_WAIT)


def _cancelling() -> bool:
    """Whether the running task is being cancelled (the server shutting down)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
