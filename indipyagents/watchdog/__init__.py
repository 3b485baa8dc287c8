"""The watchdog: indilib's ``indi_watchdog`` (device "WatchDog") as an agent of ours, with its
properties and meanings, that fails closed: a weather verdict that is stale, a weather driver
that died or was deleted, a device that never appeared, are unsafe, where indilib's waits for
an Alert it will never hear. Once unsafe past the threshold it pauses the sequencer, aborts the
exposure, parks the mount and the dome, warms the camera and runs the shutdown script, each
step bounded and retried; once safe long enough, it tells the sequencer so.

``indipyserver indipyagents.watchdog`` serves it in-process (`make_driver`); the executable
``indipy_agent_watchdog`` (`main`) runs it under any INDI server.

- ``verdict``: the pure state machine, events in, a judgement out;
- ``vectors``: indi_watchdog's definitions as measured, and ours;
- ``face``: `WatchdogFace`, the vectors and their requests, one `Role` of the device;
- ``shutdown``: the steps and their order, retries and bounds;
- ``guard``: `Guard`, the link read into the verdict, the verdict acted on;
- ``agent``: `make_device`, `WatchdogDriver`, `make_driver`; ``main``: the executable.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_driver"]


def make_driver(host: str | None = None, port: int | None = None, **options: Any) -> Any:
    """The watchdog's driver (`agent.make_driver`), for ``indipyserver
    indipyagents.watchdog``."""
    from .agent import make_driver as make

    return make(host, port, **options)
