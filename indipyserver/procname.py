"""The process is named ``indiserver`` when the command is run under that name.

indiwebmanager (PyPI ``indiweb``) finds the server it runs, or one left from before it
restarted, by process: psutil's ``name() == "indiserver"`` and ``-p PORT`` in its command line.
Run through a symlink named ``indiserver``, the command is ``python .../indiserver -p PORT ...``:
the arguments are there as given, and the kernel names a script after the file it was run as;
but run as ``python3 .../indiserver`` (or by anything that execs the interpreter itself) the
process is named after the interpreter. `name_process_as_invoked` sets the name itself (Linux
``prctl(PR_SET_NAME)``, through ctypes: the standard library has no call for it), so every way
of running it as ``indiserver`` is found alike.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from collections.abc import Sequence

__all__ = ["INDISERVER", "invoked_as", "name_process_as_invoked", "set_process_name"]

logger = logging.getLogger(__name__)

#: The name indiwebmanager and ``pkill indiserver`` look for.
INDISERVER = "indiserver"

PR_SET_NAME = 15  # linux/prctl.h
#: The kernel keeps 15 bytes of a process name (TASK_COMM_LEN 16, with the NUL).
NAME_BYTES = 15


def invoked_as(argv: Sequence[str] | None = None) -> str:
    """``"indiserver"`` when the command was run under that name, else ``""``.

    `argv` is ``sys.argv``, whose first item is the script the symlink (or ``python3 PATH``)
    ran.
    """
    args = sys.argv if argv is None else argv
    return INDISERVER if args and os.path.basename(args[0]) == INDISERVER else ""


def set_process_name(name: str) -> bool:
    """Name this process `name` (its first 15 bytes), as ``ps``, ``pkill`` and psutil's
    ``name()`` read it; True if done. Linux only. Call it from the main thread: the name is
    the calling thread's, and the process's is its main thread's."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    if prctl(PR_SET_NAME, name.encode()[:NAME_BYTES], 0, 0, 0) != 0:
        logger.debug("prctl(PR_SET_NAME) failed: %s", os.strerror(ctypes.get_errno()))
        return False
    return True


def name_process_as_invoked() -> str:
    """Name the process ``indiserver`` if it was run as such; the name set, or ``""``."""
    name = invoked_as()
    if name and set_process_name(name):
        return name
    return ""
