"""How the imager agent is hosted: in-process, it learns its server's address (port 0
included) through the server's `ServedDriver` hook; given an address (options, environment)
it keeps it; ``indipyserver`` loads it by module name; the executable drives the server its
options name; ``indipy-driverxml`` lists it under devGroup Agent."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from agentkit import AGENT
from peers import LOADED
from peers import ServingProgram
from peers import free_port
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.imager import make_driver
from indipyagents.imageragent.driver import AgentDriver
from indipyagents.link import AgentLink
from indipyagents.link import parse_address
from indipydriver import Device
from indipydriver import IPyDriver
from indipyserver.cli import parse_args
from indipyserver.drivers.served import ServedDriver
from indipyserver.driverxml import group_of
from indipyserver.driverxml import read_driver_info

EXECUTABLE = str(Path(sys.executable).with_name("indipy_agent_imager"))


class Listening(IPyDriver):
    """Any in-process driver with `server_listening`: what the server tells it."""

    def __init__(self) -> None:
        super().__init__(Device("Listener"))
        self.told: list[tuple[str, int]] = []

    def server_listening(self, host: str, port: int) -> None:
        self.told.append((host, port))


async def test_an_in_process_driver_learns_the_bound_port() -> None:
    """A driver with `server_listening` (a `ServedDriver`) is told the port the server bound
    for port 0, and a wildcard host as loopback; the agent's link takes it."""
    listener, agent = Listening(), make_driver()
    assert isinstance(listener, ServedDriver) and isinstance(agent, AgentDriver)
    served = server(listener, agent, host="0.0.0.0")
    async with running(served):
        assert listener.told == [("127.0.0.1", served.port)] and served.port != 0
        assert agent.link.address == f"127.0.0.1:{served.port}"


async def test_a_server_on_a_unix_socket_alone_names_it() -> None:
    """A server with no TCP port (``port=None``) and a Unix socket tells its drivers the
    socket, as indipyclient names one (``localhost:PATH``)."""
    listener = Listening()
    served = server(listener, port=None)
    path = f"indipy-agent-{os.getpid()}-{id(served)}"  # abstract on Linux: no file
    served.listen_unix(path)
    async with running(served):
        assert listener.told == [(f"localhost:{path}", 7624)]


async def test_an_agent_given_an_address_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given host and port, or INDIPY_AGENT_SERVER, the agent drives that server, whatever
    server hosts it."""
    given = make_driver("127.0.0.1", 4321)
    monkeypatch.setenv("INDIPY_AGENT_SERVER", "[::1]:7000")
    from_env = make_driver()
    async with running(server(given, from_env)):
        assert given.link.address == "127.0.0.1:4321"
        assert from_env.link.address == "[::1]:7000"


@pytest.mark.parametrize(("text", "wanted"), [
    ("localhost:7625", ("localhost", 7625)), ("obs", ("obs", 7624)),
    ("[::1]:7624", ("::1", 7624)), ("[::1]", ("::1", 7624))])
def test_parse_address(text: str, wanted: tuple[str, int]) -> None:
    """host:port, a bare host (port 7624), IPv6 in brackets."""
    assert parse_address(text) == wanted


@pytest.mark.parametrize("text", [":7624", "host:port", "host:0", "host:70000"])
def test_parse_address_refuses_saying_why(text: str) -> None:
    """A missing host or a port that is no port: ValueError naming the text."""
    with pytest.raises(ValueError, match="host|port"):
        parse_address(text)


def test_indipyserver_loads_a_module_named_on_its_command_line() -> None:
    """``indipyserver indipyagents.imager indi_simulator_ccd``: the dotted name is loaded
    in-process (as --module), the program stays an executable driver; a dotted name Python
    does not find stays a program."""
    options = parse_args(["indipyagents.imager", "indi_simulator_ccd", "no_such.module_x"])
    assert options.modules == ["indipyagents.imager"]
    assert [spec.program for spec in options.exdrivers] == ["indi_simulator_ccd",
                                                            "no_such.module_x"]


async def test_driverxml_lists_the_agent_under_agent() -> None:
    """indipy-driverxml reads the executable's DRIVER_INFO (Imager Agent, 1.2, interface 0)
    and lists it in devGroup Agent, as indilib's drivers.xml lists indi_imager_agent."""
    entries = await read_driver_info(EXECUTABLE, timeout=LOADED)
    assert [(e.label, e.name, e.version) for e in entries] == [(AGENT, AGENT, "1.2")]
    assert group_of(entries[0].interface, entries[0].exec) == "Agent"
    assert group_of(entries[0].interface, "indi_imager_agent") == "Agent"


async def test_the_executable_drives_the_server_its_options_name(tmp_path: Path) -> None:
    """``indipy_agent_imager --port P --indi-port Q`` serves itself on P and drives the CCD
    and the wheel that the server on Q holds (STATUS's lights Ok once connected)."""
    served = server()
    served.add_exdriver("indi_simulator_ccd", max_restarts=0)
    served.add_exdriver("indi_simulator_wheel", max_restarts=0)
    async with running(served):
        port = free_port()
        program = ServingProgram([EXECUTABLE, "--port", str(port), "--indi-host", "127.0.0.1",
                                  "--indi-port", str(served.port)], port, tmp_path)
        try:
            await asyncio.to_thread(program.wait_listening)
            async with indipyclient.connect("127.0.0.1", port) as client:
                await client.set(AGENT, "CONNECTION", {"CONNECT": "On"})
                await until(lambda: client.devices.vector(AGENT, "STATUS") is not None
                            and client.get(AGENT, "STATUS", "CCD") == "Ok"
                            and client.get(AGENT, "STATUS", "FILTER") == "Ok", 30,
                            "STATUS lights Ok")
        finally:
            program.kill()


def test_agent_link_default_is_indilibs_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing given and no environment, localhost:7624 (indilib's agent's only one),
    until a hosting server says where it listens."""
    monkeypatch.delenv("INDIPY_AGENT_SERVER", raising=False)
    link = AgentLink()
    assert link.address == "localhost:7624"
    link.server_listening("127.0.0.1", 7700)
    assert link.address == "127.0.0.1:7700"
