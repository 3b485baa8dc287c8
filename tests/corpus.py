"""The recorded indilib 1.9.9 traffic kept in ``tests/data/corpus`` (see its README.md).

Every test that wants real peers' bytes reads them through here, so the captures live in the
repository and a clone with nothing beside it has them. A capture stored compressed
(``name.gz``) reads back as the bytes the peer wrote.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"

# The captures the tests rely on: a missing one is a failure, never a silently smaller corpus.
CAPTURES = ("telescope-traffic.xml", "ccd-traffic.xml", "indilib-clients-send.xml")


@functools.cache
def read(name: str) -> bytes:
    """The capture ``name`` (e.g. ``ccd-traffic.xml``), whether stored plain or gzipped."""
    plain = CORPUS / name
    if plain.is_file():
        return plain.read_bytes()
    return gzip.decompress((CORPUS / f"{name}.gz").read_bytes())


def read_all() -> dict[str, bytes]:
    """Every capture by name, in a fixed order."""
    return {name: read(name) for name in CAPTURES}
