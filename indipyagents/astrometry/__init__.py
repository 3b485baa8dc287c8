"""The Astrometry Agent: INDIGO's plate-solver agent's face ("Astrometry Agent",
AGENT_PLATESOLVER_HINTS, _WCS, _GOTO_SETTINGS, _IMAGE, AGENT_START_PROCESS: SOLVE, SYNC,
CENTER, PRECISE_GOTO), solving with astrometry.net's ``solve-field`` (a child process killed
past its limit, its files removed), choosing its camera and mount by ACTIVE_DEVICES; its
CENTER repeats until the mount truly points within a tolerance.

``indipyserver indipyagents.astrometry`` serves it in-process (`make_driver`); the
executable ``indipy_agent_astrometry`` (`main`) runs it under any INDI server.

- ``wcs``: pure: a FITS header read, a ``.wcs`` file made a `Solution`, an image checked;
- ``hints``: pure: `Hints`, solve-field's arguments, the index files a field needs;
- ``centring``: pure: the offset from the target, whether a centring is done;
- ``solver``: `Solver`, solve-field run and killed past its limit;
- ``processes``: SOLVE, SYNC, CENTER, PRECISE_GOTO on the rig's camera and mount;
- ``vectors``, ``face``: the vectors, `AstrometryFace` (one `Role`);
- ``agent``: `make_device`, `AstrometryDriver`, `make_driver`; ``main``: the executable.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_driver"]


def make_driver(host: str | None = None, port: int | None = None, **options: Any) -> Any:
    """The agent's driver (`agent.make_driver`), for ``indipyserver
    indipyagents.astrometry``."""
    from .agent import make_driver as make

    return make(host, port, **options)
