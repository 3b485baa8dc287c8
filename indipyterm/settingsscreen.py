"""The settings screen (key ``s``): change the server and the BLOB folder, then reconnect."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button
from textual.widgets import Input
from textual.widgets import Label
from textual.widgets import Static

from .settings import Settings
from .settings import SettingsRefused
from .settings import read_settings

__all__ = ["SettingsScreen"]


class SettingsScreen(ModalScreen[Settings | None]):
    """Host, port and BLOB folder fields; Connect (or Enter in a field) dismisses the screen
    with the checked `Settings`, Esc or Cancel with None. A refusal is shown and keeps the
    screen open."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: Settings, note: str = "") -> None:
        """`current`: the fields' values; `note`: said under them until Connect is tried."""
        super().__init__(id="settings")
        self.current = current
        self.host = Input(current.host, id="host", compact=True)
        self.port = Input(str(current.port), id="port", compact=True)
        folder = "" if current.blobfolder is None else str(current.blobfolder)
        self.blobfolder = Input(folder, id="blobfolder", placeholder="blank: BLOBs not saved",
                                compact=True)
        self.error = Static(note, id="settings-error", markup=False)

    def compose(self) -> ComposeResult:
        with Vertical(id="settingsbox"):
            yield Label("Settings: the INDI server and where received BLOBs are saved",
                        classes="heading")
            for label, field in (("Host", self.host), ("Port", self.port),
                                 ("BLOB folder", self.blobfolder)):
                with Horizontal(classes="setting"):
                    yield Label(label, classes="slabel")
                    yield field
            yield self.error
            with Horizontal(classes="actions"):
                yield Button("Connect", id="apply", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.host.focus()

    def apply(self) -> None:
        try:
            chosen = read_settings(self.host.value, self.port.value, self.blobfolder.value)
        except SettingsRefused as exc:
            self.error.update(str(exc))
            return
        self.dismiss(chosen)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "apply":
            self.apply()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
