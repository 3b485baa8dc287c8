"""The indiserver-compatible FIFO: line grammar, and commands read through a real named pipe."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from tlskit import Pki
from waiting import until

from indipycore.protocol.events import GetProperties
from indipycore.protocol.serialiser import serialise
from indipyserver.drivers.remote import RemoteSpec
from indipyserver.fifo import FifoCommand
from indipyserver.fifo import FifoListener
from indipyserver.fifo import parse_fifo_line


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("start indi_simulator_ccd", FifoCommand("start", "indi_simulator_ccd")),
        (
            'start indi_simulator_ccd -n "CCD Simulator"',
            FifoCommand("start", "indi_simulator_ccd", name="CCD Simulator"),
        ),
        (
            'start indi_x -n "N" -c "/tmp/c.xml" -s "/usr/share/indi/sk.xml" -p "pre"',
            FifoCommand(
                "start", "indi_x", name="N", config="/tmp/c.xml",
                skel="/usr/share/indi/sk.xml", prefix="pre",
            ),
        ),
        ('stop indi_simulator_ccd -n "CCD Simulator"',
         FifoCommand("stop", "indi_simulator_ccd", name="CCD Simulator")),
        ("stop indi_simulator_ccd", FifoCommand("stop", "indi_simulator_ccd")),
        (
            'start "Dome Simulator"@localhost:7625',
            FifoCommand(
                "start", "Dome Simulator@localhost:7625",
                remote=RemoteSpec("localhost", 7625, "Dome Simulator"),
            ),
        ),
        ("stop @otherhost", FifoCommand("stop", "@otherhost", remote=RemoteSpec("otherhost"))),
    ],
)
def test_fifo_lines_as_indiwebmanager_writes_them(line: str, command: FifoCommand) -> None:
    """The lines indiserver's Fifo.cpp accepts (and indiwebmanager writes) parse to commands."""
    assert parse_fifo_line(line) == command


@pytest.mark.parametrize(
    "line",
    ["", "start", "launch indi_x", 'start indi_x -n', "start indi_x -q v",
     'start indi_x -n "unclosed', 'stop indi_x -c "c"'],
)
def test_bad_fifo_lines_raise_value_error(line: str) -> None:
    """A bad line is reported (and then skipped by the listener), never half-executed."""
    with pytest.raises(ValueError):
        parse_fifo_line(line)


async def write_fifo(path: Path, text: str) -> None:
    """Write as `echo ... > fifo` does: open, write, close (each writer's close is an EOF)."""

    def blocking() -> None:
        with open(path, "w") as f:
            f.write(text)

    await asyncio.to_thread(blocking)


async def test_commands_through_a_real_fifo_across_several_writers(tmp_path: Path) -> None:
    """Each writer's close does not end listening; bad lines are skipped; order is kept."""
    path = tmp_path / "indififo"
    got: list[FifoCommand] = []
    arrived = asyncio.Event()

    async def on_command(command: FifoCommand) -> None:
        got.append(command)
        arrived.set()

    listener = FifoListener(str(path), on_command)
    async with asyncio.timeout(10), asyncio.TaskGroup() as tg:
        task = tg.create_task(listener.run())
        await until(path.exists, what="the FIFO made")
        await write_fifo(path, 'start indi_simulator_ccd -n "CCD Simulator"\n')
        await write_fifo(path, "bogus line\nstop indi_simulator_ccd\n")
        await write_fifo(path, "start @localhost:7625\n")
        while len(got) < 3:
            arrived.clear()
            await arrived.wait()
        task.cancel()
    assert [(c.action, c.driver) for c in got] == [
        ("start", "indi_simulator_ccd"),
        ("stop", "indi_simulator_ccd"),
        ("start", "@localhost:7625"),
    ]
    assert got[0].name == "CCD Simulator"


