"""indiwebmanager's way of driving a server: `-f FIFO` and `start`/`stop` lines, on our server.

Protects: with -f and no drivers the server runs; `start <driver> -n "name"` runs an indilib
driver under the given device name (INDIDEV, not the name of the first getProperties); `stop`
removes the device for clients; the server keeps serving afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from peers import find_binary, getprop
from test_server_chain import OurServer, our_server  # noqa: F401  (fixture)


def write_line(fifo: Path, line: str) -> None:
    with fifo.open("w") as f:
        f.write(line + "\n")


def test_fifo_start_with_name_then_stop(our_server: Callable[..., OurServer], tmp_path: Path) -> None:  # noqa: F811
    """`start indi_simulator_dome -n "Roof Dome"` serves "Roof Dome"; `stop` deletes it."""
    find_binary("indi_simulator_dome")
    fifo = tmp_path / "indififo"
    ours = our_server("-f", str(fifo))
    deadline = time.monotonic() + 10
    while not fifo.exists():
        assert time.monotonic() < deadline, ours.log()
        time.sleep(0.05)
    write_line(fifo, 'start indi_simulator_dome -n "Roof Dome"')
    deadline = time.monotonic() + 15
    while (got := getprop(ours.port, "Roof Dome.CONNECTION.CONNECT", timeout=1)).returncode:
        assert time.monotonic() < deadline, got.result.describe() + ours.log()
    everything = getprop(ours.port, "*.*.*", timeout=1)
    assert {key.split(".")[0] for key in everything} == {"Roof Dome"}

    write_line(fifo, 'stop indi_simulator_dome -n "Roof Dome"')
    deadline = time.monotonic() + 10
    while getprop(ours.port, "*.*.*", timeout=1):
        assert time.monotonic() < deadline, "the stopped driver's device is still served"
    assert ours.alive()
