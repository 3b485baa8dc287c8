"""`FaceProcess`: the face in a process of its own (``IPyServer.serve_alpaca(port, process=True)``,
``indipyserver --alpaca-process``), for a server whose INDI round trip must not wait behind
Alpaca requests.

The face in the server's loop (``hosting.AlpacaFace``) is the simplest to run, but each Alpaca
request then takes the loop the INDI side needs for a few hundred microseconds, and with ten
clients polling at 10 Hz the INDI round trip's p99 doubles (bench/RESULTS.md). Here the server
binds the face's sockets itself (a port in use still fails at start, and the port survives a
restart of the face), starts ``python -m indipyalpaca.face.child`` on them, and restarts it
with the project's retry loop if it dies. The child is an INDI client of the server, as the
face in the loop is, so nothing else changes. Its stdin is a pipe from the server: at its end
(the server stopped, or killed) the child stops too, and never outlives the server.

Standard library only: the server starts the face without importing Starlette or uvicorn.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import Retry
from indipycore.retrypolicy import RunEnded

from .sockets import bind_face

logger = logging.getLogger(__name__)

#: A face that dies is started again after 0.5 s, then up to 10 s apart; a run of a minute
#: forgets the failures before it.
RETRY = Retry(ExponentialBackoff(0.5, 10.0), stable_after=60.0)

#: How long the child has to stop once its stdin ends, and then once terminated.
STOP_GRACE = 3.0


@dataclass
class FaceProcess:
    """The same calls as ``hosting.AlpacaFace`` (`bind`, `port`, `run`, `stop`), the face
    served by a child process. `registry` as there: a file, None for the user's data
    folder, False for memory only (each restart of the child then starts afresh)."""

    indi_host: str
    indi_port: int
    host: str = "127.0.0.1"
    port: int = 11111
    discovery_port: int = 32227
    registry: Path | str | None | bool = None
    version: str = "0"
    retry: Retry = RETRY
    process: asyncio.subprocess.Process | None = field(default=None, init=False)
    _http: socket.socket | None = field(default=None, init=False, repr=False)
    _udp: socket.socket | None = field(default=None, init=False, repr=False)
    _stop: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def bind(self) -> None:
        """Bind the HTTP port and the discovery port here; OSError if either is taken."""
        self._http, self._udp = bind_face(self.host, self.port, self.discovery_port)
        self.port = self._http.getsockname()[1]

    def stop(self) -> None:
        self._stop.set()

    def pids(self) -> tuple[int, ...]:
        """The child running now, whose INDI client the server's door lets in (none between
        two runs; a child that connects before its process is known here is refused, and
        connects again as its client always does)."""
        process = self.process
        if process is None or process.returncode is not None:
            return ()
        return (process.pid,)

    async def run(self) -> None:
        """Run the child until `stop()` (or cancelled), restarting it when it dies."""
        if self._http is None:
            self.bind()
        try:
            await self.retry.call_with_retry(self._life, errors=(RunEnded, OSError),
                                             log=self._log_restart,
                                             sleep=self._wait_unless_stopped)
        finally:
            for sock in (self._http, self._udp):
                if sock is not None:
                    sock.close()

    def _command(self) -> tuple[list[str], list[int]]:
        """The child's command line and the descriptors it inherits."""
        assert self._http is not None
        fds = [self._http.fileno()]
        args = [sys.executable, "-m", "indipyalpaca.face.child",
                "--indi-host", self.indi_host, "--indi-port", str(self.indi_port),
                "--host", self.host, "--http-fd", str(fds[0]),
                "--discovery-port", str(self.discovery_port), "--version", self.version,
                "--log-level", str(logging.getLogger().getEffectiveLevel())]
        if self._udp is not None:
            fds.append(self._udp.fileno())
            args += ["--udp-fd", str(fds[1])]
        if self.registry is False:
            args.append("--no-registry")
        elif self.registry not in (None, True):
            args += ["--registry", str(self.registry)]
        return args, fds

    async def _life(self) -> None:
        """One run of the child: returns when stopped, ``RunEnded`` when it died."""
        if self._stop.is_set():
            return
        args, fds = self._command()
        process = await asyncio.create_subprocess_exec(*args, stdin=asyncio.subprocess.PIPE,
                                                       pass_fds=fds)
        self.process = process
        logger.info("Alpaca face running in process %d", process.pid)
        stopping = asyncio.create_task(self._stop.wait())
        ended = asyncio.create_task(process.wait())
        try:
            await asyncio.wait({stopping, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            ended.cancel()
            if process.returncode is None:
                await _end(process)
        if self._stop.is_set():
            return
        raise RunEnded(f"the Alpaca face (process {process.pid}) exited with "
                       f"{process.returncode}")

    def _log_restart(self, error: BaseException, delay: float) -> None:
        logger.warning("%s: restarting it in %.1f s", error, delay)

    async def _wait_unless_stopped(self, delay: float) -> None:
        try:
            async with asyncio.timeout(delay):
                await self._stop.wait()
        except TimeoutError:
            pass


async def _end(process: asyncio.subprocess.Process) -> None:
    """Stop the child: end its stdin (it stops by itself), then terminate, then kill; a
    cancellation meanwhile kills it at once."""
    try:
        if process.stdin is not None:
            process.stdin.close()
        if await _exited(process, STOP_GRACE):
            return
        process.terminate()
        if not await _exited(process, STOP_GRACE):
            process.kill()
            await process.wait()
    except BaseException:
        if process.returncode is None:
            process.kill()
        raise


async def _exited(process: asyncio.subprocess.Process, seconds: float) -> bool:
    """Whether the child exits within `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            await process.wait()
    except TimeoutError:
        return False
    return True
