"""Helpers of the imager agent's tests: a watching client that records what the agent sends,
the batch of the comparison driven with indi_setprop, the frames' headers, and the lock on
port 7624 (indilib's agent reaches nothing else)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import ownnetwork
from agentkit import AGENT
from framewatch import FrameWatcher
from peers import HOST
from peers import setprop
from waiting import wait_for

from indipycore.fits import read_header
from indipycore.protocol import GetProperties
from indipycore.protocol import serialise
from indipycore.protocol.frames import Frame

INDILIB_PORT = 7624
#: The lock file of every process of the machine's own network namespace that listens on 7624
#: (the benches and scripts/check-kstars take it too: ``flock`` on this path).
PORT_LOCK = Path(tempfile.gettempdir()) / "indipy-tests-port-7624.lock"


def port_lock(here: str, host: str) -> Path:
    """The lock on 7624 of the network namespace `here` (``net:[inode]``), `host` the
    machine's: `PORT_LOCK` in the machine's, one of its own in any other. Each xdist worker has
    a namespace (and a 7624) of its own (tests/ownnetwork.py), so one lock for all made a worker
    wait for a bench beside the suite holding the machine's: a fresh-clone run beside
    agent_deadtime.py timed out after 240 s, most of them waiting."""
    if here == host:
        return PORT_LOCK
    inode = "".join(ch for ch in here if ch.isdigit())
    return PORT_LOCK.with_name(f"indipy-tests-port-7624-netns-{inode}.lock")


def _this_port_lock() -> Path:
    """This process's: the machine's namespace is the one it left (`ownnetwork.left`), if it
    left one (/proc/1/ns/net is not readable in a container)."""
    here = ownnetwork.namespace_id()
    return port_lock(here, ownnetwork.left or here)


@contextlib.contextmanager
def port_7624() -> Iterator[int]:
    """Hold port 7624 alone in this network namespace (the workers of other runs of the
    suite, a bench): an exclusive lock (`port_lock`), waited for; then fail clearly if
    something else (not a test of ours) listens there."""
    fd = os.open(_this_port_lock(), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((HOST, INDILIB_PORT)) == 0:
                raise AssertionError(
                    f"something outside the tests listens on {HOST}:{INDILIB_PORT}; indilib's "
                    "imager agent reaches only localhost:7624, so this test needs it free")
        yield INDILIB_PORT
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Watcher:
    """A raw INDI client of `port` on a thread: every set*/def* element about the agent, as
    (tag, vector, state, message), in the order it came."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.frames = FrameWatcher(port, _about_the_agent, serialise(GetProperties("1.7", AGENT)),
                                   HOST)

    def records(self) -> list[tuple[str, str, str, str]]:
        return self.frames.records()

    def mark(self) -> int:
        return self.frames.mark()

    def states(self, since: int, names: tuple[str, ...] = ("BATCH", "PROGRESS", "STATUS")
               ) -> list[tuple[str, str]]:
        """The (vector, state) of the sets of `names` from record `since` on, a repeat of the
        one before dropped: the order of states a watching client sees."""
        order: list[tuple[str, str]] = []
        for tag, name, state, _message in self.records()[since:]:
            if tag.startswith("set") and name in names and (
                    not order or order[-1] != (name, state)):
                order.append((name, state))
        return order

    def wait_set(self, name: str, states: tuple[str, ...], since: int, timeout: float = 60
                 ) -> tuple[str, str, str, str]:
        def found() -> tuple[str, str, str, str] | None:
            for record in self.records()[since:]:
                if record[0].startswith("set") and record[1] == name and record[2] in states:
                    return record
            return None

        return wait_for(found, timeout, f"{AGENT}.{name} set {states}: {self.records()[-8:]}")

    def close(self) -> None:
        self.frames.close()


def _about_the_agent(frame: Frame) -> tuple[str, str, str, str] | None:
    attrs = frame.attrs
    if attrs.get("device") != AGENT:
        return None
    return frame.tag, attrs.get("name", ""), attrs.get("state", ""), attrs.get("message", "")


def set_agent(port: int, *specs: str) -> None:
    """indi_setprop on the agent, which must say it sent them."""
    result = setprop(port, *specs, timeout=5)
    assert result.returncode == 0, result


def run_comparison_batch(port: int, folder: Path, watcher: Watcher,
                         before_start: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The comparison's batch, by indi_setprop as a user would: CONNECT, the folder, 2 groups
    (group 1: 2 images, bin 1, slot 1 (Red), 1 s; group 2: 1 image, bin 2, slot 2 (Green),
    1 s), `before_start`'s settings (indi_setprop specs, the devices connected), START;
    returns the order of states seen from START to PROGRESS Ok."""
    # The agent defined first (an executable under a loaded indiserver takes a while to
    # start), so indi_setprop's few seconds are not spent waiting for it.
    wait_for(lambda: any(r[0].startswith("def") and r[1] == "CONNECTION"
                         for r in watcher.records()), 60, f"{AGENT}'s definitions")
    set_agent(port, f"{AGENT}.CONNECTION.CONNECT=On")
    watcher.wait_set("STATUS", ("Idle", "Ok"), 0, 30)
    wait_for(lambda: _lights_ok(watcher), 30, "STATUS lights")
    set_agent(port, f"{AGENT}.IMAGE_NAME.IMAGE_FOLDER;IMAGE_PREFIX={folder};IMG")
    set_agent(port, f"{AGENT}.GROUPS.GROUP_COUNT=2")
    watcher.wait_set("GROUPS", ("Ok",), 0, 10)
    set_agent(port, f"{AGENT}.GROUP_01.IMAGE_COUNT;CCD_BINNING;FILTER_SLOT;CCD_EXPOSURE_VALUE"
                    "=2;1;1;1")
    set_agent(port, f"{AGENT}.GROUP_02.IMAGE_COUNT;CCD_BINNING;FILTER_SLOT;CCD_EXPOSURE_VALUE"
                    "=1;2;2;1")
    watcher.wait_set("GROUP_02", ("Ok",), 0, 10)
    for spec in before_start:
        set_agent(port, spec)
    since = watcher.mark()
    set_agent(port, f"{AGENT}.BATCH.START=On")
    done = watcher.wait_set("PROGRESS", ("Ok", "Alert"), since, 90)
    assert done[2] == "Ok", watcher.records()[since:]
    return watcher.states(since)


def _lights_ok(watcher: Watcher) -> bool:
    """Whether the controlled devices are connected: indi_getprop says both lights Ok."""
    from peers import getprop

    found = getprop(watcher.port, f"{AGENT}.STATUS.*", timeout=1)
    return found.get(f"{AGENT}.STATUS.CCD") == "Ok" and \
        found.get(f"{AGENT}.STATUS.FILTER") == "Ok"


def headers(folder: Path, keys: tuple[str, ...] = ("FILTER", "EXPTIME", "XBINNING")
            ) -> dict[str, tuple[object, ...]]:
    """Each .fits file of `folder` (no other file may be there): its cards `keys`."""
    found = {}
    for path in sorted(folder.iterdir()):
        assert path.suffix == ".fits", f"{path.name}: a file that is not a frame"
        header = read_header(path.read_bytes())
        found[path.name] = tuple(header.values.get(key) for key in keys)
    return found
