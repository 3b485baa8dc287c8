"""The start screen: the server and its connection state, the devices, the servers found on the
network (when the app lists them: choosing one fills the settings), the message log."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets import Header
from textual.widgets import Label
from textual.widgets import OptionList
from textual.widgets import Static
from textual.widgets.option_list import Option

from .livetext import LiveText
from .ports import TermPort

__all__ = ["StartScreen", "StatusLine", "TermScreen"]


class StatusLine(LiveText):
    """The connection state, coloured: green connected, yellow connecting, red lost or failing.

    The app shows it every second on every screen; the text is updated only when it changed
    (see `StartScreen`: an update of the start screen's line repaints the whole screen above),
    and the retry countdown's tick redraws the line alone (`LiveText`)."""

    def show(self, state: str, text: str) -> None:
        self.show_text(text)
        for name in ("connected", "connecting", "failed", "lost"):
            self.set_class(state == name, f"-{name}")


class TermScreen(Screen[None]):
    """What the start screen and a device's screen share: the app as they use it, and the
    header they show."""

    @property
    def term(self) -> TermPort:
        """The app, as this screen uses it."""
        return cast(TermPort, self.app)

    @staticmethod
    def header() -> Header:
        return Header(icon="\u2609")  # a sun: the INDI world is astronomy


class StartScreen(TermScreen):
    """What the user sees first; choosing a device opens its screen.

    The app fills it at each refresh, also while a device's screen is shown over it; its
    widgets are updated only when what they show changed: textual counts the screen just
    below the top one as a background screen (``App._background_screens``), so laying out a
    widget of this screen repaints the whole device screen above it (every cell written to
    the terminal again, ten times a second at 1,000 sets a second: 3x the bytes drawn)."""

    def __init__(self, found: bool = False) -> None:
        """`found`: show the servers found on the network (the app lists them)."""
        super().__init__(id="start")
        self.with_found = found
        self.found = OptionList(id="found")
        self.found_note = Static("", id="foundnote", markup=False)
        self._shown_found: tuple[list[str], str] | None = None
        self.status = StatusLine("", classes="status", markup=False)
        self.devices = OptionList(id="devices")
        self.messages = Static("", id="messages", markup=False)
        self.server = Static("", id="server", markup=False)
        self._shown_devices: list[str] = []
        self._shown_messages: list[str] = []
        self._shown_server = ""

    def compose(self) -> ComposeResult:
        yield self.header()
        yield self.server
        yield self.status
        with Vertical(id="devicebox"):
            yield Label("Devices", classes="heading")
            yield self.devices
        if self.with_found:
            with Vertical(id="foundbox"):
                yield Label("Servers found on the network (Enter: connect to one; s: type an "
                            "address)", classes="heading")
                yield self.found
                yield self.found_note
        with VerticalScroll(id="messagebox"):
            yield Label("Messages (newest first)", classes="heading")
            yield self.messages
        yield Footer()

    def on_mount(self) -> None:
        self.title = "indipyterm"
        self.sub_title = self.term.server
        self.term.refresh_start_screen(self)
        self.devices.focus()

    def show_devices(self, names: Sequence[str]) -> None:
        """The device list; the highlighted device stays highlighted if it is still there."""
        names = list(names)
        if names == self._shown_devices:
            return
        highlighted = self.devices.highlighted
        current = (
            self._shown_devices[highlighted]
            if highlighted is not None and highlighted < len(self._shown_devices) else None
        )
        self._shown_devices = names
        self.devices.clear_options()
        if names:
            self.devices.add_options([Option(name, id=f"d{i}") for i, name in enumerate(names)])
            self.devices.highlighted = names.index(current) if current in names else 0

    def show_server(self, server: str, blobfolder: Path | None) -> None:
        folder = str(blobfolder) if blobfolder is not None else "not saving BLOBs"
        text = f"Server {server}    BLOB folder: {folder}    (s: change)"
        if text != self._shown_server:
            self._shown_server = text
            self.server.update(text)
            self.sub_title = server

    def show_messages(self, lines: Iterable[str]) -> None:
        lines = list(lines)
        if lines != self._shown_messages:
            self._shown_messages = lines
            self.messages.update("\n".join(lines) if lines else "no messages yet")

    def show_found(self, lines: Sequence[str], note: str) -> None:
        """The servers found; the highlighted one stays highlighted while it is listed."""
        shown = (list(lines), note)
        if shown == self._shown_found or not self.with_found:
            return
        before = self._shown_found[0] if self._shown_found is not None else []
        highlighted = self.found.highlighted
        current = before[highlighted] if highlighted is not None and highlighted < len(before) \
            else None
        self._shown_found = shown
        self.found.clear_options()
        # Text, not markup: a line holds "[INDI]" and names the network chose
        self.found.add_options([Option(Text(line), id=f"f{i}") for i, line in enumerate(lines)])
        if lines:
            self.found.highlighted = lines.index(current) if current in lines else 0
        empty = "listening..." if not note else ""
        self.found_note.update(note or ("" if lines else empty))

    def say_found(self, text: str) -> None:
        """A line under the list (why a server cannot be picked)."""
        self.found_note.update(text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        index = event.option_index
        if event.option_list is self.found:
            self.term.pick_found(index)
            return
        if 0 <= index < len(self._shown_devices):
            self.term.open_device(self._shown_devices[index])
