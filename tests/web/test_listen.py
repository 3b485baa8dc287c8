"""The web port bound before the commands start anything (`indipyweb.listen`): every address of
the host on one port, and a port that cannot be had said in words a user acts on."""

from __future__ import annotations

import socket

import pytest

from indipyweb.listen import WebPortError
from indipyweb.listen import bind_web_port
from indipyweb.listen import web_url


def test_port_0_is_one_free_port_on_every_address_of_the_host() -> None:
    """``localhost`` (127.0.0.1, and ::1 where the machine has it): bound on one port, the
    port the address printed names, and held (listening): a second command there is told the
    port is in use."""
    sockets = bind_web_port("localhost", 0)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(ports) == 1 and 0 not in ports
        port = ports.pop()
        assert web_url("http", "localhost", sockets, "/base") == f"http://localhost:{port}/base/"
        with pytest.raises(WebPortError) as raised:
            bind_web_port("127.0.0.1", port)
        assert str(raised.value) == (f"cannot listen on 127.0.0.1:{port}: port {port} is in "
                                     "use by another program (choose another with --port)")
    finally:
        for sock in sockets:
            sock.close()


def test_a_listening_port_of_another_program_and_an_unknown_host_are_said() -> None:
    """A port another socket listens on is "in use"; a host name that does not resolve is
    "unknown host"; an IPv6 address is shown in brackets in the address to open."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(WebPortError, match="is in use by another program"):
            bind_web_port("127.0.0.1", port)
    with pytest.raises(WebPortError, match=r"^cannot listen on no-such-host\.invalid:8000: "
                                           r"unknown host"):
        bind_web_port("no-such-host.invalid", 8000)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        assert web_url("https", "::1", [sock]).startswith("https://[::1]:")
