"""The interop harness itself, proved against indilib's real indiserver and clients.

If these fail, every other interop test is suspect; they run in a few seconds.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import IndiServer
from peers import find_binary
from peers import free_port
from peers import getprop
from peers import indi_eval
from peers import parse_getprop_output
from peers import port_accepts
from peers import setprop
from peers import unix_accepts
from peers import wait_listening

from indipyserver.clients.unixsocket import unix_address

TELESCOPE = "Telescope Simulator"


@pytest.fixture
def telescope(indiserver_factory: Callable[..., IndiServer]) -> IndiServer:
    return indiserver_factory("indi_simulator_telescope")


def test_indiserver_with_telescope_simulator_is_listed_by_indi_getprop(
    telescope: IndiServer, tmp_path: Path
) -> None:
    """indi_getprop on the harness's port sees the simulator's CONNECTION switch."""
    values = getprop(telescope.port, f"{TELESCOPE}.CONNECTION.CONNECT", timeout=5, cwd=tmp_path)
    assert values.returncode == 0, values.result.describe()
    assert values == {f"{TELESCOPE}.CONNECTION.CONNECT": "Off"}


def test_setprop_connect_is_seen_by_indi_eval_and_getprop(
    telescope: IndiServer, tmp_path: Path
) -> None:
    """indi_setprop CONNECT=On reaches the driver; indi_eval -w and indi_getprop observe it."""
    done = setprop(telescope.port, f"{TELESCOPE}.CONNECTION.CONNECT=On", timeout=5, cwd=tmp_path)
    assert done.returncode == 0, done.describe()
    seen = indi_eval(telescope.port, f'"{TELESCOPE}.CONNECTION.CONNECT"==1', timeout=10)
    assert seen.returncode == 0, seen.describe()
    # Both members named, not CONNECTION.*: a wildcard waits out its whole timeout and then
    # says what came; indiserver passes the getProperties to the driver, busy defining the
    # mount's vectors after connecting, so its answer may come later than any fixed wait.
    # Named, indi_getprop ends as soon as both came; the timeout only bounds a failure.
    specs = (f"{TELESCOPE}.CONNECTION.CONNECT", f"{TELESCOPE}.CONNECTION.DISCONNECT")
    values = getprop(telescope.port, *specs, timeout=20, cwd=tmp_path)
    assert values.returncode == 0, values.result.describe()
    assert values[f"{TELESCOPE}.CONNECTION.CONNECT"] == "On"
    assert values[f"{TELESCOPE}.CONNECTION.DISCONNECT"] == "Off"


def test_getprop_reports_a_missing_property_with_exit_code_1(
    telescope: IndiServer, tmp_path: Path
) -> None:
    """Results carry the peer's exit code: a query nobody answers is 1 with no values."""
    # An absence is awaited: a short bound of its own, not the named members' long default.
    values = getprop(telescope.port, "No Such Device.PROP.ELEM", timeout=1, cwd=tmp_path)
    assert values.returncode == 1
    assert values == {}


def test_indiserver_gets_its_own_home_socket_and_log(telescope: IndiServer) -> None:
    """Drivers write config under the server's HOME, and the log captures the server's stderr."""
    assert telescope.running
    assert telescope.wait_for_log("listening to port", timeout=5), telescope.log_tail()
    assert f"-u {telescope.socket_path}" in telescope.log_text()
    assert unix_accepts(telescope.socket_path)
    assert telescope.home.is_dir()
    assert telescope.home.parent == telescope.workdir


def test_a_server_is_listening_once_its_unix_socket_accepts_too(tmp_path: Path) -> None:
    """indiserver listens on its TCP port before its ``-u`` socket, so a server is started
    only once both accept: with the port alone a client of the socket (BaseClient on
    ``localhost:PATH``) started at once was refused and exited."""
    path = f"/tmp/indipy-{uuid.uuid4().hex}"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with socket.create_server(("127.0.0.1", 0)) as tcp:
            port = tcp.getsockname()[1]
            assert wait_listening(alive, port, 2)
            assert not wait_listening(alive, port, 1, unix_path=path)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
                unix.bind(unix_address(path))
                unix.listen()
                assert wait_listening(alive, port, 5, unix_path=path)
    finally:
        alive.kill()
        alive.wait()


def test_stop_terminates_and_reaps_the_server(tmp_path: Path) -> None:
    """After the context manager exits, the port is closed and the process is gone."""
    with IndiServer("indi_simulator_telescope", workdir=tmp_path) as server:
        port = server.port
        process = server.process
        assert port_accepts(port)
    assert process is not None and process.returncode is not None
    assert not server.running
    assert not port_accepts(port)


def test_two_servers_run_side_by_side_on_their_own_ports(
    indiserver_factory: Callable[..., IndiServer],
) -> None:
    """Each server has its own port and unix socket, so tests never collide."""
    first = indiserver_factory("indi_simulator_telescope")
    second = indiserver_factory("indi_simulator_telescope")
    assert first.port != second.port
    assert first.socket_path != second.socket_path
    assert first.running and second.running


def test_a_server_that_cannot_bind_its_port_fails_startup_with_its_log(tmp_path: Path) -> None:
    """A server that cannot start fails the test showing its log, instead of hanging."""
    with socket.socket() as blocker:
        # Bound but not listening: indiserver's bind fails and nothing accepts connections.
        blocker.bind(("0.0.0.0", 0))
        taken = blocker.getsockname()[1]
        server = IndiServer("indi_simulator_telescope", workdir=tmp_path, port=taken)
        try:
            with pytest.raises(pytest.fail.Exception, match="did not accept connections") as exc:
                server.start()
        finally:
            server.stop()
    assert "bind" in str(exc.value)
    assert not server.running


def test_missing_binary_fails_rather_than_skips() -> None:
    """A missing indi-bin program is a failure telling how to install it, never a skip."""
    with pytest.raises(pytest.fail.Exception, match="indi-bin"):
        find_binary("indi_no_such_tool")


def test_free_port_is_bindable() -> None:
    """The helper returns a port we can bind on 127.0.0.1 right away."""
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_parse_getprop_output_keeps_equals_signs_and_multiline_text() -> None:
    """Values are split at the first '=', and continuation lines belong to the previous key."""
    out = "Dev.P.A=x=1\nDev.P.TEXT=line one\nline two\nDev.Q.N=1.5e-05\n"
    assert parse_getprop_output(out) == {
        "Dev.P.A": "x=1",
        "Dev.P.TEXT": "line one\nline two",
        "Dev.Q.N": "1.5e-05",
    }
