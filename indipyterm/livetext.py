"""A line of text kept live: redrawn in place, laid out again only when its size may change.

textual's `Static.update` lays the whole screen out again by default (the widget's height may
change with its text): a reflow of every widget on the screen for a number that moved, ten
times a second while a mount slews. A `LiveText` given the text it already shows does nothing;
given a new text that fits on the one line it already has, it redraws itself alone. Anything
else (more lines, a text wider than the widget, a widget not laid out yet or hidden, one whose
width follows its text) is laid out as `Static.update` does.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static

__all__ = ["LiveText"]


class LiveText(Static):
    """A `Static` shown with `show_text` (plain text, no markup)."""

    def show_text(self, text: str) -> None:
        content = self.content
        if isinstance(content, str) and content == text:
            return
        self.update(text, layout=not self.fits(text))

    def fits(self, text: str) -> bool:
        """Whether `text` takes the one line this widget has now, so its size stays as it is."""
        if not text or "\n" in text or "\t" in text:
            return False
        width = self.styles.width
        if width is not None and width.is_auto:
            return False
        # The size the last layout gave it (`outer_size`: no look-up in the screen's map),
        # less its padding and border.
        size, gutter = self.outer_size, self.styles.gutter
        return (size.height - gutter.height == 1
                and cell_len(text) <= size.width - gutter.width)
