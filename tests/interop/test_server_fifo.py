"""indiwebmanager's way of driving a server: `-f FIFO` and `start`/`stop` lines, on our server.

Protects: with -f and no drivers the server runs; `start <driver> -n "name"` runs an indilib
driver under the given device name (INDIDEV, not the name of the first getProperties); `stop`
removes the device for clients; the server keeps serving afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from peers import OurServer
from peers import find_binary
from peers import getprop
from peers import getprop_holding
from waiting import wait_for


def write_line(fifo: Path, line: str) -> None:
    with fifo.open("w") as f:
        f.write(line + "\n")


def test_fifo_start_with_name_then_stop(our_server: Callable[..., OurServer], tmp_path: Path) -> None:
    """`start indi_simulator_dome -n "Roof Dome"` serves "Roof Dome"; `stop` deletes it."""
    find_binary("indi_simulator_dome")
    fifo = tmp_path / "indififo"
    ours = our_server("-f", str(fifo))
    wait_for(fifo.exists, 10, lambda: f"the FIFO; the log:\n{ours.log()}", interval=0.05)
    write_line(fifo, 'start indi_simulator_dome -n "Roof Dome"')
    got = getprop(ours.port, "Roof Dome.CONNECTION.CONNECT")

    def roof_dome_served() -> bool:
        nonlocal got
        got = getprop(ours.port, "Roof Dome.CONNECTION.CONNECT")
        return got.returncode == 0

    wait_for(roof_dome_served, 15, lambda: got.result.describe() + ours.log(), interval=0)
    # A wildcard, as the point is that no other device is served: each look below counts in
    # an answer holding a device that must be there.
    assert devices_served(ours.port, "Roof Dome") == {"Roof Dome"}

    # What is absent after `stop` is read in an answer holding a device started after it (an
    # empty answer would also be a late one); that device also shows the server serving on.
    write_line(fifo, 'stop indi_simulator_dome -n "Roof Dome"')
    write_line(fifo, 'start indi_simulator_dome -n "Second Dome"')
    seen: set[str] = set()

    def roof_dome_gone() -> bool:
        nonlocal seen
        seen = devices_served(ours.port, "Second Dome")
        return seen == {"Second Dome"}

    wait_for(roof_dome_gone, 20,
             lambda: f"the stopped driver's device to be served no more; seen {seen}", interval=0)
    assert ours.alive()


def devices_served(port: int, witness: str) -> set[str]:
    """The devices in an answer to ``*.*.*`` that holds the dome ``witness``'s CONNECTION."""
    answer = getprop_holding(port, "*.*.*", f"{witness}.CONNECTION.CONNECT", timeout=1)
    return {key.split(".")[0] for key in answer}
