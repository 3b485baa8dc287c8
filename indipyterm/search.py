"""The command palette's search: every device and vector by name or label."""

from __future__ import annotations

from functools import partial
from typing import cast

from textual.command import DiscoveryHit
from textual.command import Hit
from textual.command import Hits
from textual.command import Provider

from .ports import TermPort

__all__ = ["DeviceSearch"]


class DeviceSearch(Provider):
    """Hits open the device's screen, at the vector's tab and panel."""

    def _targets(self) -> list[tuple[str, str, str, str | None]]:
        """(text to match, help, device, vector name or None) for every device and vector."""
        app = cast(TermPort, self.app)
        targets: list[tuple[str, str, str, str | None]] = []
        for device in app.device_names():
            targets.append((device, f"open device {device}", device, None))
            for info in app.device_vectors(device):
                label = f"{device} / {info.label} ({info.name})"
                help_text = f"{info.group}: {info.kind} vector, {info.state}"
                targets.append((label, help_text, device, info.name))
        return targets

    def _open(self, device: str, vector: str | None) -> None:
        cast(TermPort, self.app).open_device(device, vector)

    async def discover(self) -> Hits:
        for text, help_text, device, vector in self._targets():
            if vector is None:
                yield DiscoveryHit(text, partial(self._open, device, None), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, device, vector in self._targets():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._open, device, vector),
                          text=text, help=help_text)
