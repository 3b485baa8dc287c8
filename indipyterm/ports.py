"""What the screens and the command palette's search need of the app: `TermPort`.

`startscreen.py`, `devicescreen.py` and `search.py` reach the running app through textual's
``self.app``, seen as a `TermPort`, so none of them imports `app.py` (which imports them): the
package has no import circle. `TermApp` is a `TermPort` (mypy checks it in `app.py`). What the
app needs of the start screen when it refreshes it is a `StartView`. Pure at run time: textual
is named only for the type checker.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

from .vectorinfo import VectorInfo

if TYPE_CHECKING:
    from .vectorpanel import VectorPanel

__all__ = ["StartView", "TermPort"]


class StartView(Protocol):
    """The start screen, as the app fills it."""

    def show_server(self, server: str, blobfolder: Path | None) -> None:
        """The server's ``host:port`` and the BLOB folder (None: not saving BLOBs)."""

    def show_devices(self, names: Sequence[str]) -> None:
        """The device list."""

    def show_messages(self, lines: Iterable[str]) -> None:
        """The message log, newest first."""

    def show_found(self, lines: Sequence[str], note: str) -> None:
        """The servers found on the network, a line each, and a `note` ("": none)."""


class TermPort(Protocol):
    """The app (a `TermApp`), as its screens and the device search use it."""

    @property
    def server(self) -> str:
        """``host:port`` of the INDI server."""
        ...

    @property
    def blobfolder(self) -> Path | None:
        """Where received BLOBs are saved (None: not saved)."""
        ...

    def device_names(self) -> list[str]:
        """The devices that have a vector."""
        ...

    def device_vectors(self, device: str) -> list[VectorInfo]:
        """What the panels of a device draw (empty for an unknown device)."""
        ...

    def histories(self, device: str) -> Mapping[str, Mapping[str, Sequence[float]]]:
        """Number histories of a device's vectors: vector -> member -> values."""
        ...

    def refresh_status(self) -> None:
        """The status line on every screen."""

    def refresh_start_screen(self, screen: StartView) -> None:
        """The start screen's devices and messages, as they are now."""

    def pick_found(self, index: int) -> None:
        """The user chose the `index`th server found: fill the settings with it."""

    def open_device(self, device: str, vector: str | None = None) -> None:
        """Show a device's screen, at `vector` if given."""

    def send_values(self, panel: VectorPanel, values: dict[str, Any]) -> None:
        """Send a panel's checked values."""

    def choose_file(self, panel: VectorPanel, member: str) -> None:
        """Let the user pick a file to send as a BLOB member."""
