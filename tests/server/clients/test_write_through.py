"""Write-through of the usual one-element read (`LoopFlow.through`).

A read holding one element writes that element to each receiver with nothing queued as soon
as it is routed, instead of marking the receiver and flushing at the end of the batch. It must
route exactly as the batched path does (same bytes, same cache, same echoes), keep one write
per receiver per read, and give way to the batched path whenever anything is queued or paused.
"""

from __future__ import annotations

import asyncio
from functools import partial

from serverkit import Recorder
from serverkit import number_set

from indipycore.protocol.enums import State
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import Number
from indipycore.protocol.serialiser import serialise
from indipyserver.blobs.cutthrough import BlobForwarder
from indipyserver.clients.clientconnection import ClientConnection
from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.inbound import InboundProtocol
from indipyserver.fastpath.shortcut import Shortcut
from indipyserver.loop.flowcontrol import flow_for
from indipyserver.routing.router import Router

DEFS = (
    b'<defNumberVector device="D" name="N" state="Idle" perm="rw"><defNumber name="v" '
    b'format="%g" min="0" max="0" step="0">0</defNumber></defNumberVector>\n'
    b'<defTextVector device="D" name="T" state="Idle" perm="ro"><defText name="t">x'
    b"</defText></defTextVector>\n"
)


def new(i: int) -> bytes:
    return serialise(NewNumberVector("D", "N", (Number("v", str(i)),)))


def set_(i: int, **attrs: str) -> bytes:
    return number_set("D", "N", {"v": i}, state=State.OK, **attrs)


class Driver(DriverConnection):
    async def run(self, router: Router) -> None:  # fed directly by the tests
        raise NotImplementedError


class Rig:
    """A router with one driver (fed through its InboundProtocol) and two clients."""

    def __init__(self) -> None:
        self.router = Router()
        self.driver = Driver("d")
        self.to_driver = Recorder()
        self.driver.attach_writer(self.to_driver)
        self.inbound = InboundProtocol(partial(self.router.driver_frames, self.driver), "d",
                                       BlobForwarder(self.router, self.driver))
        self.inbound.connection_made(Recorder())
        self.router.driver_ready(self.driver)
        self.inbound.start()
        self.inbound.data_received(DEFS)
        self.clients: list[ClientConnection] = []
        self.to_client: list[Recorder] = []
        shortcut = Shortcut(self.router.tables)  # as the server hands it to its clients
        shortcut.driver_added()
        for _ in range(2):
            client = ClientConnection(self.router, set(), shortcut=shortcut)
            transport = Recorder()
            client.connection_made(transport)
            client.data_received(b'<getProperties version="1.7"/>\n')
            self.clients.append(client)
            self.to_client.append(transport)
        for t in [self.to_driver, *self.to_client]:
            t.writes.clear()
            t.in_batch.clear()

    def received(self) -> list[bytes]:
        return [b"".join(self.to_driver.writes)] + [b"".join(t.writes) for t in self.to_client]


STEPS: list[tuple[str, list[bytes]]] = [
    ("client", [new(1)]),
    ("driver", [set_(1)]),
    ("client", [new(2), new(3)]),
    ("driver", [set_(2), set_(3, message="done")]),
    ("driver", [b'<message device="D" message="hello"/>\n']),
    ("client", [b'<pingRequest uid="p1"/>\n']),
    ("client", [b'<getProperties version="1.7" device="D" name="N"/>\n']),
    ("driver", [set_(4)]),
]


def run_steps(rig: Rig, one_per_read: bool) -> None:
    for side, elements in STEPS:
        reads = [[e] for e in elements] if one_per_read else [elements]
        for read in reads:
            data = b"".join(read)
            if side == "client":
                rig.clients[0].data_received(data)
            else:
                rig.inbound.data_received(data)


async def test_one_element_reads_route_exactly_as_batched_reads() -> None:
    through, batched = Rig(), Rig()
    run_steps(through, one_per_read=True)
    run_steps(batched, one_per_read=False)
    assert through.received() == batched.received()
    assert through.router.cached("D", "N") == batched.router.cached("D", "N")
    # The echo of a client's newNumberVector reached the other client, and the driver got it.
    assert new(1).rstrip() in through.received()[2]
    assert new(1).rstrip() in through.received()[0]


async def test_a_one_element_read_is_written_before_the_read_returns_once_per_receiver() -> None:
    rig = Rig()
    rig.clients[0].data_received(new(7))
    # Routed by the shortcut (lanes): written at once, no batch open at all.
    assert rig.to_driver.writes == [new(7).rstrip()]
    assert rig.to_driver.in_batch == [False]
    assert rig.to_client[1].writes == [new(7).rstrip()]  # the echo, also at once
    assert rig.to_client[0].writes == []
    rig.inbound.data_received(set_(7))
    for t in rig.to_client:
        assert t.writes[-1] == set_(7).rstrip() and t.in_batch[-1]


async def test_a_replay_still_leaves_in_one_write() -> None:
    """Only the read's own element is written through: a getProperties answered from the
    cache goes in one write, as before (indi_setprop closes after the first definition it
    reads, and a client closing with unread bytes resets the connection)."""
    rig = Rig()
    rig.clients[0].data_received(b'<getProperties version="1.7" device="D"/>\n')
    assert len(rig.to_client[0].writes) == 1
    assert b"<defNumberVector" in rig.to_client[0].writes[0]
    assert b"<defTextVector" in rig.to_client[0].writes[0]
    assert rig.to_client[0].in_batch == [False]  # flushed at the end of the batch


async def test_a_paused_client_gets_the_element_behind_what_is_queued() -> None:
    rig = Rig()
    client, transport = rig.clients[0], rig.to_client[0]
    client.pause_writing()
    rig.inbound.data_received(set_(1))
    rig.inbound.data_received(set_(2))
    assert transport.writes == []
    assert client.queued_bytes == len(set_(1).rstrip()) + len(set_(2).rstrip())
    client.resume_writing()
    assert transport.writes == [set_(1).rstrip() + set_(2).rstrip()]
    # Caught up: the next one-element read is written through again.
    rig.inbound.data_received(set_(3))
    assert transport.writes[-1] == set_(3).rstrip() and transport.in_batch[-1]


async def test_a_paused_driver_pipe_queues_and_keeps_order() -> None:
    rig = Rig()
    rig.driver.writer_paused(True)
    rig.clients[0].data_received(new(1))
    rig.clients[0].data_received(new(2))
    assert rig.to_driver.writes == []
    assert rig.driver.queued_bytes == len(new(1).rstrip()) + len(new(2).rstrip())
    rig.driver.writer_paused(False)
    await asyncio.sleep(0)  # a mark outside any batch is flushed soon
    assert rig.to_driver.writes == [new(1).rstrip() + new(2).rstrip()]
    rig.clients[0].data_received(new(3))  # caught up: written at once again (lanes)
    assert rig.to_driver.writes[-1] == new(3).rstrip()
    assert len(rig.to_driver.writes) == 2


async def test_a_two_element_read_is_one_write_per_receiver() -> None:
    rig = Rig()
    rig.inbound.data_received(set_(1) + set_(2))
    for t in rig.to_client:
        assert t.writes == [set_(1).rstrip() + set_(2).rstrip()]
        assert t.in_batch == [False]


async def test_the_flow_forgets_the_element_when_the_batch_ends() -> None:
    rig = Rig()
    rig.clients[0].data_received(new(1))
    assert flow_for().through is None
    # Routed outside any read batch (an in-process driver): marked and flushed soon.
    rig.router.driver_frames(rig.driver, [])
    assert flow_for()._hold == 0
