"""``Client.set`` (``Waiters.send_and_wait``) against a peer that answers in every order a real
driver does (issue 79 item 8): a raw asyncio server in the test plays the peer and writes the
answer's updates in one write or apart, so each case is the same on every run.

Protects: each update is judged by the state it carries, and the result is that update's own
state and message -- not the model's, which by the time the waiting task runs may hold a later
update of the same read (an answer followed at once by a report), or a message an earlier
update left. indilib's CCD answers a first binning change Idle then Ok a millisecond apart,
sometimes in one read and sometimes in two: the result no longer depends on which (it was Ok
in one read, Idle in two: the rig then refused the batch's second group). And an answer read
while the new values are still being sent (the write paused) ends the set and leaves the
vector in the answer's state, not Busy; a check that raises does not keep an event from the
others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from rawpeer import Script
from rawpeer import raw_server
from rawpeer import read_until
from rawpeer import stay_connected

import indipyclient
from indipyclient import ConnectionMade
from indipyclient.session.setwait import Waiters
from indipycore.protocol import Number
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State
from indipycore.protocol import serialise

DEF_SLOT = (b'<defNumberVector device="Wheel" name="FILTER_SLOT" state="Idle" perm="rw" '
            b'timeout="60" message="Wheel ready"><defNumber name="FILTER_SLOT_VALUE" '
            b'format="%3.0f" min="1" max="5" step="1">1</defNumber></defNumberVector>\n')
DEF_TEXT = (b'<defTextVector device="Wheel" name="NOTE" state="Idle" perm="rw">'
            b'<defText name="t">start</defText></defTextVector>\n')


def slot(state: str, value: int, message: str | None = None) -> bytes:
    """One FILTER_SLOT update of the peer's, as the protocol's serialiser writes it."""
    return serialise(SetNumberVector("Wheel", "FILTER_SLOT", (
        Number("FILTER_SLOT_VALUE", str(value)),), state=State(state), message=message))


@asynccontextmanager
async def peer(script: Script) -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 that defines the wheel and runs ``script`` for the rest of
    each connection; yields its port."""
    async def defining(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"getProperties")
        writer.write(DEF_SLOT + DEF_TEXT)
        await script(reader, writer)
        await stay_connected()

    async with raw_server(defining) as port:
        yield port


def answering(*writes: bytes, apart: float = 0.05) -> Script:
    """A peer that, once the new values come, writes each of `writes` (a write may hold
    several updates), `apart` seconds from one another."""
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"</newNumberVector>")
        for number, data in enumerate(writes):
            if number:
                await asyncio.sleep(apart)
            writer.write(data)
            await writer.drain()
    return script


async def set_slot(script: Script, value: int = 2) -> tuple[indipyclient.SetResult, State]:
    """Set FILTER_SLOT to `value` against `script`; the result, and the state the model holds
    a moment after it (every update the script sends has come)."""
    async with peer(script) as port, indipyclient.connect("127.0.0.1", port) as client:
        await client.wait_for("Wheel", "FILTER_SLOT", timeout=5)
        result = await client.set("Wheel", "FILTER_SLOT", {"FILTER_SLOT_VALUE": value},
                                  timeout=5)
        await asyncio.sleep(0.3)
        return result, client.vector("Wheel", "FILTER_SLOT").state


async def test_busy_and_ok_in_one_write_answer_ok_with_the_answers_message() -> None:
    result, _ = await set_slot(answering(slot("Busy", 1, "Moving") + slot("Ok", 2, "Reached")))
    assert (result.state, result.message, result.timed_out) == (State.OK, "Reached", False)


async def test_indilibs_wheel_busy_then_ok_apart() -> None:
    result, state = await set_slot(answering(slot("Busy", 1), slot("Ok", 2), apart=0.5))
    assert result.ok
    assert state == State.OK


async def test_the_answer_is_not_a_later_update_of_the_same_read() -> None:
    """Ok, then at once (one write) a Busy: the driver's next move, another client's set. The
    answer was Ok; the model, read when the waiting task ran, said Busy."""
    result, state = await set_slot(answering(slot("Ok", 2, "Reached") + slot("Busy", 2, "Again")))
    assert (result.state, result.message) == (State.OK, "Reached")
    assert state == State.BUSY  # the model follows the driver, as it should


