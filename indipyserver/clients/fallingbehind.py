"""A client that falls behind: how long it may hold the drivers up, and when it is let go.

Holding the drivers up (their reads paused until the client catches up) loses nothing for a
client that reads, only slowly, when the drivers are faster than every client. But it would
pace every other client to the slowest one (a phone on Wi-Fi would set the speed of the imaging
PC's downloads), and one that does not read at all would stall them all. So a client is held
for only while no other client keeps up. Hence three stages, all bounded:

* *paused*: the transport is above its high-water mark; elements wait in our queue.
* *congested*: our queue passed ``soft_bytes`` while the client is still reading and no other
  client took anything meanwhile: its server's driver reads are paused until it catches up
  (``loop.flowcontrol.Congestion.congest``), nothing is dropped.
* *slow*: past ``soft_bytes`` while other clients that are not behind took what was written
  to them (``loop.flowcontrol.KeepingUp`` moved while this one was paused), or congested with no
  progress for ``SLOW_AFTER`` seconds, or paused for ``NEVER_RESUMED_SLOW_AFTER`` in its first
  pause, having never shown it reads: superseded sets and BLOBs are dropped for it until it has
  caught up completely (``clients.queue``), and it no longer holds the drivers up.

Past ``max_queue_bytes`` it is disconnected, as indiserver does (``ClientConnection``).

The stage is kept in the connection's ``congested`` and ``slow``, which its per-message path
reads as plain attributes; `FallingBehind` sets them (what it needs of the connection is
`JudgedClient`) and is called only when the stage may change (the transport paused, the queue passed the soft limit or drained, a timer fired, the
client went away), so a client that keeps up pays nothing for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from indipycore.logbudget import WarningBudget
from indipyserver.loop.flowcontrol import Congestion

logger = logging.getLogger("indipyserver.clients")  # same logger as the connection it serves

#: A congested client that sends nothing to its socket for this long is slow (seconds). It
#: holds anyone up only while no other client keeps up (a client alone, all of them behind),
#: so it may be long enough for a reader that merely stalled: a TCP retransmission (200 ms at
#: least), a process descheduled on a loaded machine (at 50 ms a slow reader alone lost
#: superseded BLOBs on a busy 2-core machine, and mqtttoport's one client in the MQTT bench).
SLOW_AFTER = 0.25

#: A client already paused this long in its first pause (its transport has never resumed since
#: it connected) when it passes the soft limit is slow at once: it never showed it reads, so it
#: must not stall the others even briefly. One that has resumed before gets SLOW_AFTER: a
#: server chained to ours (``add_remote``) stops reading us for tens of milliseconds while its
#: own clients hold it up, and letting it go then would drop superseded values for its healthy
#: clients.
NEVER_RESUMED_SLOW_AFTER = 0.02


class JudgedClient(Protocol):
    """What `FallingBehind` reads of a client connection, and the two flags it sets."""

    label: str
    #: Holding its server's drivers up (set here only).
    congested: bool
    #: Superseded elements dropped for it until it catches up (set here only).
    slow: bool

    @property
    def writing_paused(self) -> bool:
        """Its transport has paused it (above the high-water mark)."""

    @property
    def closing(self) -> bool:
        """It is being closed."""

    @property
    def others_progress(self) -> int:
        """Its server's count of writes to clients that keep up (``KeepingUp``)."""

    def sent(self) -> int:
        """Bytes that have left us for the client so far."""


class Timer(Protocol):
    """What `FallingBehind` keeps of a timer it armed (an ``asyncio.TimerHandle``)."""

    def cancel(self) -> None:
        """The callback will not run."""


class Clock(Protocol):
    """Where `FallingBehind` reads the time and arms its timer: the running event loop. A test
    passes a clock it moves by hand, so that it, not the machine's load, decides when
    SLOW_AFTER has passed."""

    def time(self) -> float:
        """Now, in seconds."""

    def call_later(self, delay: float, callback: Callable[[], object], /) -> Timer:
        """Call `callback` once `delay` seconds have passed."""


