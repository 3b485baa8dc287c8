"""indipyterm: a full-screen terminal client for any INDI server, on textual.

Run ``indipyterm [--host H] [--port 7624] [--blobfolder DIR]`` (install with
``pip install indipy-toolkit[term]``). The screen logic that needs no terminal lives in pure
modules: ``inputcheck`` (what may be sent), ``formatting`` (how values are shown), ``coalesce``
(events into refreshes), ``edits`` (unsent edits), ``status`` and ``model``.
"""

__all__: list[str] = []
