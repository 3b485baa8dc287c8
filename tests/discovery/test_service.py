"""`Service` (indipydiscovery.service): sightings of one service become one entry with every
address, interface and problem of each; different services never merge; a service is found
by its listed or its full DNS-SD name; its JSON form has every field."""

from __future__ import annotations

import dataclasses
import json

import pytest

from indipydiscovery.service import Service
from indipydiscovery.service import find
from indipydiscovery.service import full_name
from indipydiscovery.service import merge_all


def sighting(**changes: object) -> Service:
    base = Service(kind="indi", name="pi INDI 7624", host="pi.local.", addresses=("10.0.0.5",),
                   port=7624, interfaces=("eth0",))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_one_service_seen_on_two_interfaces_is_one_entry_with_both() -> None:
    """The same name and kind from eth0 and wlan0: one entry, both addresses and interfaces
    in the order seen, what only the second knew kept, each problem once."""
    services: list[Service] = []
    merge_all(services, sighting(problems=("no txtvers= (read as 1)",)))
    merged = merge_all(services, sighting(addresses=("192.168.1.9", "10.0.0.5"),
                                          interfaces=("wlan0",), tls_port=7625,
                                          problems=("no txtvers= (read as 1)",)))
    assert services == [merged]
    assert merged.addresses == ("10.0.0.5", "192.168.1.9")
    assert merged.interfaces == ("eth0", "wlan0")
    assert merged.tls_port == 7625 and merged.problems == ("no txtvers= (read as 1)",)
    assert merged.address == "10.0.0.5"


def test_different_services_are_never_merged() -> None:
    """Another kind with the same name is another service; merging it is refused."""
    services: list[Service] = []
    merge_all(services, sighting())
    merge_all(services, sighting(kind="indigo"))
    assert [s.kind for s in services] == ["indi", "indigo"]
    with pytest.raises(ValueError, match="is not indi"):
        sighting().merge(sighting(name="other"))


def test_a_service_is_found_by_its_listed_or_full_name() -> None:
    """``pi INDI 7624`` and ``pi INDI 7624._indi._tcp.local.`` name the same service; an
    Alpaca server has only its listed name."""
    alpaca = Service(kind="alpaca", name="Alpaca (10.0.0.7:11111)", host="10.0.0.7",
                     addresses=("10.0.0.7",), port=11111)
    services = [sighting(), alpaca]
    assert find(services, "pi INDI 7624") is services[0]
    assert find(services, "pi INDI 7624._indi._tcp.local.") is services[0]
    assert find(services, full_name(alpaca)) is alpaca
    assert find(services, "pi") is None


def test_the_json_form_has_every_field_and_is_json() -> None:
    """`as_json` names every field, in JSON's types (the command's --json)."""
    service = sighting(txt={"txtvers": "1"}, devices=("CCD Simulator",))
    data = json.loads(json.dumps(service.as_json()))
    assert set(data) == {f.name for f in dataclasses.fields(Service)}
    assert data["devices"] == ["CCD Simulator"] and data["txt"] == {"txtvers": "1"}


def test_a_service_is_hashable_though_it_holds_its_txt() -> None:
    """Frozen: usable in a set (its TXT mapping is left out of the hash)."""
    assert len({sighting(txt={"a": "1"}), sighting(txt={"a": "1"})}) == 1
