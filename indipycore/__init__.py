"""indipycore: what the driver side and the client side of INDI both stand on.

Standard library only, and imported by `indipydriver`, `indipyclient`, `indipyserver` and the
front ends alike, never importing any of them: the protocol core (``protocol``: bytes <->
events, no asyncio, no sockets), the one retry policy and its loop (``retrypolicy``), the
one connect timeout (``connecting``), the log budget (``logbudget``), the read buffers
(``readbuffers``), the write half of the hand-written asyncio transports (``writehalf``),
``ByName`` (``byname``), the memfd BLOB reader (``sharedblobs``), the link protocols (``links``), the
lazy-name loader (``lazynames``), the command line's one log format and version
(``commandline``), and what clients read as well as drivers: the
DRIVER_INTERFACE bits (``interface``) and the FITS reader and writer (``fits``).
"""
