"""A device's screen: a tab per property group, a panel per vector, kept live by the app."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from collections.abc import Sequence
from itertools import count
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.widgets import Footer
from textual.widgets import Static
from textual.widgets import TabbedContent
from textual.widgets import TabPane

from .startscreen import StatusLine
from .startscreen import TermScreen
from .vectorinfo import VectorInfo
from .vectorpanel import VectorPanel

__all__ = ["DeviceScreen"]

VectorKey = tuple[str, str]
_pane_ids = count()


class DeviceScreen(TermScreen):
    """One device. The app calls :meth:`update_vectors` and :meth:`remove_vectors` with what
    changed, and :meth:`resync` after the connection came and went."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "revert", "Revert edit / leave field", show=False)
    ]
    # The tabs, not a field, have the focus at first, so that q, d and m work straight away.
    AUTO_FOCUS = "#groups Tabs"

    def __init__(self, device: str) -> None:
        super().__init__(classes="device")
        self.device = device
        self.status = StatusLine("", classes="status", markup=False)
        self.empty = Static("", id="empty", markup=False)
        self.tabs = TabbedContent(id="groups")
        self.panels: dict[str, VectorPanel] = {}  # vector name -> panel
        self.groups: dict[str, str] = {}  # group -> pane id
        self.group_of: dict[str, str] = {}  # vector name -> group
        self._drawing = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield self.header()
        yield self.status
        yield self.empty
        yield self.tabs
        yield Footer()

    async def on_mount(self) -> None:
        self.title = self.device
        self.sub_title = self.term.server
        await self.resync(self.term.device_vectors(self.device))
        self.term.refresh_status()

    # --- changes from the app ---------------------------------------------------------------

    # The screen's own resync (as it opens) and the app's refreshes both add and remove panels,
    # awaiting textual between steps: one at a time, or a group's tab is looked for while
    # another call is still adding it (NoMatches, seen in a loaded full run).

    async def resync(self, vectors: Sequence[VectorInfo]) -> None:
        """Show exactly these vectors (after a reconnect, or when the screen opens)."""
        async with self._drawing:
            names = {v.name for v in vectors}
            await self._remove([n for n in self.panels if n not in names])
            await self._update(vectors, self.term.histories(self.device))

    async def update_vectors(
        self, vectors: Sequence[VectorInfo], history: Mapping[str, Mapping[str, Sequence[float]]]
    ) -> None:
        """Draw these vectors: new ones get a panel (and their group a tab), others are redrawn."""
        async with self._drawing:
            await self._update(vectors, history)

    async def remove_vectors(self, names: Sequence[str]) -> None:
        """Take these vectors' panels away, and a group's tab with its last panel."""
        async with self._drawing:
            await self._remove(names)

    async def _update(
        self, vectors: Sequence[VectorInfo], history: Mapping[str, Mapping[str, Sequence[float]]]
    ) -> None:
        for info in vectors:
            panel = self.panels.get(info.name)
            if panel is not None and (
                panel.signature != info.signature() or self.group_of.get(info.name) != info.group
            ):
                # Redefined with other members, limits, rule or group: a new panel.
                await self._remove([info.name])
                panel = None
            if panel is None:
                await self._add_panel(info)
            else:
                panel.show(info, dict(history.get(info.name, {})))
        self._show_empty()

    async def _add_panel(self, info: VectorInfo) -> None:
        pane_id = self.groups.get(info.group)
        if pane_id is None:
            pane_id = f"g{next(_pane_ids)}"
            self.groups[info.group] = pane_id
            await self.tabs.add_pane(
                TabPane(info.group or "(no group)", VerticalScroll(classes="vectors"), id=pane_id)
            )
        scroll = self.tabs.get_pane(pane_id).query_one(VerticalScroll)
        panel = VectorPanel(info)
        self.panels[info.name] = panel
        self.group_of[info.name] = info.group
        await scroll.mount(panel)

    async def _remove(self, names: Sequence[str]) -> None:
        for name in names:
            panel = self.panels.pop(name, None)
            group = self.group_of.pop(name, None)
            if panel is not None:
                await panel.remove()
            if group is not None and group not in self.group_of.values():
                pane_id = self.groups.pop(group)
                await self.tabs.remove_pane(pane_id)
        self._show_empty()

    def _show_empty(self) -> None:
        if self.panels:
            self.empty.display = False
        else:
            self.empty.display = True
            self.empty.update(f"{self.device} has no properties (deleted, or not connected)")

    # --- navigation -----------------------------------------------------------------------------

    def show_vector(self, name: str) -> None:
        """Bring a vector's tab to the front and its panel into view (the search uses this)."""
        panel = self.panels.get(name)
        group = self.group_of.get(name)
        if panel is None or group is None:
            return
        self.tabs.active = self.groups[group]
        panel.scroll_visible()
        targets = list(panel.query("Input, RadioSet, Checkbox, Button").results())
        self.set_focus(targets[0] if targets else panel)

    def action_revert(self) -> None:
        """Esc: drop the edits of the panel holding the focus and give the focus to the tabs
        (where q, d and m are keys again rather than letters typed)."""
        node: DOMNode | None = self.focused
        while node is not None and not isinstance(node, VectorPanel):
            node = node.parent
        if isinstance(node, VectorPanel):
            node.revert()
        tabs = list(self.query("#groups Tabs").results())
        if tabs:
            self.set_focus(tabs[0])

    def on_vector_panel_submitted(self, message: VectorPanel.Submitted) -> None:
        self.term.send_values(message.panel, message.values)

    def on_vector_panel_choose_file(self, message: VectorPanel.ChooseFile) -> None:
        self.term.choose_file(message.panel, message.member)
