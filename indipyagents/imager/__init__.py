"""indilib's imager agent (``indi_imager_agent`` 1.9.9) as an agent of ours: the same device
"Imager Agent", face and files, so a client written for indilib's works unchanged, with a
settable server address, frames written whole, the FITS FILTER of the wheel it drives, and
devices that die noticed.

Its face lives here; the agent is assembled (the device with the sequencer's face beside
this one, its driver, its command line) in ``imageragent/``. ``indipyserver
indipyagents.imager`` serves it in-process (`make_driver`, kept here for that name); the
executable ``indipy_agent_imager`` (``imageragent.main``) runs it under any INDI server.

- ``vectors``: indilib's definitions; ``files``: its file names, written atomically;
- ``face``: `ImagerFace`, the face, one `Role` of the agent's device; ``batchrun``: the
  batch; ``progress``: PROGRESS; ``status``: STATUS's lights; ``download``: DOWNLOAD;
- ``batchjournal``: the batch journalled, so a restart continues it;
- ``main``: the executable's old path (``python -m indipyagents.imager.main``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_driver"]


def make_driver(host: str | None = None, port: int | None = None, **options: Any) -> Any:
    """The imager agent's driver (`imageragent.driver.make_driver`: `options` are its
    ``state``, ``plan``, ``start`` and ``retry``), for ``indipyserver indipyagents.imager``."""
    from ..imageragent.driver import make_driver as make

    return make(host, port, **options)
