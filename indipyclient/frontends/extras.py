"""The optional extras a command needs, checked before it starts.

The toolkit installs without its extras (the driver, the server and the tools need only the
standard library), so a user who runs ``indipyweb`` or ``indipyterm`` after a plain
``pip install .`` used to get a ``ModuleNotFoundError`` traceback. The commands ask here first
and say in one line which extra to install, and how, from a clone or from a wheel.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec

from indipycore.commandline import install_hint

__all__ = ["MissingExtra", "missing_modules", "require_extra"]


class MissingExtra(SystemExit):
    """Raised (a ``SystemExit`` with status 2) when a command's extra is not installed."""


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The names in ``modules`` that cannot be imported here (found by spec, not imported)."""
    missing = []
    for name in modules:
        try:
            found = find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def require_extra(program: str, extra: str, modules: tuple[str, ...]) -> None:
    """Return when every module of ``extra`` is importable; otherwise print what to install
    on standard error and raise :class:`MissingExtra` (exit status 2)."""
    missing = missing_modules(modules)
    if not missing:
        return
    print(f"{program}: the optional extra [{extra}] is not installed (missing: "
          f"{', '.join(missing)}). Install it: {install_hint(extra)}.",
          file=sys.stderr)
    raise MissingExtra(2)
