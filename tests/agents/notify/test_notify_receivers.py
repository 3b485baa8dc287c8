"""Issue 93 item 4: the `Notifier` against real receivers on loopback, each on a free port: a
mail through a local SMTP server (aiosmtpd), a JSON webhook through an HTTP server of the test,
an MQTT message through the project's mosquitto; a receiver that never answers is given up on
after the retries, with one log line, and holds nothing else up; a full queue drops its
oldest message with one log line; `put` never waits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiomqtt
import pytest
from notifykit import JsonReceiver
from notifykit import MailReceiver
from notifykit import SilentReceiver
from waiting import until

from indipyagents.notify import Message
from indipyagents.notify import Notifier
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry

HOLD = Message("Orion: held (unsafe)", "The night is held: rain.", "warning")
SAFE = Message("Orion: safe again", "Safe again: the night goes on.")
#: One retry, 0.2 s after the first try: a dropped message's test stays short.
QUICK = Retry(ConstantBackoff(0.2), retries=1)


async def test_a_mail_reaches_a_local_smtp_server(free_port: int) -> None:
    with MailReceiver(free_port).running() as mail:
        notifier = Notifier()
        notifier.put(HOLD, [mail.url()])
        await notifier.drained()
        notifier.close()
    assert (notifier.sent, notifier.dropped) == (1, 0)
    [received] = mail.mails
    assert received["Subject"] == HOLD.title
    assert received["To"] == "owner@example.com"
    assert "night@example.com" in received["From"]
    text = next(part for part in received.walk() if part.get_content_type() == "text/plain")
    payload = text.get_payload(decode=True)
    assert isinstance(payload, bytes) and HOLD.body in payload.decode()


async def test_a_json_webhook_reaches_a_local_http_server() -> None:
    with JsonReceiver().running() as hook:
        notifier = Notifier()
        notifier.put(HOLD, [hook.url("observatory/night")])
        notifier.put(Message("Orion: safe again", "Safe again: the night goes on."),
                     [hook.url("observatory/night")])
        await notifier.drained()
        notifier.close()
    assert [(one["path"], one["title"], one["message"], one["type"]) for one in hook.received] \
        == [("/observatory/night", HOLD.title, HOLD.body, "warning"),
            ("/observatory/night", "Orion: safe again", "Safe again: the night goes on.",
             "info")]


async def test_an_mqtt_message_reaches_mosquitto(
        mosquitto_factory: Callable[..., Any]) -> None:
    broker = mosquitto_factory()
    got: list[bytes] = []
    async with aiomqtt.Client("127.0.0.1", broker.port) as watcher:
        await watcher.subscribe("observatory/night")
        notifier = Notifier()
        notifier.put(HOLD, [f"mqtt://127.0.0.1:{broker.port}/observatory/night"])

        async def first() -> None:
            async for message in watcher.messages:
                got.append(bytes(message.payload))
                return

        await asyncio.wait_for(first(), 30)
        await notifier.drained()
        notifier.close()
    assert notifier.sent == 1
    assert HOLD.body in got[0].decode()


async def test_a_receiver_that_never_answers_is_dropped_after_the_retries_alone(
        caplog: pytest.LogCaptureFixture) -> None:
    """Two tries, each bounded; then one warning. The webhook beside it is told at once,
    while the hung one still holds its connection, and its next message too: a hung service
    holds up only its own."""
    caplog.set_level(logging.DEBUG, "indipyagents.notify")
    with SilentReceiver().running() as hung, JsonReceiver().running() as hook:
        notifier = Notifier(retry=QUICK, bound=2.0)
        notifier.put(HOLD, [hung.url(), hook.url()])
        notifier.put(SAFE, [hung.url(), hook.url()])
        await until(lambda: len(hook.received) == 2 and hung.open() == 1, 10,
                    "the webhook told twice while the hung service holds its connection")
        await notifier.drained()
        assert hung.accepted == 4  # each message: the first try and one retry
        notifier.close()
    assert (notifier.sent, notifier.dropped) == (2, 2)
    warned = [r.getMessage() for r in caplog.records
              if r.name.startswith("indipyagents.notify") and r.levelno >= logging.WARNING]
    assert warned == [f"notification {one.title!r} to json://127.0.0.1 dropped after 2 "
                      "tries: no answer in time" for one in (HOLD, SAFE)]


async def test_a_full_queue_drops_its_oldest_with_one_line(
        caplog: pytest.LogCaptureFixture) -> None:
    """`put` never waits: three messages on a queue of two while the sender is busy; the
    oldest waiting is dropped, said once, the others sent in order."""
    sent: list[str] = []
    taken, going = asyncio.Event(), asyncio.Event()

    async def send(url: str, message: Message) -> bool:
        taken.set()
        await going.wait()
        sent.append(message.title)
        return True

    notifier = Notifier(size=2, send=send)
    notifier.put(Message("first", "-"), ["json://127.0.0.1/x"])
    # The sender has the first in hand (a yield of the loop is not enough: under load the
    # sender's task had not yet started, and the first was the one dropped).
    await asyncio.wait_for(taken.wait(), 10)
    for title in ["second", "third", "fourth"]:
        notifier.put(Message(title, "-"), ["json://127.0.0.1/x"])
    going.set()
    await notifier.drained()
    assert sent == ["first", "third", "fourth"]
    # Ours only: Apprise's own line from an earlier test's send, still in its thread until
    # Apprise's timeout, once landed here ("A Connection error occurred sending JSON ...").
    assert [r.getMessage() for r in caplog.records
            if r.name.startswith("indipyagents.notify") and r.levelno >= logging.WARNING] == [
        "notification 'second' to json://127.0.0.1 dropped: 2 waiting already"]


async def test_a_refusing_service_is_retried_by_the_policy() -> None:
    """A service that says no (Apprise's False) is tried again after the policy's delay, and
    a later success counts as sent."""
    answers = [False, True]
    tried: list[str] = []

    async def send(url: str, message: Message) -> bool:
        tried.append(url)
        return answers.pop(0)

    notifier = Notifier(retry=QUICK, send=send)
    notifier.put(HOLD, ["json://127.0.0.1/x"])
    await notifier.drained()
    assert tried == ["json://127.0.0.1/x"] * 2
    assert (notifier.sent, notifier.dropped) == (1, 0)