async def test_a_failing_command_handler_does_not_stop_the_listener(tmp_path: Path) -> None:
    """An exception from the handler is logged; the next line is still handled."""
    path = tmp_path / "fifo"
    os.mkfifo(path)
    got: list[str] = []

    def on_command(command: FifoCommand) -> None:
        if command.driver == "bad":
            raise RuntimeError("boom")
        got.append(command.driver)

    async with asyncio.timeout(10), asyncio.TaskGroup() as tg:
        task = tg.create_task(FifoListener(str(path), on_command).run())
        await write_fifo(path, "start bad\nstart good\n")
        await until(lambda: got, what="the good command")
        task.cancel()
    assert got == ["good"]


def test_a_regular_file_is_not_taken_as_a_fifo(tmp_path: Path) -> None:
    """Pointing -f at an ordinary file is an error, not a silent busy loop."""
    path = tmp_path / "plain"
    path.write_text("")
    with pytest.raises(ValueError):
        asyncio.run(FifoListener(str(path), lambda c: None).run())


def test_fifo_stop_at_host_stops_the_remote_with_that_host_port_and_device() -> None:
    """``stop @host:port`` (with ``dev@``: that device's) stops that remote connection and no
    other: not one at another port, nor an executable driver."""
    from indipyserver import IPyServer
    from indipyserver.cli import fifo_control
    from indipyserver.cli import parse_args

    server = IPyServer(port=0, handle_signals=False)
    driver = server.add_exdriver("indi_simulator_dome")
    other_port = server.add_remote("hostA", 7625)
    dome = server.add_remote("hostA", 7624, device="Dome")
    plain = server.add_remote("hostA", 7624)
    control = fifo_control(server, parse_args(["--demo"]))
    control(FifoCommand("stop", "Dome@hostA:7624", remote=RemoteSpec("hostA", 7624, "Dome")))
    assert server.connections == [driver, other_port, plain]
    control(FifoCommand("stop", "@hostA:7624", remote=RemoteSpec("hostA", 7624)))
    assert server.connections == [driver, other_port]
    control(FifoCommand("stop", "@hostA:7624", remote=RemoteSpec("hostA", 7624)))
    assert server.connections == [driver, other_port]
    assert dome not in server.connections


async def test_fifo_start_at_tls_chains_a_tls_remote_with_the_commands_files(
    tls_pki: Pki, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """``start @tls://host:port`` on the FIFO chains that TLS port with the command line's
    --remote-tls-* files (the gadget's devices arrive); a file that cannot be used is logged
    and nothing is started."""
    from serverkit import RawClient
    from serverkit import make_gadget
    from serverkit import running
    from serverkit import server as test_server

    from indipyserver.cli import fifo_control
    from indipyserver.cli import parse_args
    from indipyserver.drivers.remote import RemoteConnection

    cert, key = tls_pki.client("site-east")
    leaf = test_server(make_gadget())
    leaf.listen_tls(0, tls_pki.server_cert, tls_pki.server_key, client_ca=tls_pki.ca)
    async with running(leaf), running(test_server()) as top:
        options = parse_args(["--demo", "--remote-tls-ca", str(tls_pki.ca), "--remote-tls-cert",
                              str(cert), "--remote-tls-key", str(key)])
        control = fifo_control(top, options)
        control(parse_fifo_line(f"start @tls://localhost:{leaf.tls_port}"))
        (remote,) = [c for c in top.connections if isinstance(c, RemoteConnection)]
        assert remote.ssl is not None
        client = await RawClient.connect(top.port)
        await until(lambda: remote.connected, what="the TLS remote")
        await client.send(serialise(GetProperties(version="1.7")))
        await client.wait_for("defNumberVector", device="Gadget")
        assert [c.identity for c in leaf.clients] == ["site-east"]
        bad = parse_args(["--demo", "--remote-tls-ca", str(tmp_path / "nowhere-ca.crt")])
        fifo_control(top, bad)(parse_fifo_line("start @tls://localhost:7625"))
        assert len([c for c in top.connections if isinstance(c, RemoteConnection)]) == 1
        assert "FIFO start: not started" in caplog.text and "nowhere-ca.crt" in caplog.text