class FallingBehind:
    """The progress marks and timer that move one client from congested to slow."""

    __slots__ = (
        "_client",
        "_clock",
        "_congestion",
        "_lines",
        "_paused_at",
        "_paused_flowing",
        "_paused_sent",
        "_pauses",
        "_progress_at",
        "_progress_mark",
        "_timer",
    )

    def __init__(self, client: JudgedClient, congestion: Congestion, clock: Clock) -> None:
        """`congestion`: the client's server's, whose driver reads it holds up while congested;
        `clock`: the running event loop (`Clock`)."""
        self._client = client
        self._congestion = congestion
        # A client reading at about the drivers' pace turns slow and catches up again over
        # and over (a review saw 16 pairs of lines a second): its lines are budgeted.
        self._lines = WarningBudget(burst=10, period=60.0, noun="slow/caught-up lines")
        self._clock = clock
        # When the transport last paused the client, and its `_sent()` then. It has had no
        # resume since exactly while its `_paused` is true (each callback sets that flag).
        self._paused_at = 0.0
        self._paused_sent = 0
        self._paused_flowing = 0  # its server's KeepingUp count then
        self._pauses = 0  # how often its transport paused: more than once, it resumed between
        self._progress_mark = 0
        self._progress_at = 0.0
        self._timer: Timer | None = None

    def paused(self) -> None:
        """The transport paused the client (its ``pause_writing``)."""
        self._paused_at = self._clock.time()
        self._paused_sent = self._client.sent()
        self._pauses += 1
        self._paused_flowing = self._client.others_progress

    def fell_behind(self) -> None:
        """The client's queue passed the soft limit while it was neither congested nor slow."""
        client = self._client
        if client.writing_paused:
            stuck = self._clock.time() - self._paused_at
            # Not when it has taken bytes since: reading steadily, a client can wait longer
            # than that for the socket to report room (a third of a send buffer of up to 4 MiB
            # must drain first), and was let go although it would have read everything.
            if (stuck > NEVER_RESUMED_SLOW_AFTER and self._pauses == 1
                    and client.sent() == self._paused_sent):
                self._become_slow(f"has taken nothing for {stuck * 1e3:.0f} ms")
                return
            if client.others_progress != self._paused_flowing:
                # Others kept taking what was sent to them while this one was stuck: the
                # drivers are not too fast for everyone, this client is too slow for them, and
                # holding the drivers for it would pace the others to it.
                self._become_slow("is behind while other clients keep up")
                return
        client.congested = True
        self._progress_mark = client.sent()
        self._progress_at = self._clock.time()
        self._congestion.congest(client)
        self._arm_progress_check(self._progress_at)

    def caught_up(self) -> None:
        """A slow client's queue is empty: it gets every element again."""
        self._client.slow = False
        if (note := self._lines.take()) is not None:
            logger.info("client %s caught up%s", self._client.label, note)

    def not_behind(self) -> None:
        """Congested no more (caught up, slow or gone): stop holding the drivers up."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        client = self._client
        if client.congested:
            client.congested = False
            self._congestion.decongest(client)

    def _arm_progress_check(self, now: float) -> None:
        """Check again when SLOW_AFTER has passed without progress -- or sooner, when the
        client will have been paused NEVER_RESUMED_SLOW_AFTER without taking a single byte:
        the drivers are held up meanwhile, so a client that has stopped reading is let go as
        soon as that is known rather than after the full SLOW_AFTER."""
        client = self._client
        delay = self._progress_at + SLOW_AFTER - now
        if client.writing_paused and self._pauses == 1 and client.sent() == self._paused_sent:
            delay = min(delay, self._paused_at + NEVER_RESUMED_SLOW_AFTER - now)
        self._timer = self._clock.call_later(max(delay, 0.001), self._check_progress)

    def _check_progress(self) -> None:
        self._timer = None
        client = self._client
        if not client.congested or client.closing:
            return
        now = self._clock.time()
        sent = client.sent()
        if (
            client.writing_paused
            and self._pauses == 1
            and sent == self._paused_sent
            and now - self._paused_at >= NEVER_RESUMED_SLOW_AFTER
        ):
            self._become_slow(f"has taken nothing for {(now - self._paused_at) * 1e3:.0f} ms")
        elif sent > self._progress_mark:
            self._progress_mark = sent
            self._progress_at = now
            self._arm_progress_check(now)
        elif now - self._progress_at >= SLOW_AFTER * 0.99:
            self._become_slow(f"has taken nothing for {(now - self._progress_at) * 1e3:.0f} ms")
        else:
            self._arm_progress_check(now)

    def _become_slow(self, why: str) -> None:
        self.not_behind()
        client = self._client
        client.slow = True
        # It may still be reading, only more slowly than the drivers write: say what was seen.
        if (note := self._lines.take()) is not None:
            logger.info("client %s %s: superseded elements are dropped for it until it "
                        "catches up%s", client.label, why, note)
