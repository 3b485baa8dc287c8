"""Real servers for the client's tests: ours (an IPyServer in-process with the demo thermostat
and indilib's telescope and CCD simulators as executable drivers) and indilib's ``indiserver``
with the same three devices (the thermostat through its executable launcher). Both can be
stopped and started again on the same port, to test reconnection."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Protocol

from peers import IndiServer
from peers import find_binary
from peers import free_port
from serverkit import running

from indipyserver import IPyServer
from indipyserver.demo import make_driver

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "examples" / "exdrivers" / "indi_py_thermostat"
TELESCOPE = "Telescope Simulator"
CCD = "CCD Simulator"
THERMOSTAT = "Thermostat"
DEVICES = {TELESCOPE, CCD, THERMOSTAT}
SIMULATORS = ("indi_simulator_telescope", "indi_simulator_ccd")


class RealServer(Protocol):
    kind: str
    port: int

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class InProcessServer:
    """Our server in-process on 127.0.0.1:port with the three devices (``serverkit.running``),
    stopped and started again on the same port by the reconnection tests."""

    kind = "ours"

    def __init__(self, port: int | None = None, simulators: bool = True) -> None:
        self.port = port if port is not None else free_port()
        self.simulators = simulators
        self._running: contextlib.AsyncExitStack | None = None

    async def start(self) -> None:
        server = IPyServer(make_driver(interval=0.5), host="127.0.0.1", port=self.port,
                           handle_signals=False)
        if self.simulators:
            for program in SIMULATORS:
                find_binary(program)
                server.add_exdriver(program)
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(running(server))
        self._running = stack

    async def stop(self) -> None:
        stack, self._running = self._running, None
        if stack is not None:
            await stack.aclose()


class IndilibServer:
    """indilib's indiserver on a fixed port with the three devices (HOME in ``workdir``)."""

    kind = "indiserver"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = port if port is not None else free_port()
        self._server = IndiServer(*SIMULATORS, str(LAUNCHER), workdir=workdir, port=self.port,
                                  env={"INDIPY_INTERVAL": "0.5", "INDIPY_LOG_EVERY": "10"})

    async def start(self) -> None:
        await asyncio.to_thread(self._server.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self._server.stop)

    def log_tail(self) -> str:
        return self._server.log_tail()
