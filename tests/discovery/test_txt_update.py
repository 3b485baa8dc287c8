"""A TXT record announced again (a server's devices changed) is what the link and a listing end
with. The announcer: an answer python-zeroconf held back from before the update (RFC 6762
section 14: records that went out in the last second wait a second more) goes out after it
carrying the new record, not the one replaced; before, that late answer put a starting server's
``ndev=0`` back into every cache with its cache-flush bit, and a listing right after showed the
server without its devices. The listing: a record that changes while its service is being
resolved is read again; before, the change was dropped and the listing kept the old one."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Sequence
from typing import Any

import pytest
from discoverykit import Avahi
from discoverykit import sniffing
from waiting import until
from waiting import wait_for

from indipydiscovery import browse
from indipydiscovery.announce import INDI_SERVICE
from indipydiscovery.announce import Announcement
from indipydiscovery.announce import Announcer
from indipydiscovery.txt import server_txt

NAME = "txt update test INDI 7"


def ptr_question(service_type: str) -> bytes:
    """A multicast DNS query (QM) for `service_type`'s PTR records, as a browser asks it."""
    labels = b"".join(bytes([len(part)]) + part.encode()
                      for part in service_type.rstrip(".").split("."))
    return struct.pack("!6H", 0, 0, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!2H", 12, 1)


def ask(question: bytes) -> None:
    """Send `question` on lo from port 5353 (a question from another port is legacy unicast,
    answered at once and to the asker only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("", 5353))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        sock.sendto(question, ("224.0.0.251", 5353))


def held_back(zeroconf: Any) -> list[Any]:
    """The multicast answers (groups) `zeroconf` has not sent yet (its two queues)."""
    return [group for queue in (zeroconf.out_queue, zeroconf.out_delay_queue)
            for group in queue.queue]


def records(groups: list[Any]) -> list[Any]:
    """The records, answers and additionals, of answer `groups`."""
    return [record for group in groups for answer, additionals in group.answers.items()
            for record in (answer, *additionals)]


def texts(records: list[Any]) -> list[bytes]:
    """The TXT records' strings among `records`, of our service only."""
    return [r.text for r in records if r.name.startswith(NAME) and hasattr(r, "text")]


@pytest.mark.asyncio
async def test_an_answer_held_back_across_an_update_carries_the_new_txt(avahi: Avahi) -> None:
    """Announced with v=1, asked for ``_indi._tcp`` at once (its records went out in the last
    second: the answer is held back a second, with v=1 in it), then updated to v=2: every TXT
    record of the service on the link after the update, the held-back answer's included, is
    v=2, and avahi, a cache on the link, resolves v=2."""
    from zeroconf import DNSIncoming

    announcer = Announcer(["lo"], listen_host="127.0.0.1", hostname="vm")
    with sniffing() as sniffer:
        await announcer.start([Announcement(NAME, INDI_SERVICE, 7, {"v": "1"})])
        try:
            assert announcer._zeroconf is not None
            zeroconf = announcer._zeroconf.zeroconf

            def read(marker: bytes) -> int | None:
                """Where in what the sniffer read `marker` is (multicast on lo arrives in the
                order sent: what went out before it was read before it)."""
                return next((i for i, (_, _, data) in enumerate(list(sniffer.packets))
                             if data == marker), None)

            def mark(service_type: str) -> int:
                """A question nobody answers sent, once the sniffer read it: where it did."""
                marker = ptr_question(service_type)
                ask(marker)
                return wait_for(lambda: read(marker), 10, "the marker read")

            def held_with_v1() -> tuple[list[Any], int] | None:
                """The answers held back with v=1 in them (and where the sniffer stood after
                them: they were still held then); else the question asked (again: on a
                loaded machine a second may have gone since the records last went out, and
                then its answer goes out at once and puts them out again)."""
                held = [g for g in held_back(zeroconf) if b"\x03v=1" in texts(records([g]))]
                if not held:
                    ask(ptr_question(INDI_SERVICE))
                    return None
                before = mark("_before-update._tcp.local.")
                still = [g for g in held_back(zeroconf) if any(g is h for h in held)]
                return (still, before) if still else None

            held, before = await until(held_with_v1, 10, "an answer held back with v=1",
                                       interval=0.3)
            await announcer.update(NAME, {"v": "2"})
            await until(lambda: not any(g is h for g in held_back(zeroconf) for h in held), 10,
                        "the answer held back sent")
            after = mark("_after-update._tcp.local.")
            messages = [DNSIncoming(data) for _, _, data in list(sniffer.packets)[before:after]]
            sent = texts([r for m in messages if m.is_response() for r in m.answers()])
            # the update's three announcements and the answer held back, at least
            assert len(sent) >= 4 and set(sent) == {b"\x03v=2"}, sent
            found = [r.txt for r in await asyncio.to_thread(avahi.browse) if r.name == NAME]
            assert found == [("v=2",)], found
        finally:
            await announcer.stop()


@pytest.mark.asyncio
async def test_a_txt_changed_while_its_service_is_resolved_is_read_again(
        avahi: Avahi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A listing has resolved our service (device A) and is checking its address when the
    record changes to devices A and B (zeroconf's browser tells it so): the listing returns
    A and B."""
    checking, checked = asyncio.Event(), asyncio.Event()
    port = 3  # nobody else's service: the one whose check is held
    real = browse._refuses

    async def held(addresses: Sequence[str], to: int) -> str | None:
        if to != port:
            return await real(addresses, to)
        checking.set()
        await checked.wait()
        return None

    monkeypatch.setattr(browse, "_refuses", held)
    heard: list[tuple[str, str]] = []
    handler = browse.Browse._changed

    def spied(self: browse.Browse, zeroconf: Any) -> Any:
        changed = handler(self, zeroconf)

        def spy(service_type: str, name: str, state_change: Any, **rest: object) -> None:
            heard.append((name, state_change.name))
            changed(service_type, name, state_change, **rest)

        return spy

    monkeypatch.setattr(browse.Browse, "_changed", spied)
    announcer = Announcer(["lo"], listen_host="127.0.0.1", hostname="vm")
    await announcer.start([Announcement(NAME, INDI_SERVICE, port,
                                        server_txt(version="1", devices=["A"]))])
    try:
        # a listing long enough for the change to be heard before its end on a loaded machine
        listing = asyncio.create_task(browse.discover_async(10.0, kinds=("indi",)))
        await until(checking.is_set, 10, "the listing checking our service's address")
        await announcer.update(NAME, server_txt(version="1", devices=["A", "B"]))
        await until(lambda: (f"{NAME}.{INDI_SERVICE}", "Updated") in heard, 10,
                    lambda: f"the listing told of the change: {heard}")
        checked.set()
        services = await listing
    finally:
        await announcer.stop()
    assert [s.devices for s in services if s.name == NAME] == [("A", "B")]
