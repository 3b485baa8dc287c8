"""The indipyterm application: one client connection, its events coalesced into screen refreshes.

The client's events are read by one worker and only *noted*, as the client library's change
notices in its `Coalescer`; a timer redraws what changed a few times a second from the
client's current values (``indipyclient.session.coalesce.summarise``). So a
driver sending a thousand sets a second costs a dictionary insert per set here, the screen is
redrawn at a fixed rate, and nothing queues up in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from pathlib import Path
from ssl import SSLContext
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from textual.app import App
from textual.binding import Binding
from textual.binding import BindingType
from textual.screen import Screen

import indipyclient
from indipyclient.model.changes import Change
from indipyclient.model.changes import change_of
from indipyclient.model.history import ValueHistory
from indipyclient.session.coalesce import Changes
from indipyclient.session.coalesce import Coalescer
from indipyclient.session.coalesce import summarise
from indipyclient.session.connection import cannot_connect
from indipyclient.session.connection import default_retry
from indipyclient.session.unixaddress import server_label
from indipycore.retrypolicy import Backoff
from indipycore.retrypolicy import Retry

from .devicescreen import DeviceScreen
from .filepicker import FilePicker
from .formatting import message_line
from .found import FoundServers
from .helpscreen import HelpScreen
from .ports import StartView
from .ports import TermPort
from .search import DeviceSearch
from .settings import Settings
from .settingsscreen import SettingsScreen
from .startscreen import StartScreen
from .status import ConnectionStatus
from .vectorinfo import VectorInfo
from .vectorpanel import VectorPanel

__all__ = ["TermApp"]

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 0.1  # the screen is redrawn at most this often
MAX_MESSAGES = 200  # lines kept in the message log
HISTORY = 48  # values kept per number for its sparkline, one per refresh
MAX_PENDING = 10_000  # vectors noted between refreshes before everything is redrawn instead
LISTEN_SECONDS = 3.0  # one listing of the servers on the network, while the start screen shows
LISTEN_PAUSE = 2.0  # seconds between two listings
CLOSE_WAIT = 5.0  # seconds the client is given to close at exit
_CONNECTION = Change("connection")
_MESSAGE = Change("message")


class ObservedBackoff:
    """A reconnect backoff (the policy's, `indipycore.retrypolicy`) that also tells the app
    each delay it gives, so the status line can count down to the next try."""

    def __init__(self, backoff: Backoff, on_delay: Callable[[float], None]) -> None:
        self.backoff = backoff
        self.on_delay = on_delay

    def compute(self, failures: int) -> float:
        delay = self.backoff.compute(failures)
        self.on_delay(delay)
        return delay


def observed(retry: Retry, on_delay: Callable[[float], None]) -> Retry:
    """`retry` with its backoff observed (`ObservedBackoff`)."""
    return Retry(ObservedBackoff(retry.backoff, on_delay), retry.retries,
                 stable_after=retry.stable_after, clock=retry.clock)


class TermApp(App[None]):
    """``TermApp(host, port, blobfolder)``; run with ``.run()`` (or ``run_test()`` in tests)."""

    TITLE = "indipyterm"
    # Absolute: textual resolves a relative path beside the module of the *subclass*.
    CSS_PATH = Path(__file__).with_name("indipyterm.tcss")
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {DeviceSearch}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("d", "toggle_dark", "Dark/light"),
        Binding("m", "main_screen", "Main screen"),
        Binding("s", "settings", "Settings"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(
        self,
        host: str = "localhost",
        port: int = 7624,
        blobfolder: Path | str | None = None,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        retry: Retry | None = None,
        ssl: SSLContext | None = None,
        discover: bool = True,
    ) -> None:
        """`ssl`: the server's TLS port (``indipycore.tls.client_context``); kept when the
        settings screen changes the server. `discover`: the start screen lists the servers
        found on the network (``found.py``)."""
        super().__init__()
        #: The servers found on the network (None: not listed).
        self.found = FoundServers() if discover else None
        self.ssl = ssl
        #: The reconnect policy (None: the client library's, `default_retry`).
        self.retry = retry
        self.host = host
        self.port = port
        self.blobfolder = Path(blobfolder) if blobfolder is not None else None
        self.server = server_label(host, port)  # ``@PATH`` for a Unix socket
        self.refresh_seconds = refresh_seconds
        self.client: indipyclient.Client | None = None
        self.stream: indipyclient.EventStream | None = None
        self._dropped = 0
        self.status = ConnectionStatus(self.server)
        self.coalescer: Coalescer[Change] = Coalescer(MAX_PENDING)
        self.history = ValueHistory(HISTORY)
        self.messages: deque[str] = deque(maxlen=MAX_MESSAGES)  # newest first
        self.refreshes = 0
        # Called after each refresh with the vectors it drew (the latency benchmark's hook).
        self.on_refreshed: Callable[[Sequence[VectorInfo]], None] | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return StartScreen(found=self.found is not None)

    def on_mount(self) -> None:
        self.run_worker(self._run_client(), name="client", group="client", exclusive=True)
        self.set_interval(self.refresh_seconds, self._refresh, name="refresh")
        self.set_interval(1.0, self.refresh_status, name="status")
        if self.found is not None:
            self.run_worker(self._list_servers(self.found), name="discover", group="discover",
                            exclusive=True)

    async def on_unmount(self) -> None:
        """The client's connection closed while the event loop still runs: left to be
        cancelled at the loop's end, its socket's close could come after the loop stopped,
        an unclosed socket for the garbage collector to find in some later code."""
        for worker in self.workers.cancel_group(self, "client"):
            with contextlib.suppress(Exception):  # cancelled (WorkerCancelled) or failed
                async with asyncio.timeout(CLOSE_WAIT):
                    await worker.wait()

    async def _list_servers(self, found: FoundServers) -> None:
        """One listing after another while the start screen is the screen shown; each change
        drawn as it comes."""
        while True:
            start = self._start_screen()
            if start is not None and self.screen is start:
                def draw(screen: StartView = start) -> None:
                    screen.show_found(found.lines(), found.note)

                draw()
                await found.listen(LISTEN_SECONDS, draw)
            await asyncio.sleep(LISTEN_PAUSE)

    async def _run_client(self) -> None:
        """Run the client for the life of the app: it reconnects by itself (with backoff),
        and says so with ConnectionLost / ConnectionMade events."""
        retry = observed(self.retry or default_retry(), self._retrying)
        async with indipyclient.connect(
            self.host, self.port, self.blobfolder, connect_timeout=None, retry=retry,
            ssl=self.ssl,
        ) as client:
            self.client = client
            self.stream = client.events()
            async for event in self.stream:
                self._on_event(event)

    def _retrying(self, delay: float) -> None:
        """The client will try to connect again in `delay` seconds (and, when an attempt to
        connect failed, the client library says why: refused, name not found, timed out)."""
        client = self.client
        reason = client.connection.last_failure if client is not None else ""
        if reason:
            if self.status.reason != reason:
                self._log_message(datetime.now(UTC), cannot_connect(self.server, reason))
            self.status.failed(reason)
        self.status.retrying(time.monotonic() + delay)
        self.refresh_status()

    def _note_connection(self) -> None:
        self.coalescer.put(_CONNECTION)
        self.refresh_status()

    def _on_event(self, event: Any) -> None:
        """Note what an event changed; the drawing waits for the next refresh."""
        change = change_of(event)
        if change is not None and change.kind in ("define", "set", "delete"):
            self.coalescer.put(change)  # messages and the connection: below
        kind = event.eventtype
        if kind == "Delete":
            if event.message:
                self._log_message(event.timestamp, event.message, event.devicename)
        elif kind == "Message":
            self._log_message(event.timestamp, event.message, event.devicename)
            if change is not None and change.vector is not None:  # a refused set: now Alert
                self.coalescer.put(Change("set", change.device, change.vector))
        elif kind == "ConnectionMade":
            self.status.connected()
            self._log_message(event.timestamp, f"connected to {self.server}")
            self._note_connection()
        elif kind == "ConnectionLost":
            reason = getattr(event, "reason", "") or "connection lost"
            self.status.lost(reason)
            self._log_message(event.timestamp, f"lost {self.server}: {reason}")
            self._note_connection()

    def _log_message(self, timestamp: Any, text: str, device: str | None = None) -> None:
        self.messages.appendleft(message_line(timestamp, text, device))
        self.coalescer.put(_MESSAGE)

    # --- what the client knows, for the screens --------------------------------------------------

    def device_names(self) -> list[str]:
        client = self.client
        if client is None:
            return []
        return [name for name in client if len(client[name])]

    def _vector(self, device: str, vector: str) -> Any:
        client = self.client
        if client is None:
            return None
        try:
            return client[device][vector]
        except KeyError:
            return None

    def device_vectors(self, device: str) -> list[VectorInfo]:
        client = self.client
        if client is None:
            return []
        try:
            vectors = list(client[device].values())
        except KeyError:
            return []
        return [VectorInfo.from_vector(vector) for vector in vectors]

    def histories(self, device: str) -> dict[str, dict[str, Sequence[float]]]:
        """Number histories of a device's vectors: vector -> member -> values."""
        result: dict[str, dict[str, Sequence[float]]] = {}
        for info in self.device_vectors(device):
            if info.kind == "Number":
                result[info.name] = {m.name: self.history.series(device, info.name, m.name)
                                     for m in info.members}
        return result

    # --- drawing -------------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Redraw what changed since the last refresh. It awaits nothing (a device screen
        mounts its new panels in its own task), so a refresh is never held up by another."""
        stream = self.stream
        if stream is not None and stream.dropped != self._dropped:
            # The events stream fell behind and dropped some: redraw everything from the model.
            self._dropped = stream.dropped
            self.coalescer.put(_CONNECTION)
        if not self.coalescer.pending():
            return
        notices, overflowed = self.coalescer.take()
        self._draw(summarise(notices, overflowed, self._known))

    def _known(self, device: str, vector: str) -> bool:
        return self._vector(device, vector) is not None

    def _draw(self, changes: Changes) -> None:
        self.refreshes += 1
        drawn: list[VectorInfo] = []
        gone: list[tuple[str, str]] = list(changes.deleted)
        history: dict[tuple[str, str], dict[str, Sequence[float]]] = {}
        for device in changes.deleted_devices:
            self.history.forget(device)
        for device, name in changes.vectors:
            vector = self._vector(device, name)
            if vector is None:
                gone.append((device, name))
                continue
            info = VectorInfo.from_vector(vector)
            drawn.append(info)
            numbers = info.numbers()
            if numbers:
                self.history.record(device, name, numbers)
                history[(device, name)] = {
                    member: self.history.series(device, name, member) for member in numbers}
        for device, name in gone:
            self.history.forget(device, name)

        start = self._start_screen()
        if start is not None:
            self.refresh_start_screen(start)
        for screen in self.screen_stack:
            if isinstance(screen, DeviceScreen) and screen.is_mounted:
                self._draw_device(screen, changes, drawn, gone, history)
        if self.on_refreshed is not None:
            self.on_refreshed(drawn)

    def _draw_device(
        self,
        screen: DeviceScreen,
        changes: Changes,
        drawn: Sequence[VectorInfo],
        gone: Sequence[tuple[str, str]],
        history: Mapping[tuple[str, str], Mapping[str, Sequence[float]]],
    ) -> None:
        """What changed of the screen's device: drawn at once where its panel is on screen,
        the rest (panels to add, rebuild or remove) left to the screen's own task, so a refresh
        never waits for a panel to mount (`DeviceScreen.draw`)."""
        device = screen.device
        if changes.connection or device in changes.deleted_devices:
            screen.redraw_all()
            return
        removed = [name for dev, name in gone if dev == device]
        mine = [info for info in drawn if info.devicename == device]
        if mine or removed:
            screen.draw(
                mine, {info.name: history.get((device, info.name), {}) for info in mine}, removed
            )

    def _start_screen(self) -> StartScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, StartScreen):
                return screen
        return None

    def refresh_start_screen(self, screen: StartView) -> None:
        screen.show_server(self.server, self.blobfolder)
        screen.show_devices(self.device_names())
        screen.show_messages(self.messages)

    def refresh_status(self) -> None:
        """The status line on every screen (also ticks the retry countdown each second)."""
        text = self.status.describe(time.monotonic())
        for screen in self.screen_stack:
            status = getattr(screen, "status", None)
            if status is not None and hasattr(status, "show"):
                status.show(self.status.state, text)

    # --- actions -------------------------------------------------------------------------------

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_main_screen(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def pick_found(self, index: int) -> None:
        """The settings screen with the `index`th server found filled in (its TLS port when
        this app connects by TLS); a server this app cannot reach is said on the start
        screen instead."""
        if self.found is None or not 0 <= index < len(self.found.services):
            return
        pick = self.found.pick(index, tls=self.ssl is not None)
        start = self._start_screen()
        if pick.host is None or pick.port is None:
            if start is not None:
                start.say_found(pick.note)
            return
        self.action_settings(Settings(pick.host, pick.port, self.blobfolder), pick.note)

    def action_settings(self, filled: Settings | None = None, note: str = "") -> None:
        """The settings screen (`filled` in, else the current ones; `note` shown); what it
        returns changes the server or BLOB folder."""
        if isinstance(self.screen, SettingsScreen):
            return

        def chosen(settings: Settings | None) -> None:
            if settings is not None and settings != self.settings:
                self.reconnect(settings)

        self.push_screen(SettingsScreen(filled or self.settings, note), chosen)

    @property
    def settings(self) -> Settings:
        return Settings(self.host, self.port, self.blobfolder)

    def reconnect(self, settings: Settings) -> None:
        """Leave the current server and connect to `settings`' (the old client is closed as
        its worker is cancelled: the client group is exclusive)."""
        self.host, self.port, self.blobfolder = settings.host, settings.port, settings.blobfolder
        self.server = f"{self.host}:{self.port}"
        self.client = None
        self.stream = None
        self._dropped = 0
        self.status = ConnectionStatus(self.server)
        self.history = ValueHistory(HISTORY)
        self.action_main_screen()
        folder = str(self.blobfolder) if self.blobfolder is not None else "BLOBs not saved"
        self._log_message(datetime.now(UTC), f"settings: server {self.server}, BLOB folder {folder}")
        self.coalescer.put(_CONNECTION)
        self.sub_title = self.server
        self.run_worker(self._run_client(), name="client", group="client", exclusive=True)
        self.refresh_status()
        start = self._start_screen()
        if start is not None:  # the new server and folder now, with the status line
            self.refresh_start_screen(start)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def open_device(self, device: str, vector: str | None = None) -> None:
        """Show a device's screen (replacing another device's), at `vector` if given."""
        current = self.screen
        if isinstance(current, DeviceScreen) and current.device == device:
            if vector is not None:
                current.show_vector(vector)
            return
        self.action_main_screen()
        screen = DeviceScreen(device)
        self.push_screen(screen)
        if vector is not None:
            self.call_after_refresh(screen.show_vector, vector)

    # --- sending -------------------------------------------------------------------------------

    def send_values(self, panel: VectorPanel, values: dict[str, Any]) -> None:
        """Send a panel's checked values; a refusal by the client library shows on the panel."""
        self.run_worker(self._send(panel, values), group="send")

    async def _send(self, panel: VectorPanel, values: dict[str, Any]) -> None:
        client = self.client
        if client is None:
            panel.show_error(f"not connected to {self.server}: nothing sent")
            return
        device, vector = panel.key
        try:
            await client.set(device, vector, values, wait=False)
        except (ValueError, OSError, ConnectionError) as exc:
            panel.show_error(str(exc))
            return
        panel.sent()

    def choose_file(self, panel: VectorPanel, member: str) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                panel.file_chosen(member, path)

        self.push_screen(FilePicker(Path.cwd(), f"File to send as {panel.info.label} / {member}"), chosen)


if TYPE_CHECKING:
    # The screens and the device search see the app as a TermPort: mypy checks it is one.
    _port: type[TermPort] = TermApp
