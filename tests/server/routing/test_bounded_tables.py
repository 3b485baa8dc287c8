"""The server's tables stay bounded whatever a driver or remote invents.

A chaos review's remote defined two million properties and took the server from 51 MB to
2.3 GB, and a source may name ever new devices. Past a limit new properties are passed on to
the clients connected but not kept for later ones, and new devices are dropped; each is logged
once.
"""

from __future__ import annotations

import logging

import pytest
from serverdoubles import frames
from serverdoubles import ready
from test_router import FakeClient
from test_router import FakeDriver
from test_router import client

from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import State
from indipycore.protocol.events import DefTextVector
from indipycore.protocol.events import SetTextVector
from indipycore.protocol.events import Text
from indipycore.protocol.serialiser import serialise
from indipyserver.routing import propertycache
from indipyserver.routing import router as router_module
from indipyserver.routing.router import Router


def text_def(device: str, name: str, value: str = "v") -> str:
    return serialise(DefTextVector(device, name, State.IDLE, Perm.RO, (Text("t", value),))).decode()


def text_set(device: str, name: str, value: str) -> str:
    return serialise(SetTextVector(device, name, (Text("t", value),))).decode()


def replayed(router: Router) -> list[str]:
    late = client(router, "late")
    return [d.decode() for d in late.got]


def test_properties_past_the_limit_are_passed_on_but_not_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With room for 3 properties a device: the 4th and 5th reach the connected client but a
    late one is replayed the first 3 only; the first refused one is logged, once; a property
    kept is still updated, and deleting one makes room again."""
    monkeypatch.setattr(propertycache, "MAX_PROPERTIES_PER_DEVICE", 3)
    router = Router()
    driver = FakeDriver("inventor")
    ready(router, driver)
    watcher = client(router, "watcher")
    with caplog.at_level(logging.ERROR):
        for i in range(5):
            router.driver_frames(driver, frames(text_def("X", f"P{i}")))  # type: ignore[arg-type]
    assert len(watcher.got) == 5
    assert caplog.text.count("has more properties than are kept") == 1
    router.driver_frames(driver, frames(text_set("X", "P0", "new")))  # type: ignore[arg-type]
    got = replayed(router)
    assert len(got) == 3 and 'name="P0"' in got[0] and ">new<" in got[0]
    router.driver_frames(driver, frames(  # type: ignore[arg-type]
        '<delProperty device="X" name="P1"/>' + text_def("X", "P9")))
    assert sorted(g.split('name="')[1].split('"')[0] for g in replayed(router)) == [
        "P0", "P2", "P9"]


def test_properties_past_the_total_are_not_kept_for_any_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(propertycache, "MAX_PROPERTIES", 4)
    router = Router()
    driver = FakeDriver("d")
    ready(router, driver)
    for device in "ABC":
        for i in range(2):
            router.driver_frames(driver, frames(text_def(device, f"P{i}")))  # type: ignore[arg-type]
    assert len(replayed(router)) == 4


def test_devices_past_the_limit_of_a_source_are_dropped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With room for 2 devices a source: the third and later are dropped (nobody gets them),
    logged once; the first two go on working, and another source is not affected."""
    monkeypatch.setattr(router_module, "MAX_DEVICES_PER_SOURCE", 2)
    router = Router()
    inventor, other = FakeDriver("inventor"), FakeDriver("other")
    ready(router, inventor, other)
    watcher: FakeClient = client(router, "watcher")
    with caplog.at_level(logging.ERROR):
        for device in ("D1", "D2", "D3", "D4", "D3"):
            router.driver_frames(inventor, frames(text_def(device, "P")))  # type: ignore[arg-type]
        router.driver_frames(inventor, frames(text_set("D1", "P", "ok")))  # type: ignore[arg-type]
        router.driver_frames(other, frames(text_def("O1", "P")))  # type: ignore[arg-type]
    devices = [g.split(b'device="')[1].split(b'"')[0] for g in watcher.got]
    assert devices == [b"D1", b"D2", b"D1", b"O1"]
    assert caplog.text.count("provides more than 2 devices") == 1
    assert "'D3'" in caplog.text


def test_a_large_blob_vector_is_checked_unless_its_framer_streamed_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An 80 KB setBLOBVector with a member closed by the wrong tag: from a connection whose
    framer streams BLOBs it was checked as it streamed (here it is built by hand, so it goes
    through), from a port whose framer does not stream (a test double: every connection of
    the server streams now) it is checked whole and dropped."""
    body = "A" * 80_000
    bad = ('<setBLOBVector device="Cam" name="B" state="Ok"><oneBLOB name="b" size="60000" '
           'format=".bin">' + body + "</oneNumber></setBLOBVector>")
    for streams, passed in ((True, 1), (False, 0)):
        router = Router()
        driver = FakeDriver("cam")
        driver.streams_blobs = streams  # type: ignore[attr-defined]
        ready(router, driver)
        router.driver_frames(driver, frames(  # type: ignore[arg-type]
            '<defBLOBVector device="Cam" name="B" state="Idle" perm="ro"><defBLOB name="b"/>'
            "</defBLOBVector>"))
        watcher = client(router, "w", '<getProperties/><enableBLOB device="Cam">Also</enableBLOB>')
        with caplog.at_level(logging.WARNING):
            router.driver_frames(driver, frames(bad))  # type: ignore[arg-type]
        assert sum(b"<setBLOBVector" in g for g in watcher.got) == passed
    assert "cam sent a malformed <setBLOBVector> (mismatched tag" in caplog.text
