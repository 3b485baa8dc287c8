"""The lock on port 7624 is one a network namespace (imagerkit.port_lock): an xdist worker,
in a namespace of its own, never waits for a bench beside the suite that holds the machine's
lock (a fresh-clone run beside bench/agent_deadtime.py once timed out so), and a bench or a
test in the machine's namespace still shares the one path the benches' ``flock`` names."""

from __future__ import annotations

import ownnetwork
from imagerkit import PORT_LOCK
from imagerkit import port_lock


def test_the_machines_namespace_keeps_the_benches_lock_and_another_has_its_own() -> None:
    host = "net:[4026531840]"
    assert port_lock(host, host) == PORT_LOCK
    mine, theirs = port_lock("net:[4026532500]", host), port_lock("net:[4026532501]", host)
    assert len({mine, theirs, PORT_LOCK}) == 3
    assert mine.parent == PORT_LOCK.parent and "4026532500" in mine.name


def test_a_worker_in_a_namespace_of_its_own_does_not_take_the_machines_lock() -> None:
    """Under scripts/run-tests each process of the suite runs in a namespace of its own (root,
    as CI; tests/conftest.py): its lock is not the one a bench beside the suite holds."""
    here = ownnetwork.namespace_id()
    assert ownnetwork.left is not None and here != ownnetwork.left
    assert port_lock(here, ownnetwork.left) != PORT_LOCK
