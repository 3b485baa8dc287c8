"""In-process Python drivers loaded from a file or a module, for the ``indipyserver`` command.

A driver file is imported under a name of its own (its ``if __name__ == "__main__":`` block not
run) and asked for its drivers: ``make_driver()``, else a module-level ``drivers`` list, else
``driver``. What goes wrong becomes one `DriverLoadError` line the command prints at start;
a file that starts a server or an event loop when imported (what a script run by ``python``
ends with) is told so, with its line and what to change.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import linecache
import os
import sys
import traceback
from collections.abc import Iterable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["DriverLoadError", "load_python_drivers"]


class DriverLoadError(ValueError):
    """A driver file or module failed to import, or its make_driver() raised: one line at
    start (``_main``), its traceback only with -v."""


def _said(exc: BaseException) -> str:
    """An exception as one line: "RuntimeError: no camera", "SyntaxError: ... line 3)"."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


#: Where a server or an event loop is started: (file name ending, function names).
_STARTERS = ((os.path.join("indipyserver", "server.py"), {"run"}),
             (os.path.join("asyncio", "runners.py"), {"run"}),
             (os.path.join("asyncio", "base_events.py"), {"run_forever", "run_until_complete"}))


def _import_failed(origin: str, exc: BaseException) -> DriverLoadError:
    """The error for a driver file or module that raised while imported. A module-level
    ``IPyServer(...).run()`` or ``asyncio.run(...)`` (what a script run by ``python`` ends
    with) fails here because this command's loop is already running: said as such, with the
    line and what to do, not as the error's own words (which blame coroutines and Jupyter)."""
    started = _started_at_import(exc)
    if started is None:
        return DriverLoadError(f"importing {origin} failed: {_said(exc)}")
    filename, lineno, line = started
    return DriverLoadError(
        f"{origin} starts a server (or an event loop) when it is imported: {filename}, line "
        f"{lineno}: {line}. indipyserver imports the file and serves its driver itself: put "
        "that line under 'if __name__ == \"__main__\":' (then 'python FILE' still runs it), "
        "and give the driver a module-level name 'driver' (or a make_driver() function)")


def _started_at_import(exc: BaseException) -> tuple[str, int, str] | None:
    """(file, line number, source) of the importing code's call that started a server or an
    event loop, when `exc` was raised inside such a call; None otherwise."""
    if not isinstance(exc, RuntimeError):
        return None
    frames = list(traceback.walk_tb(exc.__traceback__))
    for index, (frame, _) in enumerate(frames):
        code = frame.f_code
        if any(code.co_filename.endswith(end) and code.co_name in names
               for end, names in _STARTERS) and index > 0:
            if inspect.iscoroutine(coro := frame.f_locals.get("main")):
                coro.close()  # asyncio.run's, never to run: no "never awaited" warning
            caller, lineno = frames[index - 1]
            filename = caller.f_code.co_filename
            source = (linecache.getline(filename, lineno) or "").strip()
            return filename, lineno, source
    return None


def _drivers_from(module: Any, origin: str) -> list[Any]:
    """The IPyDriver instances a module offers: make_driver(), then `drivers`, then `driver`."""
    if callable(getattr(module, "make_driver", None)):
        try:
            made = module.make_driver()
        except Exception as exc:
            raise DriverLoadError(f"{origin}: make_driver() failed: {_said(exc)}") from exc
    elif hasattr(module, "drivers"):
        made = module.drivers
    elif hasattr(module, "driver"):
        made = module.driver
    else:
        raise ValueError(f"{origin} has no make_driver(), `drivers` or `driver`")
    found = list(made) if isinstance(made, Iterable) and not hasattr(made, "serve") else [made]
    for driver in found:
        if not hasattr(driver, "serve"):
            raise ValueError(f"{origin} gave {driver!r}, which is not an IPyDriver")
    return found


def load_python_drivers(scripts: Sequence[str] = (), modules: Sequence[str] = ()) -> list[Any]:
    """Import driver files and modules and collect their drivers; raises ValueError on failure."""
    drivers: list[Any] = []
    for path in scripts:
        name = f"indipyserver_script_{Path(path).stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        # The script's own directory first, so its sibling imports work as when run directly.
        sys.path.insert(0, str(Path(path).resolve().parent))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise _import_failed(path, exc) from exc
        drivers += _drivers_from(module, path)
    if modules and "" not in sys.path and os.getcwd() not in sys.path:
        # As ``python -m``: a module beside the user is found (the console script's path
        # starts at its own bin directory instead).
        sys.path.insert(0, os.getcwd())
    for name in modules:
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            raise _import_failed(name, exc) from exc
        drivers += _drivers_from(module, name)
    return drivers
