"""Shapes: what the speed shortcuts remember, in one place.

Elements of one vector differ mostly in their digits (values, timestamps), so what was worked
out for one element holds for every element of its *shape*: its bytes with every digit made
``0`` (`shape_of`). Each shortcut keeps what it learnt per shape in a `ShapeCache`: the
framer's start tags (``starttags``), the client's set elements (``indipyclient.model.setshapes``),
the server's reads that may take the round trip's shortcut (``fastpath.readclassifier``) and
the driver elements the router found well-formed (``wellformed.PlainUpdates``).

A cache belongs to the object that uses it (a framer, a client's reader, a server), never to
the process: two servers, or a server and a client in one process, learn apart and one cannot
evict the other's shapes. Each is bounded: at `max_shapes` it is emptied at once and learns
again (a stream whose shapes never repeat costs a bounded dictionary; a burst refills it at
once). Only what does not tell digits apart may be learnt by shape: each user says why that
holds for it.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["DIGITS", "DIGITS_TO_ZERO", "ShapeCache", "shape_of"]

#: `bytes.translate` table: every digit made ``0``.
DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
#: The digit bytes (`frozenset.isdisjoint` says whether a name or value holds one).
DIGITS = frozenset(b"0123456789")

V = TypeVar("V")


def shape_of(data: bytes) -> bytes:
    """`data` with every digit made ``0``."""
    return data.translate(DIGITS_TO_ZERO)


class ShapeCache(dict[bytes, V]):
    """Shape -> what was learnt of it, at most `max_shapes` of them. A dict (lookups are the
    dict's own, at C speed, on the hot paths); `learn` is the one way in."""

    __slots__ = ("max_shapes",)

    def __init__(self, max_shapes: int) -> None:
        super().__init__()
        if max_shapes < 1:
            raise ValueError("max_shapes must be at least 1")
        self.max_shapes = max_shapes

    def learn(self, shape: bytes, value: V) -> None:
        """Remember `value` for `shape`; when full, forget everything first."""
        if len(self) >= self.max_shapes:
            self.clear()
        self[shape] = value
