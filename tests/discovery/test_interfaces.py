"""Which interfaces announcing and browsing use (indipydiscovery.interfaces).

The default, every up interface with multicast on, is looked at only inside a network namespace
made here (``unshare --net`` with a veth pair): this machine's own interfaces lead to networks
that are not ours, and nothing here sends a packet anyway.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from indipydiscovery.interfaces import ENV
from indipydiscovery.interfaces import Interface
from indipydiscovery.interfaces import InterfaceError
from indipydiscovery.interfaces import chosen_interfaces
from indipydiscovery.interfaces import list_interfaces

REPO = Path(__file__).resolve().parents[2]

_LIST = """
import json, os, sys
from dataclasses import asdict
from indipydiscovery.interfaces import chosen_interfaces
names = sys.argv[1:] or None
print(json.dumps([asdict(i) for i in chosen_interfaces(names)]))
"""

# v0 up, multicast on, two labels and a secondary address; v1 up, multicast off; lo up, no
# multicast (as a fresh namespace has it).
_SETUP = """set -e
ip link set lo up
ip link add v0 type veth peer name v1
ip link set v1 multicast off
ip addr add 10.9.0.1/24 dev v0
ip addr add 10.9.0.7/24 dev v0
ip addr add 10.9.1.1/16 brd 10.9.255.254 dev v0 label v0:1
ip addr add 10.8.0.1/24 dev v1
ip link set v0 up
ip link set v1 up
"""


def in_namespace(*names: str, env: str | None = None) -> list[dict[str, object]]:
    """`chosen_interfaces(names)` as a fresh network namespace (set up by `_SETUP`) sees it."""
    script = _SETUP + f'exec "{sys.executable}" -c "$LIST" "$@"\n'
    environment = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(REPO),
                   "LIST": _LIST}
    if env is not None:
        environment[ENV] = env
    done = subprocess.run(["unshare", "--net", "sh", "-c", script, "sh", *names],
                          env=environment, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_by_default_every_up_interface_with_multicast_on_is_chosen() -> None:
    """In a namespace of our own: v0 (up, multicast) is chosen with all its addresses and each
    broadcast address (one given with ``brd``, one worked out from the netmask); v1 (multicast
    off) and lo (no multicast) are not."""
    chosen = in_namespace(env="")
    assert [i["name"] for i in chosen] == ["v0"]
    assert sorted(chosen[0]["ipv4"]) == ["10.9.0.1", "10.9.0.7", "10.9.1.1"]  # type: ignore[arg-type]
    assert sorted(chosen[0]["broadcast"]) == ["10.9.0.255", "10.9.255.254"]  # type: ignore[arg-type]
    assert chosen[0]["up"] and chosen[0]["multicast"]


def test_the_environment_variable_chooses_and_the_argument_wins_over_it() -> None:
    """INDIPY_MDNS_INTERFACES=lo,v1 chooses those, named ones whatever their flags (the loopback
    gets 127.255.255.255 as broadcast); names given as the argument win over the variable."""
    chosen = in_namespace(env="lo, v1")
    assert [i["name"] for i in chosen] == ["lo", "v1"]
    assert chosen[0]["broadcast"] == ["127.255.255.255"] and chosen[0]["loopback"]
    assert chosen[1]["ipv4"] == ["10.8.0.1"] and not chosen[1]["multicast"]
    assert [i["name"] for i in in_namespace("v0", env="lo")] == ["v0"]


def test_an_unknown_name_is_an_error_naming_the_interfaces_there_are(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo says which interfaces exist (and where the name came from), never "no
    interfaces" silently."""
    with pytest.raises(InterfaceError, match=r"'nope0'; this machine has .*\blo\b"):
        chosen_interfaces(["lo", "nope0"])
    monkeypatch.setenv(ENV, "nope1")
    with pytest.raises(InterfaceError, match=rf"'nope1' \(from {ENV}\)"):
        chosen_interfaces()


def test_the_suite_runs_with_the_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/conftest.py sets INDIPY_MDNS_INTERFACES=lo for every test and child process, so
    nothing a test starts announces or browses anywhere but on lo."""
    import os

    assert os.environ[ENV] == "lo"
    assert [i.name for i in chosen_interfaces()] == ["lo"]
    lo = next(i for i in list_interfaces() if i.name == "lo")
    assert isinstance(lo, Interface) and "127.0.0.1" in lo.ipv4 and lo.loopback