async def test_an_answer_without_a_message_has_none() -> None:
    """The Busy said "Moving"; the Ok says nothing: the result's message is the Ok's (none),
    not the one the model keeps from the Busy."""
    result, _ = await set_slot(answering(slot("Busy", 1, "Moving"), slot("Ok", 2)))
    assert (result.state, result.message) == (State.OK, "")


@pytest.mark.parametrize("apart", [None, 0.05], ids=["one write", "two writes"])
async def test_an_idle_first_update_is_the_answer_whichever_read_brings_the_ok(
        apart: float | None) -> None:
    """indilib's CCD answers a first binning change Idle (the new values) then Ok: the
    result is the Idle either way (the rig waits past it, ``indiset.command``); it was Ok
    when both came in one read and Idle when apart, so the batch's second group (its first
    binning change) failed sometimes."""
    idle, ok = slot("Idle", 2), slot("Ok", 2)
    script = answering(idle + ok) if apart is None else answering(idle, ok, apart=apart)
    result, state = await set_slot(script)
    assert (result.state, result.timed_out) == (State.IDLE, False)
    assert state == State.OK


async def test_an_alert_answer_keeps_its_message() -> None:
    result, state = await set_slot(answering(slot("Busy", 1), slot("Alert", 1, "Jammed")))
    assert (result.state, result.message) == (State.ALERT, "Jammed")
    assert state == State.ALERT


async def test_a_set_without_a_state_is_not_an_answer() -> None:
    """A set that carries no state leaves the vector Busy (as the client marked it): the
    answer is the update after it."""
    no_state = (b'<setNumberVector device="Wheel" name="FILTER_SLOT"><oneNumber '
                b'name="FILTER_SLOT_VALUE">1.5</oneNumber></setNumberVector>\n')
    result, _ = await set_slot(answering(no_state, slot("Ok", 2, "Reached")))
    assert (result.state, result.message) == (State.OK, "Reached")


async def test_an_answer_while_the_values_are_still_being_sent() -> None:
    """A large value: the client's write pauses (its buffer past the high-water mark) while
    the peer, having read the start of it, answers Ok, and only then reads the rest. The set
    ends Ok and the vector stays Ok: it was marked Busy once the send had completed, over the
    answer already in (a wheel then turned again at its next select)."""
    big = "x" * 8_000_000
    sending = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_until(reader, b"<newTextVector")
        writer.write(b'<setTextVector device="Wheel" name="NOTE" state="Ok" message="Noted">'
                     b'<oneText name="t">noted</oneText></setTextVector>\n')
        await writer.drain()
        await sending.wait()  # the client has seen the answer; its write is still paused
        await asyncio.sleep(0.2)
        await read_until(reader, b"</newTextVector>")

    async with peer(script) as port, indipyclient.connect("127.0.0.1", port) as client:
        await client.wait_for("Wheel", "NOTE", timeout=5)

        def noted(event: object) -> bool:
            if isinstance(event, indipyclient.setTextVector) and event.vectorname == "NOTE":
                sending.set()
                return True
            return False

        with client.waiters.watching(noted):
            # The timeouts only bound a failure (8 MB through a loaded CI machine took > 10 s).
            task = asyncio.ensure_future(client.set("Wheel", "NOTE", {"t": big}, timeout=30))
            await asyncio.wait_for(sending.wait(), 30)
            assert not task.done()  # the answer came while the send was under way
            result = await asyncio.wait_for(task, 30)
        assert (result.state, result.message, result.timed_out) == (State.OK, "Noted", False)
        assert client.vector("Wheel", "NOTE").state == State.OK


async def test_a_raising_check_does_not_keep_the_event_from_the_others(
        caplog: pytest.LogCaptureFixture) -> None:
    waiters = Waiters()
    seen: list[object] = []

    def broken(_event: object) -> bool:
        raise RuntimeError("broken check")

    def later(event: object) -> bool:
        seen.append(event)
        return True

    waiters.checks.extend([broken, later])
    event = ConnectionMade()
    with caplog.at_level(logging.ERROR):
        waiters.feed(event)
    assert seen == [event]
    assert waiters.checks == []
    assert "broken check" in caplog.text
