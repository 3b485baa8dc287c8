"""docs/guides/finding_servers.rst shows what is true (issue 73 item 7): its Python listing runs
and prints our announcing server, its ``indipy-discover`` table has the command's columns and
the line our server gets, and the names it gives (service types, TXT keys, options) are the
code's."""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
from pathlib import Path

from discoverykit import Avahi
from peers import OurServer
from waiting import wait_for

from indipydiscovery import cli
from indipydiscovery.announce import HTTP_SERVICE
from indipydiscovery.announce import INDI_SERVICE
from indipydiscovery.announce import instance_name
from indipydiscovery.browse import discover
from indipydiscovery.txt import server_txt

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "finding_servers.rst"


def python_blocks(text: str) -> list[str]:
    """The indented blocks after a ``::`` line that import indipyclient."""
    blocks = re.findall(r"::\n\n((?:   .*\n|\n)+)", text)
    return [textwrap.dedent(b) for b in blocks if "import indipyclient" in b]


def test_the_guides_listing_runs_and_its_table_is_the_commands(avahi: Avahi,
                                                               tmp_path: Path) -> None:
    """The guide's ``discover()`` loop prints our ``--demo`` server (kind, name, address,
    port, its Thermostat); the guide's table header is ``indipy-discover``'s, and its line has
    the shape the command prints for such a server."""
    text = GUIDE.read_text()
    [block] = python_blocks(text)
    with OurServer("--demo", workdir=tmp_path) as server:
        name = instance_name("INDI", server.port)
        # the TXT record names the device once the driver defined it: wait for that first
        # (from then on every listing shows it: no answer of the old record comes later)
        wait_for(lambda: any(s.name == name and s.devices
                             for s in discover(1.0, kinds=("indi",))),
                 30, "our server listed with its device")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(GUIDE), "exec"), {})  # noqa: S102 -- the guide's own code
        table = cli.table([s for s in discover(2.0, kinds=("indi",)) if s.name == name])
    assert f"indi {name} 127.0.0.1 {server.port} ('Thermostat',)" in out.getvalue(), \
        out.getvalue()
    header, line = table.splitlines()
    shown = re.search(r"\$ indipy-discover --kind indi\n((?:   .*\n)+)", text)
    assert shown, "the guide's table"
    guide_header, guide_line = textwrap.dedent(shown.group(1)).splitlines()
    assert guide_header.split() == header.split() == list(cli.COLUMNS)
    assert len(guide_line.split()) == len(line.split())  # the same cells, another port


def test_the_names_the_guide_gives_are_the_codes() -> None:
    """Service types, every TXT key our server writes, and the options and variable named."""
    text = GUIDE.read_text()
    for service_type in (INDI_SERVICE, HTTP_SERVICE):
        assert f"``{service_type.removesuffix('.local.')}``" in text
    txt = server_txt(version="1", software="indipyserver", tls_port=2, alpaca_port=3,
                     web="http://x/", devices=["A"])
    for key in txt:
        assert f"``{key}=" in text, key
    for name in ("--no-announce", "--mdns-interface", "INDIPY_MDNS_INTERFACES", "--timeout",
                 "--json", "--kind"):
        assert name in text
    assert "--mdns-interface" in cli.parser().format_help()
