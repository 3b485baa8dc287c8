"""indipyserver: an INDI 1.7 server for in-process, executable and remote drivers."""

from indipyserver.server import IPyServer

__all__ = ["IPyServer"]
