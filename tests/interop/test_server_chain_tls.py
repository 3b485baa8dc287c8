"""Three of our servers chained over TLS with client certificates, indilib's tools at the top
(issue 60 item 5).

Protects: ``@tls://host:port`` remotes with --remote-tls-ca/--remote-tls-cert/--remote-tls-key
reach the TLS port below (never its plain port), each server below knows the one above by
its certificate's CN, and indilib's indi_getprop, indi_setprop and indi_eval on the top's plain
port read and set the bottom server's device two TLS hops down.
"""

from __future__ import annotations

from collections.abc import Callable

from peers import OurServer
from peers import free_port
from peers import indi_eval
from peers import setprop
from peers import tcp_socket_fds
from test_server_chain import THERMOSTAT
from test_server_chain import wait_getprop
from tlskit import Pki
from waiting import wait_for


def tls_port_options(pki: Pki, port: int) -> list[str]:
    return ["--tls-port", str(port), "--tls-cert", str(pki.server_cert), "--tls-key",
            str(pki.server_key), "--tls-client-ca", str(pki.ca)]


def remote_options(pki: Pki, name: str) -> list[str]:
    cert, key = pki.client(name)
    return ["--remote-tls-ca", str(pki.ca), "--remote-tls-cert", str(cert),
            "--remote-tls-key", str(key)]


def test_three_servers_chained_over_tls_serve_indilib_tools_at_the_top(
    our_server: Callable[..., OurServer], tls_pki: Pki,
) -> None:
    """bottom (the demo thermostat, TLS port requiring certificates) <- middle (chained as
    site-east, TLS port too) <- top (chained as operator): indi_getprop at the top reads the
    thermostat, indi_setprop there sets its target and indi_eval sees the bottom driver's
    answer at the top and at the bottom; the chained connections are TLS connections to the
    TLS ports, and each lower server names the one above by its certificate."""
    bottom_tls, middle_tls = free_port(), free_port()
    bottom = our_server("--demo", *tls_port_options(tls_pki, bottom_tls))
    middle = our_server(f"@tls://localhost:{bottom_tls}", *remote_options(tls_pki, "site-east"),
                        *tls_port_options(tls_pki, middle_tls))
    top = our_server(f"@tls://localhost:{middle_tls}", *remote_options(tls_pki, "operator"))

    wait_getprop(top.port, f"{THERMOSTAT}.TARGET.TARGET", timeout=30)
    result = setprop(top.port, f"{THERMOSTAT}.TARGET.TARGET=12.5")
    assert result.returncode == 0, result.describe()
    for port in (top.port, bottom.port):
        ok = indi_eval(port, f'"{THERMOSTAT}.TARGET.TARGET"==12.5', timeout=10)
        assert ok.returncode == 0, ok.describe()

    for server in (bottom, middle, top):
        assert "malformed" not in server.log(), server.log()[-2000:]
    for server, above in ((bottom, "site-east"), (middle, "operator")):
        wait_for(lambda s=server, a=above: f"connected as {a}" in s.log(),
                 what=lambda s=server: s.log()[-2000:])
    for below, above in ((bottom, middle), (middle, top)):
        tls_port = bottom_tls if below is bottom else middle_tls
        assert above.process is not None
        assert tcp_socket_fds(above.process.pid,
                              lambda _, remote, state, p=tls_port: remote == p and state == "01")
        assert not tcp_socket_fds(above.process.pid,
                                  lambda _, remote, state, p=below.port: remote == p
                                  and state == "01")
