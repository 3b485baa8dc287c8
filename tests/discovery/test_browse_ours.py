"""Our own indipyserver, announcing itself, found by our listing (issue 73 items 2 and 4):
by the name the listing prints, with what its TXT record says, its TLS port announced as a
service of its own; and gone from a listing once it stops cleanly."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

from discoverykit import Avahi
from peers import OurServer
from peers import free_port
from tlskit import Pki

from indipycore.commandline import toolkit_version
from indipydiscovery.announce import instance_name
from indipydiscovery.browse import discover
from indipydiscovery.resolve import resolve_service


def test_our_server_is_listed_with_its_txt_and_dropped_after_a_clean_stop(
        avahi: Avahi, tmp_path: Path, tls_pki: Pki) -> None:
    """``indipyserver --demo --tls-port``: both ports found by name on lo, nothing wrong with
    either; a listing started as the server starts ends with software, version, the TLS port
    and the demo's device (the TXT record updated once the driver defined it); after SIGTERM
    (the goodbyes) a new listing no longer has them."""
    tls_port = free_port()
    server = OurServer("--demo", workdir=tmp_path, extra_args=[
        "--tls-port", str(tls_port), "--tls-cert", str(tls_pki.server_cert),
        "--tls-key", str(tls_pki.server_key)])
    with server:
        listed = discover(6.0, kinds=("indi",))
        tls = asyncio.run(resolve_service(instance_name("INDI TLS", tls_port), 20.0))
        plain = asyncio.run(resolve_service(instance_name("INDI", server.port), 20.0))
    mine = [s for s in listed if s.port == server.port]
    assert len(mine) == 1 and mine[0].name == plain.name == instance_name("INDI", server.port)
    assert (mine[0].kind, mine[0].tls_port) == ("indi", tls_port)
    assert (mine[0].software, mine[0].version) == ("indipyserver", toolkit_version())
    assert mine[0].addresses == ("127.0.0.1",) and mine[0].interfaces == ("lo",)
    assert mine[0].devices == ("Thermostat",), mine[0]
    assert mine[0].problems == () and tls.problems == ()
    assert (tls.port, tls.tls_port) == (tls_port, tls_port)
    after = {s.port for s in discover(2.0, kinds=("indi",))}
    assert not {server.port, tls_port} & after


def test_our_server_with_its_alpaca_face_is_listed_with_the_alpaca_port(
        avahi: Avahi, tmp_path: Path) -> None:
    """``indipyserver --demo --alpaca PORT``: the listing's INDI entry says the Alpaca face's
    port (TXT alpaca=), as avahi-browse sees it too, and the face itself answers there."""
    alpaca_port = free_port()
    with OurServer("--demo", workdir=tmp_path,
                   extra_args=["--alpaca", str(alpaca_port), "--alpaca-discovery", "0"]
                   ) as server:
        plain = asyncio.run(resolve_service(instance_name("INDI", server.port), 20.0))
        seen = [r.txt_dict for r in avahi.browse("_indi._tcp") if r.port == server.port]
        with urllib.request.urlopen(
                f"http://127.0.0.1:{alpaca_port}/management/apiversions", timeout=10) as reply:
            versions = json.load(reply)
    assert plain.alpaca_port == alpaca_port and plain.problems == ()
    assert seen and seen[0]["alpaca"] == str(alpaca_port)
    assert versions["Value"] == [1]
