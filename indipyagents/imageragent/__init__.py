"""The imager agent assembled: the device "Imager Agent" with its parts (indilib's imager
agent's face from ``imager/``, the sequencer's face from ``sequencer/``), its driver, the
sequencer's factory and the night's resume, and its command line.

- ``driver``: `make_device` (parts on one device), `AgentDriver`, `make_driver` (one link,
  one `Runner` shared by both faces, the `Night`);
- ``night``: `Night`, the sequencer face's factory on the agent's link, autofocus alone, and
  ``current.json``, so a night running when the agent died starts again;
- ``main``: the executable ``indipy_agent_imager``.

``indipyserver indipyagents.imager`` (the name indilib's users know) and ``indipyserver
indipyagents.imageragent`` serve the same agent in-process.
"""

from __future__ import annotations

from .driver import make_driver

__all__ = ["make_driver"]
