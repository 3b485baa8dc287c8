"""The PEP 562 loader of a package whose public names are imported at first use.

A program that needs one part of a package (a command-line tool, the protocol core) should not
pay for the rest at start-up; `indipydriver`, `indipydriver.standard`, `indipyclient` and
`indiredis` each map their public names to the modules defining them and let this load each
on first use. `lazy_package` gives such a package, in one line, its ``__all__`` too.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the tools' start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Mapping
    from typing import Any


def lazy_names(
    package: str, table: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of `package`: `table` maps each name to the module
    defining it, a submodule's name relative to the package (``"driver"``) or, with a dot, a
    module's absolute name (``"indipycore.interface"``). A name, once imported, is kept in
    the package, so its ``__getattr__`` is not called for it again."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(module if "." in module else f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *table})

    return __getattr__, __dir__


def lazy_package(
    package: str, table: Mapping[str, str], *also: str
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__all__``, ``__getattr__`` and ``__dir__`` of `package` (`lazy_names`): its public
    names are the table's, in the table's order, then `also` (names the package defines
    itself, such as ``version``), so each name is written once, in the table."""
    return [*table, *also], *lazy_names(package, table)
