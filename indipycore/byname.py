"""`ByName`: a read-only mapping of name -> item over a dict the object keeps anyway.

Both sides use it, so the lookups are written once: the driver's `IPyDriver` (its devices),
`Device` (its vectors) and received events (their member values), and the client library's
model, devices and events (``indipyclient.model.properties`` re-exports it). The lookups are the
dict's own; a missing name raises the KeyError `_missing` makes, which the driver's classes
make say what is missing and which names there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import TypeVar
from typing import overload

__all__ = ["ByName"]

V = TypeVar("V")
T = TypeVar("T")


class ByName(Mapping[str, V]):
    """A read-only mapping of name -> item over the dict in ``_by_name``."""

    __slots__ = ()
    _by_name: dict[str, V]

    def __getitem__(self, name: str) -> V:
        try:
            return self._by_name[name]
        except KeyError:
            raise self._missing(name) from None

    def _missing(self, name: str) -> KeyError:
        """The error for a name that is not here."""
        return KeyError(name)

    @overload
    def get(self, name: str, /) -> V | None: ...
    @overload
    def get(self, name: str, /, default: V | T) -> V | T: ...
    def get(self, name: str, /, default: Any = None) -> Any:
        """The item called `name`, or `default`: a miss makes no KeyError (Mapping's `get`
        would make one, and the driver's name every name there is)."""
        return self[name] if name in self._by_name else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name
