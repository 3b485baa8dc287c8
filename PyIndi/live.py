"""``LiveProperty``: one property as a ``BaseClient`` holds it, shared by every view of it.

pyindi-client hands out the client's own property objects, which change in place when the
server sends new values; programs poll ``getState()`` on an object they got once. Here every
``Property``, ``PropertyNumber``... and every element a program holds is a view on one
``LiveProperty``, which points at indipyclient's live vector (replaced when the driver defines
the property again) and keeps the last BLOB bodies received (the library's model keeps none).
"""

from __future__ import annotations

from typing import Any

from indipyclient.model.properties import PropertyVector

__all__ = ["LiveProperty"]


class LiveProperty:
    """The live vector (``vector``), the device view that holds it (``device``, a
    ``BaseDevice``) and the last body received for each BLOB member (``blobs``)."""

    __slots__ = ("blobs", "device", "vector")

    def __init__(self, vector: PropertyVector, device: Any) -> None:
        self.vector = vector
        self.device = device
        self.blobs: dict[str, bytes | bytearray | memoryview] = {}

    def member(self, name: str) -> Any:
        """The library's member object of that name (None once a redefinition dropped it)."""
        vector = self.vector
        return vector.member(name) if name in vector else None

    def edited(self) -> None:
        """The program changed a value or a limit locally: the vector's cached snapshot and
        shape are stale."""
        self.vector.snap = None
        self.vector.limits_changed()
