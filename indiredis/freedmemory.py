"""A bridge process keeps the memory of the BLOBs it freed for the next ones (glibc's malloc).

A bridge moving BLOBs allocates and frees several buffers the size of a whole element for
each one: the element joined from its reads, paho's packet of it, paho's slices of that packet
while the socket takes it in parts, paho's copies of a payload it receives. glibc serves an
allocation above its mmap threshold (adjusted as it goes, at most 32 MiB) with a fresh
mapping, and hands memory freed at the top of its heap back to the kernel past its trim
threshold, so such buffers keep faulting in freshly zeroed pages: thousands of page faults for
a 13.5 MB element, each time. `keep_freed_memory` fixes the mmap threshold at its highest and
raises the trim threshold, so those buffers come from the heap and its pages are reused.

Measured with ``bench/mqttblobs.py`` (bench/RESULTS.md): inditomqtt's and mqtttoport's CPU
per BLOB fell by about a quarter and a tenth. The price: up to `TRIM_THRESHOLD` bytes of
freed memory stay with the process instead of going back to the system, and elements of up
to 32 MiB come from the heap. The command line (``python -m indiredis``) calls it; a program
that runs a bridge itself decides for its own process.

Only where the C library has glibc's ``mallopt`` (Linux with glibc; musl's does nothing and
says so); elsewhere nothing changes. The environment's own settings
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES``) win.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

logger = logging.getLogger(__name__)

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's highest on 64-bit systems
TRIM_THRESHOLD = 128 * 1024 * 1024

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_ENVIRONMENT = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def keep_freed_memory() -> bool:
    """Set glibc's thresholds for this process (see the module docstring); True if they
    were set, False where there is no such malloc or the environment sets its own."""
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _ENVIRONMENT):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = (int(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) == 1
            and int(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) == 1)
    logger.debug("malloc thresholds for large buffers %s", "set" if done else "not set")
    return done
