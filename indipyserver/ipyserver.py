"""indipyserver 0.0.6's module path for `IPyServer` (``from indipyserver.ipyserver import
IPyServer``); it is defined in ``server.py``."""

from .server import IPyServer

__all__ = ["IPyServer"]
