"""indipyserver: an INDI 1.7 server for in-process, executable and remote drivers."""

from indipyserver.server import IPyServer

#: This project's version (pyproject.toml's); 0.0.6 scripts print ``indipyserver.version``.
version = "0.1.0"

__all__ = ["IPyServer", "version"]
