"""indilib's imager agent (``indi_imager_agent`` 1.9.9) as an agent of ours: the same device
"Imager Agent", face and files, so a client written for indilib's works unchanged, with a
settable server address, frames written whole, the FITS FILTER of the wheel it drives, and
devices that die noticed.

``indipyserver indipyagents.imager`` serves it in-process (`make_driver`); the executable
``indipy_agent_imager`` (`main`) runs it under any INDI server.

- ``vectors``: indilib's definitions; ``files``: its file names, written atomically;
- ``face``: `ImagerFace`, the face, one `Role` of the agent's device; ``batchrun``: the
  batch; ``progress``: PROGRESS; ``status``: STATUS's lights; ``download``: DOWNLOAD;
- ``batchjournal``: the batch journalled, so a restart continues it;
- ``agent``: `make_device` (parts on one device), `AgentDriver`, `make_driver`;
- ``main``: the executable.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_driver"]


def make_driver(host: str | None = None, port: int | None = None, **options: Any) -> Any:
    """The imager agent's driver (`agent.make_driver`: `options` are its ``state``, ``plan``
    and ``start``), for ``indipyserver indipyagents.imager``."""
    from .agent import make_driver as make

    return make(host, port, **options)
