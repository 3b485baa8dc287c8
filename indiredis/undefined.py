"""Vectors whose values reach a redis bridge while they are not defined there, asked for again.

A definition lost on the way (an inbound queue that overflowed as a fleet's sites all answered
a getProperties at once, a broker that dropped it) would leave its vector unstored for good;
`Undefined` says which devices to ask for by name, a few at a time (docs/bridges.rst).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ASK_AT_ONCE", "ASK_UNDEFINED", "MAX_UNDEFINED", "Undefined"]

#: A device whose values arrive while it is not defined here (its definition lost on the way:
#: a bridge's inbound queue that overflowed as a fleet's sites all answered at once, a broker
#: that dropped it) is asked for by name after this long (s), and again as often while its
#: values keep coming undefined: the source's answer to the first getProperties, on its way,
#: usually defines it before.
ASK_UNDEFINED = 5.0
#: Devices asked for by name at most a second; the others wait their turn. Never everything
#: at once: in a fleet that answer (every site's definitions together) is what overflowed.
ASK_AT_ONCE = 20
#: Undefined devices followed at most (a source sending values of endless names).
MAX_UNDEFINED = 10_000


class Undefined:
    """The vectors whose values arrive while they are not defined, and when each is due to be
    asked for (`saw`, `due`). One whose values stop coming is forgotten: it was deleted, or
    its source went away."""

    def __init__(self, every: float = 0.0) -> None:
        self.every = every or ASK_UNDEFINED
        # (device, vector) -> [asked or first seen, last seen]
        self._vectors: dict[tuple[str, str], list[float]] = {}

    def saw(self, device: str, vector: str, now: float) -> None:
        entry = self._vectors.get((device, vector))
        if entry is not None:
            entry[1] = now
        elif len(self._vectors) < MAX_UNDEFINED:
            self._vectors[(device, vector)] = [now, now]

    def due(self, now: float, defined: Callable[[str, str], bool],
            most: int = ASK_AT_ONCE) -> list[str]:
        """The devices to ask for now, at most `most` (each then due again `every` s later;
        the others stay due)."""
        asks: dict[str, None] = {}
        for key, entry in list(self._vectors.items()):
            if entry[1] < now - self.every or defined(*key):
                del self._vectors[key]
            elif now - entry[0] >= self.every and (key[0] in asks or len(asks) < most):
                entry[0] = now
                asks[key[0]] = None
        return list(asks)

    def __bool__(self) -> bool:
        return bool(self._vectors)
