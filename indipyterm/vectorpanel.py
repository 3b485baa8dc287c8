"""One vector on the device screen: its label, state, timestamp, message, members and Submit.

The panel is built once from the client's vector and then updated in place from it
(:meth:`VectorPanel.show`), at most once per screen refresh however fast the driver sends.
What the user typed or toggled is kept in the widgets until Submit (or Esc) and never
overwritten by the device; when the device's value moves under an edit the panel says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.containers import Vertical
from textual.message import Message
from textual.validation import ValidationResult
from textual.validation import Validator
from textual.widgets import Button
from textual.widgets import Checkbox
from textual.widgets import Input
from textual.widgets import Label
from textual.widgets import RadioButton
from textual.widgets import RadioSet
from textual.widgets import Sparkline

from .edits import EditTracker
from .formatting import STATE_COLOURS
from .formatting import display_number
from .formatting import display_size
from .formatting import display_timestamp
from .formatting import limits_text
from .formatting import state_colour
from .inputcheck import InputRefused
from .inputcheck import check_entries
from .inputcheck import check_number
from .inputcheck import toggle_switch
from .livetext import LiveText
from .vectorinfo import MemberInfo
from .vectorinfo import VectorInfo

__all__ = ["VectorPanel"]


class NumberValidator(Validator):
    """textual's live check of a number field, through the same rules Submit applies."""

    def __init__(self, vector: VectorInfo, member: str) -> None:
        super().__init__()
        self.vector = vector
        self.member = member

    def validate(self, value: str) -> ValidationResult:
        if not value.strip():
            return self.success()  # empty: the member keeps its current value
        try:
            check_number(self.vector, self.member, value)
        except InputRefused as exc:
            return self.failure(str(exc))
        return self.success()


class MemberRow(Horizontal):
    """One member: its label, its value as the device last sent it, and (if writable) a field."""

    def __init__(self, info: MemberInfo, kind: str, writable: bool,
                 vector: VectorInfo | None = None) -> None:
        super().__init__(classes=f"member {kind.lower()}")
        self.info = info
        self.vector = vector
        self.kind = kind
        self.writable = writable
        self.value_label = LiveText("", classes="value", markup=False)
        self.spark: Sparkline | None = None
        self.field: Input | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.info.label, classes="mlabel", markup=False)
        yield self.value_label
        if self.kind == "Number":
            self.spark = Sparkline([], classes="spark")
            yield self.spark
        if self.writable and self.kind in ("Text", "Number"):
            validators: list[Validator] = (
                [NumberValidator(self.vector, self.info.name)]
                if self.kind == "Number" and self.vector is not None else []
            )
            self.field = Input(
                placeholder=self._placeholder(), validators=validators, classes="field",
                compact=True,
            )
            yield self.field

    def _placeholder(self) -> str:
        """A number's field shows its limits (and step) as its value is shown, through the
        member's format, so ``0.010000000000000000208`` on the wire reads ``0.01``."""
        info = self.info
        limits = limits_text(info.minimum, info.maximum, info.step, info.format)
        return limits if self.kind == "Number" and limits else "new value"


def changed_switches(device: Mapping[str, bool], chosen: Mapping[str, bool]) -> dict[str, str]:
    """The switches the user changed from what the device shows, as ``On``/``Off``."""
    return {name: "On" if on else "Off" for name, on in chosen.items()
            if on != device.get(name, False)}


STATES = ("Idle", "Ok", "Busy", "Alert")


def _state_class(state: str) -> str:
    """The panel's class for a vector state (its border's colour, in indipyterm.tcss)."""
    return f"-state-{str(state).lower()}"


