"""indipyterm on a server's TLS port (issue 60 item 6): ``--tls-ca/--tls-cert/--tls-key`` and
``TermApp(..., ssl=)``."""

from __future__ import annotations

from pathlib import Path

import pytest
from serverkit import make_gadget
from serverkit import running
from serverkit import server
from termhelpers import wait_for
from tlskit import Pki

from indipyterm.app import TermApp
from indipyterm.cli import parse_args
from indipyterm.settings import Settings

SIZE = (120, 50)


async def test_the_terminal_shows_a_tls_servers_devices_and_keeps_tls_on_reconnect(
    tls_pki: Pki,
) -> None:
    """The command line's TLS options make the context; with it the terminal connects to a TLS
    port requiring client certificates, lists the gadget, the server knows it by its CN, and a
    change of server on the settings screen keeps TLS."""
    cert, key = tls_pki.client("observer")
    srv = server(make_gadget())
    srv.listen_tls(0, tls_pki.server_cert, tls_pki.server_key, client_ca=tls_pki.ca)
    async with running(srv):
        args = parse_args(["--host", "localhost", "--port", str(srv.tls_port), "--tls-ca",
                           str(tls_pki.ca), "--tls-cert", str(cert), "--tls-key", str(key)])
        app = TermApp(args.host, args.port, args.blobfolder, ssl=args.ssl)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "Gadget" in app.device_names(), what="the gadget")
            assert [c.identity for c in srv.clients] == ["observer"]
            app.reconnect(Settings("127.0.0.1", srv.tls_port, None))
            await wait_for(pilot, lambda: "Gadget" in app.device_names()
                           and [c.peer.split(":")[0] for c in srv.clients] == ["127.0.0.1"],
                           what="the gadget again, over TLS")
            assert [c.identity for c in srv.clients] == ["observer"]


def test_a_tls_file_that_cannot_be_used_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """--tls-ca naming no file: the usage error names it (exit 2)."""
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--tls-ca", str(tmp_path / "nowhere-ca.crt")])
    assert stopped.value.code == 2 and "nowhere-ca.crt" in capsys.readouterr().err
