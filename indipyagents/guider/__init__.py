"""The guider: an agent device, "Guider Agent" (INDIGO's name), that holds a star on its camera
with guide pulses to its mount, and speaks PHD2's event-server interface (TCP 4400) so Ekos,
NINA, CCDciel or any PHD2 client drives it unchanged.

``indipyserver indipyagents.guider`` serves it in-process (`make_driver`); the executable
``indipy_agent_guider`` (`main`) runs it under any INDI server.

- ``phd2wire``: PHD2's JSON-RPC lines and events as pure code;
- ``phd2server``: `Phd2Server`, the TCP layer, a bounded queue per client;
- ``stars``: star detection and measurement on a frame (numpy and sep, the extra [agents]);
- ``guidemath``: pure: calibration, the PI controller per axis, settling;
- ``machine``: pure: the guider's state machine, frames and commands in, pulses and PHD2
  events out;
- ``vectors``, ``face``: the INDI properties (INDIGO's names) and their requests;
- ``session``: the loop: frames from the camera, pulses to the mount, events to clients;
- ``phd2methods``: PHD2's methods on the session;
- ``agent``: `make_driver`; ``main``: the executable.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_driver"]


def make_driver(host: str | None = None, port: int | None = None, **options: Any) -> Any:
    """The guider's driver (`agent.make_driver`), for ``indipyserver indipyagents.guider``."""
    from .agent import make_driver as make

    return make(host, port, **options)
