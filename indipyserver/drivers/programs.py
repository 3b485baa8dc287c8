"""Finding and checking an executable driver's program before it is started, and the hints
given when it cannot be started.

``check_program`` refuses a typo'd name, a path to nothing or a file without its executable
bit when the driver is added, saying what to do, rather than leaving ``drivers.executable`` to
restart it with backoff for minutes; that module asks `start_hint` what to add to a failed
spawn's error, and ``UNRUNNABLE_ERRNOS`` whether the program can ever run."""

from __future__ import annotations

import difflib
import errno
import os
import shutil

__all__ = ["UNRUNNABLE_ERRNOS", "check_program", "start_hint"]


#: exec(2) errors that say the program cannot be run at all (not a passing shortage such as
#: EAGAIN or ENOMEM, which a restart may get past).
UNRUNNABLE_ERRNOS = frozenset({errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENOEXEC,
                               errno.EISDIR, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG})


def check_program(program: str, path: str | None = None) -> str:
    """The file `program` runs as, looked up as the spawn does (a name on `path`, by default
    ``PATH``; a name with a ``/`` as a path); raises FileNotFoundError or PermissionError,
    saying which driver and what to do, when there is none or it is not executable.

    ``IPyServer.add_exdriver`` calls it, so a typo'd driver is refused when it is given
    instead of being retried with backoff for minutes (issue: a new user's stumbles).
    """
    if os.sep in program:
        if not os.path.exists(program):
            raise FileNotFoundError(f"driver {program}: no such file")
        if os.path.isdir(program):
            raise IsADirectoryError(f"driver {program}: is a folder, not a program")
        if not os.access(program, os.X_OK):
            hint = start_hint(program, PermissionError(errno.EACCES, "not executable"))
            raise PermissionError(f"driver {program}: {hint.removeprefix('; ')}")
        return program
    found = shutil.which(program, path=path)
    if found is not None:
        return found
    message = f"driver {program}: not found on PATH"
    if os.path.isfile(program):
        message += f" (there is one in this folder: give it as ./{program})"
    elif program.endswith(".py"):
        message = f"driver {program}: no such file, nor a program of that name on PATH"
    elif _looks_remote(program):
        message += (f"; did you mean @{program}? (a remote server is given as "
                    f"[device]@host[:port])")
    elif close := _close_program(program, path):
        message += f"; did you mean {close}?"
    raise FileNotFoundError(message)


def _looks_remote(program: str) -> bool:
    """Whether `program` reads as host:port or host.domain (a remote given without its ``@``):
    a driver's name has neither."""
    host, colon, port = program.rpartition(":")
    if colon:
        return bool(host) and port.isdigit() and all(c.isalnum() or c in ".-_" for c in host)
    labels = program.split(".")
    if len(labels) == 4 and all(label.isdigit() for label in labels):
        return True  # an IPv4 address
    return program == "localhost" or (
        len(labels) > 1 and all(label.isalnum() or "-" in label for label in labels)
        and labels[-1].isalpha() and labels[-1] not in ("py", "sh", "exe"))


def _close_program(program: str, path: str | None) -> str | None:
    """The program on `path` whose name is closest to `program` (a typo'd simulator name)."""
    names: set[str] = set()
    for folder in (path if path is not None else os.environ.get("PATH", os.defpath)).split(
        os.pathsep
    ):
        try:
            names.update(entry.name for entry in os.scandir(folder or ".")
                         if entry.name[:4] == program[:4])
        except OSError:
            continue
    close = difflib.get_close_matches(program, sorted(names), n=1, cutoff=0.8)
    return close[0] if close else None


def start_hint(program: str, exc: OSError) -> str:
    """What to do about a driver that cannot be started, when the error alone does not say."""
    if exc.errno == errno.ENOEXEC:
        if program.endswith(".py"):
            return ("; a Python driver run as a program needs a '#!/usr/bin/env python3' first "
                    "line (without the executable bit the indipyserver command loads a .py "
                    "file in-process)")
        return "; it is not a program this system can run (no '#!' line?)"
    if isinstance(exc, FileNotFoundError) and os.sep not in program:
        return " (not found on PATH)"
    if isinstance(exc, PermissionError):
        if program.endswith(".py"):
            return ("; it is not executable: 'chmod +x' it (with a '#!/usr/bin/env python3' "
                    "first line), or serve it in-process: indipyserver FILE.py")
        return "; it is not executable ('chmod +x' it?)"
    return ""
