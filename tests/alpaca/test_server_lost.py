"""An Alpaca server that stops answering: its devices turn Alert within a bounded time, the
INDI server carries on, and they come back when the Alpaca server does (indilib's indi_eval
watching)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from alpacapeers import AlpacaSimulators
from peers import free_port
from peers import indi_eval
from peers import port_accepts
from peers import setprop
from test_focuser_wheel import FOCUSER
from test_focuser_wheel import connect
from test_focuser_wheel import serve
from waiting import wait_for


def test_killed_simulator_turns_devices_alert_and_they_recover(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """Killing alpaca-simulators mid-run turns the connected focuser's CONNECTION Alert
    within 10 s (the watch at POLLING_PERIOD 1 s, each call bounded); the server keeps serving
    (indi_eval still gets answers); restarted on the same port, the focuser is connected on it
    again (CONNECTION Ok) and moves."""
    server = serve(our_server, alpaca_sim, "focuser/0", FOCUSER)
    connect(server.port, FOCUSER, tmp_path)
    alpaca_sim.stop()
    started = time.monotonic()
    done = indi_eval(server.port, f'"{FOCUSER}.CONNECTION._STATE"==3', timeout=15, cwd=tmp_path)
    assert done.returncode == 0, done.describe() + server.log_tail()
    assert time.monotonic() - started < 12
    assert server.running
    alpaca_sim.start()
    done = indi_eval(server.port, f'"{FOCUSER}.CONNECTION._STATE"==1', timeout=20, cwd=tmp_path)
    assert done.returncode == 0, done.describe() + server.log_tail()
    assert alpaca_sim.get("focuser/0/connected") is True
    assert setprop(server.port, f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION=22222",
                   cwd=tmp_path).returncode == 0
    done = indi_eval(server.port, f'"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION"=='
                     '22222', timeout=10, cwd=tmp_path)
    assert done.returncode == 0, done.describe()
    assert alpaca_sim.get("focuser/0/position") == 22222


def test_devices_appear_once_the_alpaca_server_answers(
        our_server: object, tmp_path: Path) -> None:
    """An alpaca:// server that is not up yet does not stop ours: it serves at once, and the
    Alpaca devices appear when the Alpaca server starts answering (retried meanwhile)."""
    sim = AlpacaSimulators(tmp_path / "late-sim")
    server = our_server(f"alpaca://127.0.0.1:{sim.port}/focuser/0")  # type: ignore[operator]
    try:
        # A first attempt failed (and said so): the server is still up after it.
        assert server.wait_for_log("retrying in", timeout=15), server.log_tail()
        assert server.running
        sim.start()
        done = indi_eval(server.port, f'"{FOCUSER}.CONNECTION.DISCONNECT"==1', timeout=20,
                         cwd=tmp_path)
        assert done.returncode == 0, done.describe() + server.log_tail()
    finally:
        sim.stop()


def test_a_server_without_management_api_says_to_name_devices(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """alpaca://HOST:PORT asks the management API for the devices; alpaca-simulators has none,
    so the server logs one clear error saying to name them, and keeps serving."""
    server = our_server(f"alpaca://127.0.0.1:{alpaca_sim.port}", "--demo")  # type: ignore[operator]
    assert server.wait_for_log("has no management API", timeout=15), server.log_tail()
    assert "name its devices" in server.log_text()
    assert server.running


def test_a_hanging_simulator_is_alert_within_the_call_timeout(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """alpaca-simulators frozen (SIGSTOP: its socket accepts, nothing answers) is a hang, not
    a refusal: the bounded HTTP timeout (5 s) turns the focuser's CONNECTION Alert within
    15 s, a move asked meanwhile ends Alert too instead of hanging, and the server answers
    INDI clients throughout; thawed (SIGCONT), the focuser is Ok again."""
    server = serve(our_server, alpaca_sim, "focuser/0", FOCUSER)
    connect(server.port, FOCUSER, tmp_path)
    assert alpaca_sim.process is not None
    pid = alpaca_sim.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        done = indi_eval(server.port, f'"{FOCUSER}.CONNECTION._STATE"==3', timeout=20,
                         cwd=tmp_path)
        assert done.returncode == 0, done.describe() + server.log_tail()
        assert time.monotonic() - started < 15
        assert setprop(server.port, f"{FOCUSER}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION=1234",
                       cwd=tmp_path).returncode == 0
        done = indi_eval(server.port, f'"{FOCUSER}.ABS_FOCUS_POSITION._STATE"==3', timeout=20,
                         cwd=tmp_path)
        assert done.returncode == 0, done.describe() + server.log_tail()
    finally:
        os.kill(pid, signal.SIGCONT)
    done = indi_eval(server.port, f'"{FOCUSER}.CONNECTION._STATE"==1', timeout=20, cwd=tmp_path)
    assert done.returncode == 0, done.describe() + server.log_tail()


def plain_http_server(port: int, folder: Path) -> subprocess.Popen[bytes]:
    """Python's own http.server on `port`: a real web server that answers no Alpaca (404
    pages for /api/v1/...), the garbage peer of these tests."""
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=folder,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: port_accepts(port), timeout=15, interval=0.1,
             what=f"http.server on port {port}")
    return process


def test_a_web_server_that_is_no_alpaca_server_is_a_clear_error(
        our_server: object, tmp_path: Path) -> None:
    """alpaca:// pointed at a web server that answers 404 pages: one error line naming the
    HTTP status, no device, and the INDI server keeps serving its other drivers (--demo)."""
    port = free_port()
    web = plain_http_server(port, tmp_path)
    try:
        server = our_server(f"alpaca://127.0.0.1:{port}/focuser/0", "--demo")  # type: ignore[operator]
        assert server.wait_for_log("is not served", timeout=15), server.log_tail()
        assert "HTTP 404" in server.log_text()
        assert server.running
    finally:
        web.kill()
        web.wait(10)


def test_garbage_in_place_of_the_alpaca_server_is_alert(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """The simulator dies and a plain web server takes its port: that is a lost Alpaca server
    too (not a crash of the watch), so the focuser's CONNECTION goes Alert and the log says
    it answers no Alpaca, after saying it stopped answering while the port was empty; when
    the simulator is back, the focuser is Ok again."""
    server = serve(our_server, alpaca_sim, "focuser/0", FOCUSER)
    connect(server.port, FOCUSER, tmp_path)
    alpaca_sim.stop()
    # The server gone is seen first, as on a loaded machine where the web server took longer
    # to start than a poll (a full run, 2026-11-29: "answers no Alpaca" was never said, the
    # loss already said as "stopped answering"): the change of cause is said too.
    assert server.wait_for_log("stopped answering", timeout=15), server.log_tail()
    web = plain_http_server(alpaca_sim.port, tmp_path)
    try:
        done = indi_eval(server.port, f'"{FOCUSER}.CONNECTION._STATE"==3', timeout=15,
                         cwd=tmp_path)
        assert done.returncode == 0, done.describe() + server.log_tail()
        assert server.wait_for_log("answers no Alpaca", timeout=10), server.log_tail()
    finally:
        web.kill()
        web.wait(10)
    alpaca_sim.start()
    done = indi_eval(server.port, f'"{FOCUSER}.CONNECTION._STATE"==1', timeout=20, cwd=tmp_path)
    assert done.returncode == 0, done.describe() + server.log_tail()
