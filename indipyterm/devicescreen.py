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
    """One device. The app's refresh calls :meth:`draw` with what changed (:meth:`redraw_all`
    after the connection came and went): a panel on screen is drawn at once, and the screen's
    own task adds, rebuilds and removes panels from the client's vectors as they are by then,
    so no refresh waits for a panel to mount. (A camera defines some fifty vectors on Connect;
    on a slow machine mounting their panels takes many seconds, and a refresh that waited for
    them left every other vector undrawn meanwhile: an exposure just started still showed
    Idle.) :meth:`update_vectors`, :meth:`remove_vectors` and :meth:`resync` do that work with
    the vectors given, awaited."""

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
        self._behind: set[str] = set()  # vectors whose panels the screen's task brings up to date
        self._unseen: set[str] = set()  # changed while their tab was not shown: drawn when it is
        self._all_behind = False  # every panel and every vector the client has
        self._woken = asyncio.Event()
        self._wanted: str | None = None  # show_vector's, until its panel is mounted

    def compose(self) -> ComposeResult:
        yield self.header()
        yield self.status
        yield self.empty
        yield self.tabs
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.device
        self.sub_title = self.term.server
        self.run_worker(self._catch_up(), name="panels", group="panels", exclusive=True)
        self.redraw_all()
        self.term.refresh_status()

    # --- changes from the app ---------------------------------------------------------------

    def draw(
        self,
        vectors: Sequence[VectorInfo],
        history: Mapping[str, Mapping[str, Sequence[float]]],
        removed: Sequence[str] = (),
    ) -> None:
        """Draw at once the vectors whose panel is mounted and in the tab shown; leave the
        others (new, redefined, a panel still mounting) and the `removed` ones to the screen's
        task, and those in another tab until it is shown (`on_tabbed_content_tab_activated`):
        a panel no one sees is not drawn, and its update would lay the whole screen out
        again (textual cannot tell how big a widget it does not show has become)."""
        behind = set(removed)
        for info in vectors:
            panel = self.panels.get(info.name)
            if panel is not None and panel.is_mounted and self._fits(panel, info):
                if self._in_front(info.name):
                    panel.show(info, dict(history.get(info.name, {})))
                else:
                    self._unseen.add(info.name)
            else:
                behind.add(info.name)
        if behind:
            self._behind |= behind
            self._woken.set()

    def _in_front(self, name: str) -> bool:
        """Whether `name`'s panel is in the tab shown."""
        group = self.group_of.get(name)
        return group is not None and self.groups.get(group) == self.tabs.active

    def on_tabbed_content_tab_activated(self, _event: TabbedContent.TabActivated) -> None:
        """The panels of the tab now shown that changed while it was not: the screen's task
        draws them from the client's vectors as they are now."""
        front = {name for name in self._unseen if self._in_front(name)}
        if front:
            self._unseen -= front
            self._behind |= front
            self._woken.set()

    def redraw_all(self) -> None:
        """Have the screen's task bring every panel up to date with the client (a panel for
        each vector it has, none for the others)."""
        self._all_behind = True
        self._woken.set()

    async def _catch_up(self) -> None:
        """The screen's task: the panels left behind by `draw` and `redraw_all`, brought up to
        date a pass at a time. A pass the screen's closing cuts short (the user left it, or
        the app is exiting: its widgets are going) ends the task quietly."""
        while True:
            await self._woken.wait()
            self._woken.clear()
            names, everything = self._behind, self._all_behind
            self._behind, self._all_behind = set(), False
            try:
                async with self._drawing:
                    await self._bring_up_to_date(names, everything)
            except Exception:
                if self._leaving():
                    return
                raise
            if self._wanted is not None and self._wanted not in self.panels:
                self._wanted = None  # not a vector of the device's: nothing to show

    async def _bring_up_to_date(self, names: set[str], everything: bool) -> None:
        """The panels of these vectors (of every vector) as the client has them now, so the
        order in which they were left behind does not matter: added, rebuilt, drawn, or
        removed when the client no longer has the vector; the new panels of a group mounted
        together."""
        vectors = self.term.device_vectors(self.device)
        known = {info.name for info in vectors}
        await self._remove([name for name in self.panels
                            if name not in known and (everything or name in names)])
        await self._update([info for info in vectors if everything or info.name in names],
                           self.term.histories(self.device))

    def _leaving(self) -> bool:
        """Whether this screen is closing: no longer on the app's screens, or the app exiting."""
        return not self.app.is_running or self not in self.app.screen_stack

    # The screen's task and the methods below add and remove panels, awaiting textual between
    # steps: one at a time, or a group's tab is looked for while another call is still adding
    # it (NoMatches, seen in a loaded full run).

    async def resync(self, vectors: Sequence[VectorInfo]) -> None:
        """Show exactly these vectors, awaited (the screen itself, as it opens and after a
        reconnect, brings its panels up to date from the client in its task: `redraw_all`)."""
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
        new: list[VectorInfo] = []
        for info in vectors:
            panel = self.panels.get(info.name)
            if panel is not None and not self._fits(panel, info):
                # Redefined with other members, limits, rule or group: a new panel.
                await self._remove([info.name])
                panel = None
            if panel is None:
                new.append(info)
            else:
                panel.show(info, dict(history.get(info.name, {})))
        await self._add_panels(new)
        self._show_empty()

    def _fits(self, panel: VectorPanel, info: VectorInfo) -> bool:
        """Whether `panel` can draw `info` in place (same members, limits, rule and group)."""
        return panel.signature == info.signature() and self.group_of.get(info.name) == info.group

    async def _add_panels(self, infos: Sequence[VectorInfo]) -> None:
        """New panels for these vectors, a group at a time (its tab added first when new): a
        group's panels mounted together, so textual lays the screen out once for them, not
        once a panel."""
        groups: dict[str, list[VectorInfo]] = {}  # in the order the vectors came
        for info in infos:
            groups.setdefault(info.group, []).append(info)
        for group, members in groups.items():
            pane_id = self.groups.get(group)
            if pane_id is None:
                pane_id = f"g{next(_pane_ids)}"
                self.groups[group] = pane_id
                await self.tabs.add_pane(
                    TabPane(group or "(no group)", VerticalScroll(classes="vectors"), id=pane_id)
                )
            panels = [VectorPanel(info) for info in members]
            for panel in panels:
                self.panels[panel.info.name] = panel
                self.group_of[panel.info.name] = group
            self._show_empty()  # gone with the first panel: the panels below stay where they are
            await self.tabs.get_pane(pane_id).query_one(VerticalScroll).mount_all(panels)
            wanted = self._wanted
            if wanted is not None and wanted in {info.name for info in members}:
                self.show_vector(wanted)

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
        """Bring a vector's tab to the front and its panel into view (the search uses this);
        a panel not mounted yet is shown once it is."""
        panel = self.panels.get(name)
        group = self.group_of.get(name)
        if panel is None or group is None or not panel.is_mounted:
            self._wanted = name
            return
        self._wanted = None
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
