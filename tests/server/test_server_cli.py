"""The indipyserver command line: indiserver-style arguments and loading in-process drivers."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indipyserver.cli import ExDriverSpec
from indipyserver.cli import load_python_drivers
from indipyserver.cli import parse_args
from indipyserver.drivers.remote import RemoteSpec


def test_defaults_match_indiserver_except_the_listening_interface() -> None:
    """Port 7624, -m 128, -d 5, -r 10 as indiserver; but localhost, since INDI has no
    authentication."""
    o = parse_args(["indi_simulator_ccd"])
    assert (o.port, o.host, o.max_client_mb, o.max_stream_mb, o.max_restarts, o.verbosity) == (
        7624, "localhost", 128, 5, 10, 0,
    )
    assert parse_args(["-d", "0", "x"]).max_stream_mb == 0  # indiserver: 0 never drops
    assert o.log_dir is None and parse_args(["-l", "/var/log/indi", "x"]).log_dir == "/var/log/indi"
    assert o.exdrivers == [ExDriverSpec("indi_simulator_ccd")]
    assert o.remotes == [] and o.fifo is None and not o.demo


def test_positional_drivers_are_executables_or_remotes_in_every_form() -> None:
    """'[device]@host[:port]' is a remote (device optional, port optional), the rest executables."""
    o = parse_args([
        "-p", "7700", "--host", "0.0.0.0", "-m", "1000", "-r", "0", "-vvv",
        "indi_simulator_telescope", "CCD Simulator@pi.local:7625", "@otherhost",
        "Dome Simulator@[::1]", "./drivers/indi_mine",
    ])
    assert (o.port, o.host, o.max_client_mb, o.max_restarts, o.verbosity) == (
        7700, "0.0.0.0", 1000, 0, 3,
    )
    assert o.exdrivers == [ExDriverSpec("indi_simulator_telescope"), ExDriverSpec("./drivers/indi_mine")]
    assert o.remotes == [
        RemoteSpec("pi.local", 7625, "CCD Simulator"),
        RemoteSpec("otherhost", 7624, None),
        RemoteSpec("::1", 7624, "Dome Simulator"),
    ]


def test_fifo_alone_is_enough_to_run() -> None:
    """indiserver -f runs with zero drivers (indiwebmanager starts them later)."""
    assert parse_args(["-f", "/tmp/indififo", "-v"]).fifo == "/tmp/indififo"


def test_nothing_to_serve_is_a_usage_error() -> None:
    """Like indiserver: no drivers and no FIFO prints usage and exits 2."""
    with pytest.raises(SystemExit) as info:
        parse_args([])
    assert info.value.code == 2


@pytest.mark.parametrize(
    "argv", [["@host:notaport"], ["-p", "0", "x"], ["-r", "-1", "x"], ["-d", "-1", "x"]]
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    """Typos are reported with usage rather than producing a half-working server."""
    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2


def test_non_executable_py_file_is_loaded_in_process(tmp_path: Path) -> None:
    """A plain .py positional is an in-process driver; an executable file stays a subprocess."""
    plain = tmp_path / "plain.py"
    plain.write_text("")
    runnable = tmp_path / "runnable.py"
    runnable.write_text("")
    runnable.chmod(0o755)
    o = parse_args([str(plain), str(runnable), "--module", "pkg.mod", "--driver-script", "x.py"])
    assert o.scripts == ["x.py", str(plain)]
    assert o.modules == ["pkg.mod"]
    assert o.exdrivers == [ExDriverSpec(str(runnable))]


class FakeDriver:
    def __init__(self, name: str) -> None:
        self.name = name

    async def serve(self, link: object) -> None:
        """Looks like an IPyDriver to the loader."""


@pytest.mark.parametrize(
    "body",
    [
        "def make_driver():\n    return FakeDriver('a')\n",
        "def make_driver():\n    return [FakeDriver('a'), FakeDriver('b')]\n",
        "drivers = [FakeDriver('a'), FakeDriver('b')]\n",
        "driver = FakeDriver('a')\n",
    ],
)
def test_driver_script_forms(tmp_path: Path, body: str) -> None:
    """make_driver() (one or a list), `drivers` or `driver`; __main__ blocks do not run."""
    script = tmp_path / "mydriver.py"
    script.write_text(
        "from tests.server.test_server_cli import FakeDriver\n" + body
        + "if __name__ == '__main__':\n    raise SystemExit('must not run')\n"
    )
    names = [d.name for d in load_python_drivers(scripts=[str(script)])]
    assert names == (["a", "b"] if "b" in body else ["a"])


def test_a_module_without_drivers_is_a_clear_error(tmp_path: Path) -> None:
    """A module offering nothing is refused with a message naming what is expected."""
    script = tmp_path / "empty.py"
    script.write_text("x = 1\n")
    with pytest.raises(ValueError, match="make_driver"):
        load_python_drivers(scripts=[str(script)])
    with pytest.raises(ValueError, match="importing"):
        load_python_drivers(modules=["no_such_module_anywhere"])


def test_help_explains_drivers_remotes_fifo_python_and_demo() -> None:
    """`indipyserver --help` documents every way to give a driver, and the FIFO grammar."""
    out = subprocess.run(
        [sys.executable, "-m", "indipyserver", "--help"],
        capture_output=True, text=True, timeout=30, check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},  # this checkout's
    ).stdout
    for needle in ("@host[:port]", "--driver-script", "--module", "make_driver()", "--demo",
                   'start <driver> [-n "name"]', "stop <driver>", "-m MB", "-r N", "SIGTERM"):
        assert needle in out, needle


# -- --shared-blobs ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "shared"), [(None, None), ("auto", None), ("on", True),
                                                ("off", False)])
def test_shared_blobs_option_reaches_every_executable_driver(
    value: str | None, shared: bool | None
) -> None:
    """--shared-blobs applies to the executable drivers of the command line and of the FIFO;
    auto (the default) leaves the choice to the program (indilib ELF drivers get a socket)."""
    from indipyserver.cli import build_server
    from indipyserver.cli import fifo_control
    from indipyserver.drivers.executable import ExDriverConnection
    from indipyserver.fifo import FifoCommand

    argv = ["indi_simulator_ccd", "-f", "/tmp/unused-fifo"]
    options = parse_args(argv if value is None else ["--shared-blobs", value, *argv])
    assert options.shared_blobs is shared
    server = build_server(options)
    fifo_control(server, options)(FifoCommand("start", "indi_simulator_telescope"))
    exdrivers = [c for c in server.connections if isinstance(c, ExDriverConnection)]
    assert [c.program for c in exdrivers] == ["indi_simulator_ccd", "indi_simulator_telescope"]
    assert [c.shared_blobs for c in exdrivers] == [shared, shared]


def test_shared_blobs_bad_value_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        parse_args(["--shared-blobs", "yes", "x"])
    assert info.value.code == 2


def test_help_documents_shared_blobs() -> None:
    from indipyserver.cli import _build_parser

    text = _build_parser().format_help()
    assert "--shared-blobs {auto,on,off}" in text
    assert "ELF programs" in text and "side channel" in text and "FIFO" in text


@pytest.mark.parametrize(("value", "stdout"), [("auto", "True side"), ("on", "True none"),
                                              ("off", "False none")])
async def test_shared_blobs_option_chooses_the_drivers_stdout(
    tmp_path: Path, value: str, stdout: str
) -> None:
    """End to end: a script driver (not an ELF program) that asks for no pipe keeps the
    socket indiserver gives every driver, with the side channel beside it (auto, the
    default), the socket alone (on), or a pipe alone (off)."""
    from serverkit import RawClient
    from serverkit import running

    from indipyserver.cli import build_server

    script = tmp_path / "drv.py"
    script.write_text(
        "#!" + sys.executable + "\n"
        "import os, stat\n"
        "os.read(0, 65536)\n"
        "head = b\"<defTextVector device='K' name='OUT' state='Idle' perm='ro'><defText name='SOCK'>\"\n"
        "kind = b'True' if stat.S_ISSOCK(os.fstat(1).st_mode) else b'False'\n"
        "kind += b' side' if os.environ.get('INDIPY_BLOB_FD') else b' none'\n"
        "os.write(1, head + kind + b'</defText></defTextVector>')\n"
        "os.read(0, 65536)\n"
    )
    script.chmod(0o755)
    server = build_server(parse_args(["--host", "127.0.0.1", "--shared-blobs", value, str(script)]))
    server.port = 0  # -p takes no 0: any free port for the test
    async with running(server) as srv:
        client = await RawClient.connect(srv.port)
        await client.send("<getProperties version='1.7'/>")
        frame = await client.wait_for("defTextVector", name="OUT")
        assert f">{stdout}<".encode() in frame.data


def test_module_in_the_current_directory_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--module NAME finds NAME.py in the current directory, as ``python -m`` would, even
    when started through the console script (whose sys.path starts at its bin directory)."""
    (tmp_path / "cwd_focuser_module.py").write_text(
        "from tests.server.test_server_cli import FakeDriver\ndriver = FakeDriver('focuser')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "cwd_focuser_module", raising=False)
    drivers = load_python_drivers(modules=["cwd_focuser_module"])
    assert [d.name for d in drivers] == ["focuser"]
    monkeypatch.delitem(sys.modules, "cwd_focuser_module", raising=False)


def test_maxconnections_is_set_from_the_command_line() -> None:
    """--maxconnections N caps the clients connected at once (100 by default: a chaos run
    locked everyone out by holding 100 idle sockets, and a busy site may want more)."""
    from indipyserver.cli import build_server

    assert parse_args(["--demo"]).maxconnections == 100
    options = parse_args(["--demo", "--maxconnections", "500"])
    assert build_server(options).maxconnections == 500
    with pytest.raises(SystemExit):
        parse_args(["--demo", "--maxconnections", "0"])


def test_indipyserver_host_sets_the_default_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    """INDIPYSERVER_HOST is how an operator opens a server someone else starts (indiwebmanager
    cannot pass --host); --host still wins, and unset or empty it is localhost."""
    monkeypatch.delenv("INDIPYSERVER_HOST", raising=False)
    assert parse_args(["--demo"]).host == "localhost"
    monkeypatch.setenv("INDIPYSERVER_HOST", "")
    assert parse_args(["--demo"]).host == "localhost"
    monkeypatch.setenv("INDIPYSERVER_HOST", "0.0.0.0")
    assert parse_args(["--demo"]).host == "0.0.0.0"
    assert parse_args(["--demo", "--host", "127.0.0.1"]).host == "127.0.0.1"


def test_fifo_stop_of_a_remote_stops_one_per_line(caplog: pytest.LogCaptureFixture) -> None:
    """`stop @host:port` stops one remote connection a line, as a driver's stop does (as
    indiserver's FIFO, which stops the first match), and says which; with none left, says so."""
    from indipyserver.cli import build_server
    from indipyserver.cli import fifo_control
    from indipyserver.drivers.remote import RemoteSpec
    from indipyserver.fifo import FifoCommand

    options = parse_args(["-f", "/tmp/unused-fifo"])
    server = build_server(options)
    first = server.add_remote("obs-east", 7625)
    second = server.add_remote("obs-east", 7625)
    control = fifo_control(server, options)
    stop = FifoCommand("stop", "@obs-east:7625", remote=RemoteSpec("obs-east", 7625))
    with caplog.at_level(logging.INFO, logger="indipyserver.cli"):
        control(stop)
        assert server.connections == [second] and first not in server.connections
        control(stop)
        assert server.connections == []
        control(stop)
    said = [r.getMessage() for r in caplog.records]
    assert said == ["FIFO stop: stopped remote obs-east:7625"] * 2 + [
        "FIFO stop: no remote @obs-east:7625"]
