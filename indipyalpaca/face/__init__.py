"""Serving a server's INDI devices as ASCOM Alpaca devices (the optional extra ``[alpaca]``).

The face is an INDI client of the server (``indipyclient`` on the server's own address), so
it sees every device wherever it comes from, and maps each whose DRIVER_INTERFACE names an
Alpaca role it implements (``served``) to an Alpaca device: the management and device API in
a Starlette app (``app``), UDP discovery (``discovery``), lasting numbers and UniqueIDs
(``registry``). ``hosting.AlpacaFace`` runs it in the server's event loop; ``IPyServer``
starts it for ``alpaca=PORT`` (``indipyserver --alpaca PORT``).
"""

from indipyalpaca.face.hosting import AlpacaFace

__all__ = ["AlpacaFace"]
