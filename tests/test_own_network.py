"""Each pytest worker in a network namespace of its own (tests/ownnetwork.py, issue 90 item 2):
what one worker's tests announce by multicast DNS never reaches another's."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import ownnetwork

TESTS = Path(__file__).resolve().parent

#: A child that (with "own") takes a network of its own as a worker does, turns multicast on on
#: its lo, and announces one _indi._tcp service named "Twin INDI" with our Announcer on the
#: port given; it prints the names announced (a conflict renames it "Twin INDI (2)") and holds
#: them until its stdin closes.
CHILD = textwrap.dedent("""
    import asyncio, json, subprocess, sys
    sys.path.insert(0, {tests!r})
    import ownnetwork
    if sys.argv[1] == "own":
        ownnetwork.enter()
    subprocess.run(["ip", "link", "set", "lo", "multicast", "on"], check=True)
    from indipydiscovery.announce import Announcement, Announcer, INDI_SERVICE

    async def main():
        announcer = Announcer(["lo"], listen_host="127.0.0.1", hostname="twin")
        names = await announcer.start([Announcement("Twin INDI", INDI_SERVICE,
                                                    int(sys.argv[2]))])
        print(json.dumps(names), flush=True)
        await asyncio.to_thread(sys.stdin.read)
        await announcer.stop()

    asyncio.run(main())
""").format(tests=str(TESTS))

#: Two such children, the second started once the first has announced; prints their names.
TWINS = textwrap.dedent("""
    import json, subprocess, sys
    children, names = [], []
    for port in ("7624", "7625"):
        child = subprocess.Popen([sys.executable, "-c", sys.argv[2], sys.argv[1], port],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        children.append(child)
        names += json.loads(child.stdout.readline())
    for child in children:
        child.communicate("", timeout=30)
    print(json.dumps(names))
""")


def test_this_test_runs_in_a_network_of_its_own_with_a_second_address() -> None:
    """The worker left the namespace pytest started in, and has lo and testnet0 up."""
    assert ownnetwork.left is not None and ownnetwork.namespace_id() != ownnetwork.left
    shown = subprocess.run(["ip", "-o", "-4", "addr", "show"], check=True, capture_output=True,
                           text=True, timeout=10).stdout
    assert "127.0.0.1/8" in shown and f"{ownnetwork.ADDRESS}/24" in shown


def twins(mode: str) -> list[str]:
    """The names two children announce one after the other: each in a network of its own
    (`mode` "own", as two workers), or both in one namespace made for them ("shared": one
    lo, as every worker had before)."""
    command = [sys.executable, "-c", TWINS, mode, CHILD]
    if mode == "shared":
        command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                   *command]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)
    return list(json.loads(done.stdout))


def test_two_workers_announcing_one_name_at_once_see_no_conflict() -> None:
    """Two processes set up as two workers are (each its own namespace) announce the same
    service name, the second while the first holds it: both keep it. The same two on one shared loopback (the
    suite before, every worker on the machine's lo): the second is renamed, so this test can
    tell the difference."""
    assert twins("own") == ["Twin INDI", "Twin INDI"]
    assert twins("shared") == ["Twin INDI", "Twin INDI (2)"]
