"""A command the server refuses is said at once (issue 70 item 1).

Under ``--acl`` our server answers a client's new*Vector that the rules refuse with a message
of one fixed form (``indipycore.protocol.refusals``), and passes nothing on. Before, our
clients did not read it: ``indipy-setprop -w`` waited its whole timeout (70 s) and then said
"no answer from the driver (still Busy)", and the library's ``set`` timed out, or looked
successful when the vector already held the value. Here indilib's telescope simulator runs
under our server with rules that let anonymous TCP clients read everything and set nothing,
and each client meets the refusal as a user would.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import OurServer
from peers import getprop
from waiting import wait_for

from indipyclient import connect
from indipycore.protocol import State
from indipycore.protocol.refusals import cannot_record
from indipycore.protocol.refusals import is_refusal
from indipycore.protocol.refusals import permission_denied
from indipycore.protocol.refusals import refuses

MOUNT = "Telescope Simulator"
READ_ONLY = "# anonymous observers may look at everything and set nothing\nanonymous read *\n"
REPO = Path(__file__).resolve().parents[2]


def test_the_form_names_the_vector_exactly() -> None:
    """The client matches the vector it sent, so a device with dots in its name, another
    vector or another device is not taken for it."""
    text = permission_denied("anonymous", "Dome.Sim v2", "DOME_SHUTTER")
    assert is_refusal(text) and "permission denied" in text
    assert refuses(text, "Dome.Sim v2", "DOME_SHUTTER")
    assert not refuses(text, "Dome.Sim v2", "SHUTTER")
    assert not refuses(text, "Sim v2", "DOME_SHUTTER")
    assert refuses(cannot_record("Mount", "PARK"), "Mount", "PARK")
    assert not refuses(cannot_record("Mount", "PARK"), "Mount", "PAR")
    assert not is_refusal("Telescope is parked")


@pytest.fixture
def guarded(our_server: Callable[..., OurServer], tmp_path: Path) -> OurServer:
    acl = tmp_path / "site.acl"
    acl.write_text(READ_ONLY)
    server = our_server("indi_simulator_telescope", "--acl", str(acl))
    found = getprop(server.port, f"{MOUNT}.CONNECTION.CONNECT", timeout=10)
    assert found.get(f"{MOUNT}.CONNECTION.CONNECT") == "Off", found.result.describe()
    return server


def test_setprop_w_exits_at_once_with_the_servers_words(guarded: OurServer) -> None:
    """``indipy-setprop -w`` on a refused vector: exit 1 within seconds (not its 70 s), the
    server's message on stderr naming the device, the vector and "permission denied"."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "indipyclient.frontends.tools.setprop",
                           "-h", "127.0.0.1", "-p", str(guarded.port), "-w",
                           f"{MOUNT}.CONNECTION.CONNECT=On"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    took = time.monotonic() - started
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert f"permission denied: anonymous may not set {MOUNT}.CONNECTION" in done.stderr, \
        done.stderr
    assert "no answer" not in done.stderr and took < 15, (took, done.stderr)


def test_the_librarys_set_returns_alert_with_the_message(guarded: OurServer) -> None:
    """``Client.set`` ends at once with Alert and the server's message, also when the vector
    already held the value (it used to look successful); the model's vector says the same."""
    async def main() -> None:
        async with connect("127.0.0.1", guarded.port) as client:
            for values in ({"CONNECT": "On"}, {"DISCONNECT": "On"}):  # the second: held already
                started = time.monotonic()
                result = await client.set(MOUNT, "CONNECTION", values, timeout=60)
                assert time.monotonic() - started < 10, result
                assert result.state == State.ALERT and not result.timed_out, result
                assert not result.ok
                assert refuses(result.message, MOUNT, "CONNECTION"), result
                vector = client.model.vector(MOUNT, "CONNECTION")
                assert vector is not None and vector.state == State.ALERT
                assert "permission denied" in vector.message

    asyncio.run(main())


def test_pyindi_hears_the_refusal_as_a_message(guarded: OurServer) -> None:
    """A pyindi-client program (our PyIndi) gets the server's refusal in ``newMessage`` and
    sees the vector in Alert."""
    import PyIndi

    heard: list[str] = []

    class Client(PyIndi.BaseClient):  # type: ignore[misc]
        def newMessage(self, device: object, messageId: int) -> None:
            heard.append(device.messageQueue(messageId))  # type: ignore[attr-defined]

    client = Client()
    client.setServer("127.0.0.1", guarded.port)
    assert client.connectServer()
    try:
        def defined() -> object:
            found = client.getDevice(MOUNT)
            return found if found is not None and found.getSwitch("CONNECTION") else None

        device = wait_for(defined, 15, "the mount's CONNECTION")
        connection = device.getSwitch("CONNECTION")
        connection[0].setState(PyIndi.ISS_ON)
        connection[1].setState(PyIndi.ISS_OFF)
        client.sendNewSwitch(connection)
        denied = f"permission denied: anonymous may not set {MOUNT}.CONNECTION"
        wait_for(lambda: any(denied in m for m in heard), 10, lambda: f"the refusal: {heard}")
        assert device.getSwitch("CONNECTION").getState() == PyIndi.IPS_ALERT
    finally:
        client.disconnectServer()
