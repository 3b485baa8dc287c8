"""Issue 89 item 8: PHD2's port listens where the INDI server does (the loopback for a server
kept to this machine), not on every interface as PHD2 itself does: a client on the network
could stop the guiding. ``--phd2-host 0.0.0.0`` opens it, for Ekos or NINA on another machine.

Every pytest worker has a second interface of its own, ``testnet0`` with ``ownnetwork.ADDRESS``
(tests/ownnetwork.py): "another machine" is a connection to that address."""

from __future__ import annotations

import asyncio
import socket

import ownnetwork
from hypothesis import given
from hypothesis import strategies as st
from peers import free_port
from serverkit import running
from serverkit import server
from waiting import until

from indipyagents import defaults
from indipyagents.guider import make_driver
from indipyagents.guider.main import main as guider_main
from indipyagents.guider.phd2server import listen_host


@given(st.one_of(st.none(), st.sampled_from(["", "0.0.0.0", "192.168.1.5", "::"])),
       st.sampled_from(["localhost", "127.0.0.1", "10.0.0.7", "localhost:/tmp/indi.sock", ""]))
def test_the_host_given_wins_else_the_indi_servers(given_host: str | None, indi: str) -> None:
    """``--phd2-host`` as given (even "": every interface); else the INDI server's address as
    the agent reaches it; a Unix socket's or none: the loopback."""
    chosen = listen_host(given_host, indi)
    if given_host is not None:
        assert chosen == given_host
    elif indi.startswith("localhost:") or not indi:
        assert chosen == "127.0.0.1"
    else:
        assert chosen == indi


def reachable(address: str, port: int) -> bool:
    """Whether a TCP connection to `address`:`port` is accepted."""
    with socket.socket() as probe:
        probe.settimeout(5)
        return probe.connect_ex((address, port)) == 0


async def phd2_bound(phd2_host: str | None) -> tuple[str, bool, bool]:
    """The Guider Agent in our server (on 127.0.0.1), PHD2's port on a free port: the address
    it is bound to, and whether the loopback and the worker's other address reach it."""
    port = free_port()
    guider = make_driver(phd2_port=port, phd2_host=phd2_host)
    async with running(server(guider)):
        await until(lambda: guider.phd2 is not None and guider.phd2._server is not None, 20,
                    "PHD2's port listening")
        assert guider.phd2 is not None and guider.phd2._server is not None
        bound = str(guider.phd2._server.sockets[0].getsockname()[0])
        here = await asyncio.to_thread(reachable, "127.0.0.1", port)
        other = await asyncio.to_thread(reachable, ownnetwork.ADDRESS, port)
    return bound, here, other


async def test_by_default_the_port_is_the_loopbacks_as_the_indi_servers() -> None:
    """Hosted by a server on 127.0.0.1, with no ``--phd2-host``: bound to 127.0.0.1, reached
    from this machine, refused from the other address (the old default, every interface,
    accepted it)."""
    assert await phd2_bound(None) == ("127.0.0.1", True, False)


async def test_phd2_host_every_interface_opens_it_to_another_machine() -> None:
    """``--phd2-host 0.0.0.0``: the other address reaches it too (Ekos on a laptop)."""
    assert await phd2_bound("0.0.0.0") == ("0.0.0.0", True, True)


def test_the_executables_phd2_host_defaults_to_none(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``indipy_agent_guider`` without ``--phd2-host`` hands None (where the INDI server is),
    with it the address given."""
    seen: list[str | None] = []
    monkeypatch.setattr("indipyagents.assembly.run_driver", lambda driver, args: seen.append(
        driver.phd2_host))
    guider_main(["--phd2-port", "0"])
    guider_main(["--phd2-port", "0", "--phd2-host", "0.0.0.0"])
    assert seen == [None, "0.0.0.0"]


def test_the_executables_camera_and_mount_are_its_active_devices(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``--camera`` and ``--mount`` name the rig an executable guider starts with (check-ekos
    runs it under indiserver beside our simulators, whose names are not indilib's); without
    them, the defaults table's."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr("indipyagents.assembly.run_driver", lambda driver, args: seen.append(
        (driver.face.camera(), driver.face.mount())))
    guider_main(["--phd2-port", "0"])
    guider_main(["--phd2-port", "0", "--camera", "Python Guide Camera", "--mount",
                 "Python Mount"])
    assert seen == [(defaults.GUIDE_CAMERA, defaults.MOUNT),
                    ("Python Guide Camera", "Python Mount")]
