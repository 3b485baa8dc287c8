"""The help screen: every key, and how editing and sending work."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HELP_TEXT", "HelpScreen"]

HELP_TEXT = """\
indipyterm: an INDI client in the terminal

Keys
  q            quit (ctrl+q also while typing in a field)
  d            dark / light colours
  m            main screen: the server, its devices and messages
  s            settings: the server (host, port) and the BLOB folder
  ? or f1      this help
  ctrl+p       search: jump to any device or vector by name
  tab          next stop: the tabs, the list of panels (arrows and
               page keys scroll it), then each field and button;
               shift+tab goes back
  left/right   previous / next group tab (when the tabs have the focus)
  enter        in a text or number field: Submit that vector
  space/enter  on a switch: choose it (sent at once when only one of
               the vector's switches may be on)
  esc          forget the edits of the vector you are in and leave
               the field; close this help or the file picker

Editing
  A vector you may write has a field per text or number member and a
  Submit button. Submit sends only the members you changed: those you
  left empty are not sent and keep their values. A number's field shows
  its limits (min .. max, step) in the member's format.
  Numbers accept decimals (12.5, 1e-3) and sexagesimal (-10:30:18 or
  5 30). A number out of the member's range, or that does not read as
  a number, is refused with the reason beside Submit: nothing is sent.
  Switches: a radio set when exactly one must be on (OneOfMany),
  toggles otherwise. When at most one may be on (OneOfMany, AtMostOne:
  Connect, Expose, Abort) choosing a switch sends it at once, one key
  or click, no Submit. Where any may be on (AnyOfMany), toggle them and
  Submit: only the switches you changed are sent.
  If the device changes a vector while you edit it, your entry is kept
  and the panel says what the device's value is now.
  BLOBs: received ones are saved in the BLOB folder (--blobfolder); a
  writable BLOB vector sends a file you choose with "Choose file".

A vector's frame shows its state: grey Idle, green Ok, yellow Busy,
red Alert. When the server cannot be reached the status line says why
(connection refused, name not found, timed out) and when it tries
again; it keeps trying until it connects.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("f1", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(HELP_TEXT, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
