"""The avahi fixture itself (tests/discoverykit.py): the peer every DNS-SD test relies on."""

from __future__ import annotations

from discoverykit import Avahi
from discoverykit import lo_multicast
from discoverykit import parse_browse
from waiting import wait_for


def test_a_service_avahi_publish_holds_is_seen_by_avahi_browse_with_its_txt(
        avahi: Avahi) -> None:
    """avahi-publish on the private bus, then avahi-browse -rpt resolves it on ``lo`` (with its
    TXT strings, a space in its name unescaped); once avahi-publish ends it is gone."""
    assert lo_multicast()
    with avahi.publish("fixture probe 1", "_indi._tcp", 7999, {"k": "v w", "n": "2"}) as held:
        assert held.name == "fixture probe 1"
        found = wait_for(lambda: [r for r in avahi.browse("_indi._tcp")
                                  if r.name == "fixture probe 1"], 10, "the published service")
        record = found[0]
        assert (record.interface, record.protocol, record.port) == ("lo", "IPv4", 7999)
        assert record.address == "127.0.0.1"
        assert record.txt_dict == {"k": "v w", "n": "2"}
    wait_for(lambda: "fixture probe 1" not in avahi.names("_indi._tcp"), 10,
             "the service gone once avahi-publish ended")


def test_avahi_browse_output_is_parsed_with_its_escapes() -> None:
    """avahi's parsable lines: only resolved (``=``) lines count; ``\\032`` is a space, ``\\.``
    a dot, ``\\"`` in a TXT string a quote; a TXT field may be empty."""
    output = ("+;lo;IPv4;a\\032b;_indi._tcp;local\n"
              '=;lo;IPv4;a\\032b\\.c;_indi._tcp;local;vm.local;127.0.0.1;7624;"x=1" "q=say \\"hi\\""\n'
              "=;lo;IPv4;bare;_http._tcp;local;vm.local;127.0.0.1;80;\n")
    records = parse_browse(output)
    assert [r.name for r in records] == ["a b.c", "bare"]
    assert records[0].txt == ("x=1", 'q=say "hi"') and records[1].txt == ()
