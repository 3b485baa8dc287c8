"""Choosing a file to send to a BLOB vector: a directory tree, or a path typed in."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button
from textual.widgets import DirectoryTree
from textual.widgets import Input
from textual.widgets import Label
from textual.widgets import Static

__all__ = ["FilePicker"]


class FilePicker(ModalScreen[Path | None]):
    """Returns the chosen file, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, start: Path, title: str) -> None:
        super().__init__()
        self.start = start
        self.heading = title

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(self.heading, markup=False)
            yield DirectoryTree(self.start)
            yield Input(placeholder="or type a path", id="path")
            yield Static("", id="pickerror", markup=False)
            with Horizontal(id="pickbuttons"):
                yield Button("Choose", id="choose", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#path", Input).value = str(event.path)

    @on(Input.Submitted)
    @on(Button.Pressed, "#choose")
    def _choose(self) -> None:
        text = self.query_one("#path", Input).value.strip()
        path = Path(text).expanduser()
        if not text or not path.is_file():
            self.query_one("#pickerror", Static).update(f"not a file: {text or '(empty)'}")
            return
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
