"""The client's pure model: what a server holds, read from its bytes, with no asyncio and no sockets.

`Model` (tree.py: devices -> vectors -> members) and the objects it hands out (properties.py),
the client events it makes (events.py) and the change notices they carry (changes.py), the
value history (history.py), the rules a new value keeps before it is sent (outgoing.py), the
0.9.4 snapshot (snapshot.py), the heading of the front ends' copies of a vector
(vectorheading.py); reading a server's bytes into it (incoming.py, setshapes.py,
blobstream.py, attachedblobs.py) and saving BLOBs (blobfiles.py, partfiles.py). It may import
`indipycore` and itself only: the session and the front ends stand on it.
"""

from __future__ import annotations

from indipycore.lazynames import lazy_package

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .tree import Model as Model

_LAZY = {"Model": "tree"}
__all__, __getattr__, __dir__ = lazy_package(__name__, _LAZY)
