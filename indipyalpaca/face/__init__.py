"""Serving a server's INDI devices as ASCOM Alpaca devices (the optional extra ``[alpaca]``).

The face is an INDI client of the server (``indipyclient`` on the server's own address), so
it sees every device wherever it comes from, and maps each whose DRIVER_INTERFACE names an
Alpaca role it implements (``served``) to an Alpaca device: the management and device API in
a Starlette app (``app``), UDP discovery (``discovery``), lasting numbers and UniqueIDs
(``registry``). ``hosting.AlpacaFace`` runs it in the server's event loop;
``process.FaceProcess`` in a process of its own (``child``), on sockets the server bound
(``sockets``). ``IPyServer`` starts one for ``serve_alpaca(PORT)`` (``indipyserver --alpaca PORT``).

Each name is imported at first use (PEP 562): the server starts `FaceProcess` without
importing Starlette or uvicorn.
"""

from __future__ import annotations

from indipycore.lazynames import lazy_package

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hosting import AlpacaFace as AlpacaFace
    from .process import FaceProcess as FaceProcess

_LAZY = {"AlpacaFace": "hosting", "FaceProcess": "process"}

__all__, __getattr__, __dir__ = lazy_package(__name__, _LAZY)