class VectorPanel(Vertical):
    """A vector's panel; ``key`` is (device, vector)."""

    # Dataclasses, as textual's own messages are (Message.__post_init__ sets them up).
    @dataclass
    class Submitted(Message):
        """The user asked to send these member values (already checked)."""

        panel: VectorPanel
        values: dict[str, Any]

    @dataclass
    class ChooseFile(Message):
        """The user wants to pick a file for a BLOB member."""

        panel: VectorPanel
        member: str

    def __init__(self, info: VectorInfo) -> None:
        # Born with its state's class: the first `show` then changes no class, and textual
        # does not style the panel and all its widgets a second time as it mounts.
        state = str(info.state)
        super().__init__(classes=f"vector {_state_class(state)}" if state in STATES else "vector")
        self.info = info
        self.key = (info.devicename, info.name)
        self.signature = info.signature()
        self.tracker = EditTracker()
        self.rows: dict[str, MemberRow] = {}
        self.switch_states: dict[str, bool] = {}
        self.toggled: set[str] = set()  # AnyOfMany members the user set unlike the device
        self.switch_widgets: dict[str, RadioButton | Checkbox] = {}
        self.chosen_files: dict[str, Path] = {}
        self.blob_labels: dict[str, LiveText] = {}
        self.message_label = LiveText("", classes="vmessage", markup=False)
        self.note_label = LiveText("", classes="note", markup=False)
        self.error_label = LiveText("", classes="error", markup=False)
        self._titles: tuple[str, str] | None = None  # the border's, as last drawn
        self._switch_radio: RadioSet | None = None

    @property
    def writable(self) -> bool:
        return self.info.perm != "ro" and self.info.kind != "Light"

    @property
    def one_key(self) -> bool:
        """A OneOfMany or AtMostOne switch vector: choosing a member sends it, no Submit."""
        return self.info.kind == "Switch" and self.info.rule in ("OneOfMany", "AtMostOne")

    def compose(self) -> ComposeResult:
        info = self.info
        yield self.message_label
        if info.kind == "Switch":
            yield from self._compose_switches()
        elif info.kind == "Light":
            for member in info.members:
                row = MemberRow(member, "Light", False)
                self.rows[member.name] = row
                yield row
        elif info.kind == "BLOB":
            for member in info.members:
                with Horizontal(classes="member blob"):
                    yield Label(member.label, classes="mlabel", markup=False)
                    self.blob_labels[member.name] = LiveText("", classes="value", markup=False)
                    yield self.blob_labels[member.name]
                    if self.writable:
                        yield Button("Choose file", classes="choose", name=member.name, compact=True)
        else:
            for member in info.members:
                row = MemberRow(member, info.kind, self.writable, info)
                self.rows[member.name] = row
                yield row
        yield self.note_label
        if self.writable:  # a read-only vector has nothing to submit and nothing refused
            with Horizontal(classes="actions"):
                yield self.error_label
                if not self.one_key:
                    yield Button("Submit", classes="submit", variant="primary", compact=True)

    def _compose_switches(self) -> ComposeResult:
        info = self.info
        self.switch_states = {m.name: m.value == "On" for m in info.members}
        if not self.writable:
            for member in info.members:
                row = MemberRow(member, "Switch", False)
                self.rows[member.name] = row
                yield row
            return
        if info.rule == "OneOfMany":
            buttons = []
            for member in info.members:
                button = RadioButton(
                    member.label, self.switch_states[member.name], name=member.name, compact=True
                )
                self.switch_widgets[member.name] = button
                buttons.append(button)
            self._switch_radio = RadioSet(*buttons, classes="switches")
            yield self._switch_radio
        else:
            with Horizontal(classes="switches"):
                for member in info.members:
                    box = Checkbox(
                        member.label, self.switch_states[member.name], name=member.name, compact=True
                    )
                    self.switch_widgets[member.name] = box
                    yield box

    def on_mount(self) -> None:
        self.show(self.info, None)

    # --- drawing from the device ---------------------------------------------------------------

    def show(self, info: VectorInfo, history: dict[str, Sequence[float]] | None) -> None:
        """Draw the vector's current state; edits in progress are kept and conflicts noted."""
        self.info = info
        # Set only when changed: each setting repaints the whole panel.
        titles = (f"{info.label} ({info.name})" if info.label != info.name else info.name,
                  f"{info.state}  {display_timestamp(info.timestamp)}")
        if titles != self._titles:
            self._titles = titles
            self.border_title, self.border_subtitle = titles
        for state in STATES:
            self.set_class(str(info.state) == state, _state_class(state))
        self.message_label.show_text(info.message or "")
        self.message_label.display = bool(info.message)
        if info.kind == "Switch" and self.writable:
            self._show_switches(info)
        elif info.kind == "BLOB":
            self._show_blobs(info)
        else:
            for member in info.members:
                row = self.rows.get(member.name)
                if row is None:
                    continue
                shown = self._member_text(member)
                row.value_label.show_text(shown)
                if info.kind in ("Light", "Switch"):
                    colour = state_colour(member.value) if info.kind == "Light" else (
                        "green" if member.value == "On" else STATE_COLOURS["Idle"])
                    row.value_label.styles.color = colour
                self.tracker.device_value(member.name, shown)
                if row.spark is not None and history is not None and member.name in history:
                    row.spark.data = list(history[member.name])
        self._show_note()

    def _member_text(self, member: MemberInfo) -> str:
        if self.info.kind == "Number":
            return display_number(member.value, member.format)
        if self.info.kind == "Light":
            return f"\u25cf {member.value}"
        if self.info.kind == "Switch":
            return "\u25cf On" if member.value == "On" else "\u25cb Off"
        return str(member.value)

    def _show_switches(self, info: VectorInfo) -> None:
        """The device's switches, but those the user toggled (kept until Submit or Esc)."""
        device_states = {m.name: m.value == "On" for m in info.members}
        for name in self.toggled:
            self.tracker.device_value(name, "On" if device_states.get(name) else "Off")
        self.switch_states = {name: self.switch_states.get(name, on) if name in self.toggled
                              else on for name, on in device_states.items()}
        self._draw_switch_states()

    def _draw_switch_states(self) -> None:
        with self.prevent(RadioButton.Changed, Checkbox.Changed, RadioSet.Changed):
            for name, widget in self.switch_widgets.items():
                widget.value = self.switch_states.get(name, False)

    def _show_blobs(self, info: VectorInfo) -> None:
        for member in info.members:
            label = self.blob_labels.get(member.name)
            if label is None:
                continue
            parts = []
            if member.blobsize is not None:
                parts.append(display_size(member.blobsize))
            if member.blobformat:
                parts.append(member.blobformat)
            if member.filename:
                parts.append(str(member.filename))
            chosen = self.chosen_files.get(member.name)
            if chosen is not None:
                parts.append(f"to send: {chosen}")
            label.show_text("  ".join(parts) if parts else "nothing received")

    def _show_note(self) -> None:
        labels = {m.name: m.label for m in self.info.members}
        note = self.tracker.note(labels)
        self.note_label.show_text(note)
        self.note_label.display = bool(note)

    def show_error(self, text: str) -> None:
        self.error_label.show_text(text)
        self.set_class(bool(text), "-error")

    # --- the user's edits ---------------------------------------------------------------------

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        for name, row in self.rows.items():
            if row.field is event.input:
                if event.value:
                    member = self.info.member(name)
                    shown = self._member_text(member) if member is not None else ""
                    self.tracker.edit(name, event.value, shown)
                else:
                    self.tracker.discard(name)
        self.show_error("")
        self._show_note()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(RadioSet.Changed)
    def _radio(self, event: RadioSet.Changed) -> None:
        event.stop()
        name = event.pressed.name or ""
        if name in self.switch_states:
            self._toggled(name, True)

    @on(Checkbox.Changed)
    def _checkbox(self, event: Checkbox.Changed) -> None:
        event.stop()
        name = event.checkbox.name or ""
        if name in self.switch_states:
            self._toggled(name, event.value)

    def _toggled(self, name: str, value: bool) -> None:
        device = {m.name: m.value == "On" for m in self.info.members}
        self.switch_states = toggle_switch(
            self.info.rule or "AnyOfMany", self.switch_states, name, value
        )
        self._draw_switch_states()  # AtMostOne turned the others off: show it
        if self.one_key:
            # One key press: the member chosen goes out at once (SPEC: a client sends the
            # switch it turns On; the driver turns the others Off), or AtMostOne's Off.
            self.tracker.discard()
            self.show_error("")
            self._send({name: "On" if self.switch_states[name] else "Off"})
            return
        # AnyOfMany: the member toggled is the edit (back as the device has it: no edit); a
        # device change to it is noted, the other members keep following the device.
        chosen = self.switch_states[name]
        if chosen == device.get(name, False):
            self.toggled.discard(name)
            self.tracker.discard(name)
        else:
            self.toggled.add(name)
            self.tracker.edit(name, "On" if chosen else "Off", "On" if device.get(name) else "Off")
        self.show_error("")
        self._show_note()

    @on(Button.Pressed, ".submit")
    def _submit_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, ".choose")
    def _choose_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.ChooseFile(self, event.button.name or ""))

    def file_chosen(self, member: str, path: Path) -> None:
        self.chosen_files[member] = path
        self.tracker.edit(member, str(path), "")
        self._show_blobs(self.info)

    def _forget_edits(self) -> None:
        """What the user typed, toggled or chose is dropped (Esc, or once it is sent)."""
        self.tracker.discard()
        self.toggled.clear()
        self.chosen_files.clear()
        for row in self.rows.values():
            if row.field is not None:
                with self.prevent(Input.Changed):
                    row.field.value = ""

    def revert(self) -> None:
        """Esc: forget the edits, show the device's values again."""
        self._forget_edits()
        self.show_error("")
        self.show(self.info, None)

    def collect(self) -> dict[str, Any]:
        """The values to send: only the members the user changed (typed into, toggled, or a
        file chosen), checked by the shared rule (`inputcheck.check_entries`). Raises
        InputRefused with its message, also when nothing was changed."""
        info = self.info
        if info.kind == "Switch":
            device = {m.name: m.value == "On" for m in info.members}
            changed = changed_switches(device, {name: on for name, on in self.switch_states.items()
                                                if name in self.toggled})
            if not changed:
                raise InputRefused("nothing changed: toggle a switch first")
            return check_entries(info, changed)
        if info.kind == "BLOB":
            if not self.chosen_files:
                raise InputRefused("choose a file to send first")
            for path in self.chosen_files.values():
                if not path.is_file():
                    raise InputRefused(f"{path} is not a readable file")
            return dict(self.chosen_files)
        entries = {name: row.field.value for name, row in self.rows.items()
                   if row.field is not None and self._typed_something(info, row.field.value)}
        if not entries:
            raise InputRefused("nothing changed: type a new value first")
        return check_entries(info, entries)

    @staticmethod
    def _typed_something(info: VectorInfo, text: str) -> bool:
        """A blank field keeps the device's value and is not sent (a text may be spaces)."""
        return bool(text.strip()) if info.kind == "Number" else bool(text)

    def submit(self) -> None:
        try:
            values = self.collect()
        except InputRefused as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.post_message(self.Submitted(self, values))

    def _send(self, values: dict[str, Any]) -> None:
        """A one-key switch: checked by the shared rule, then sent at once."""
        try:
            checked = check_entries(self.info, values)
        except InputRefused as exc:
            self.show_error(str(exc))
            self.switch_states = {m.name: m.value == "On" for m in self.info.members}
            self._draw_switch_states()
            return
        self.post_message(self.Submitted(self, checked))

    def sent(self) -> None:
        """Submit went out: the edits are now the device's business."""
        self._forget_edits()
        self._show_note()

