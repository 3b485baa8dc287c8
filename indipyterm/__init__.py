"""indipyterm: a full-screen terminal client for any INDI server, on textual.

Run ``indipyterm [--host H] [--port 7624] [--blobfolder DIR]`` (install with
``pip install ".[term]"`` in the clone). The screen logic that needs no terminal lives in pure
modules: ``inputcheck`` (what may be sent), ``formatting`` (how values are shown), ``edits``
(unsent edits), ``status`` and ``vectorinfo``; events become refreshes through the client library's
change notices (``indipyclient.model.changes``, ``coalesce``, ``history``).
"""

__all__: list[str] = []
