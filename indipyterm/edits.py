"""A vector's unsent edits, and whether the device changed it under them (no textual, no I/O).

While the user types into a member of a writable vector the device may send new values for
it. The typed text is never overwritten; instead the screen says that the device's value moved
(and to what), so the edit is neither lost silently nor sent unknowingly over a newer value.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EditTracker", "PendingEdit"]


@dataclass
class PendingEdit:
    """The user's text for one member and the device value it was typed against."""

    text: str
    base: str
    changed_to: str | None = None  # the device's newer value, when it moved under the edit


class EditTracker:
    """The pending edits of one vector, keyed by member name."""

    def __init__(self) -> None:
        self._edits: dict[str, PendingEdit] = {}

    def edit(self, member: str, text: str, device_value: str) -> None:
        """The user changed a member's field to `text` while the device showed `device_value`.

        The base stays the value shown when editing began, so a later device change is noticed
        even if the user goes on typing.
        """
        pending = self._edits.get(member)
        if pending is None:
            self._edits[member] = PendingEdit(text, device_value)
        else:
            pending.text = text

    def device_value(self, member: str, value: str) -> bool:
        """The device now shows `value` for `member`; True when that moved under an edit."""
        pending = self._edits.get(member)
        if pending is None:
            return False
        if value == pending.base:
            pending.changed_to = None
            return False
        pending.changed_to = value
        return True

    def pending(self, member: str) -> PendingEdit | None:
        return self._edits.get(member)

    def discard(self, member: str | None = None) -> None:
        """Forget one member's edit (or all of them: after Submit, or when the user reverts)."""
        if member is None:
            self._edits.clear()
        else:
            self._edits.pop(member, None)

    def members(self) -> list[str]:
        return list(self._edits)

    def conflicts(self) -> dict[str, str]:
        """Members whose device value moved under the edit: ``{member: newer device value}``."""
        return {m: e.changed_to for m, e in self._edits.items() if e.changed_to is not None}

    def note(self, labels: dict[str, str] | None = None) -> str:
        """The sentence shown on the panel while there are conflicts, or ``""``."""
        conflicts = self.conflicts()
        if not conflicts:
            return ""
        names = labels or {}
        parts = [f"{names.get(m, m)} is now {v}" for m, v in conflicts.items()]
        return (
            "Changed by the device while you were editing: " + "; ".join(parts)
            + ". Your entry is kept: Submit sends it, Esc reverts."
        )

    def __bool__(self) -> bool:
        return bool(self._edits)
