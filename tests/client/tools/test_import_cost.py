"""The command-line tools start fast: importing getprop loads the protocol core, not the frameworks.

indipyclient's and indipydriver's package ``__init__`` resolve their public names lazily
(PEP 562), so ``indipy-getprop`` does not pay for asyncio, the client library or the driver
framework at every run. These tests protect that, and that the lazy packages still give every
public name the eager ones gave.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

FRAMEWORK = (
    "asyncio",
    "indipyclient.session.connect",
    "indipyclient.session.ipyclient",
    "indipyclient.model.tree",
    "indipydriver.driver",
    "indipydriver.device",
    "indipydriver.members",
    "indipydriver.vectors",
    "indipydriver.compat3x",
)


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("statement", [
    "import indipyclient.frontends.tools.getprop",
    "import indipyclient.frontends.tools.blockingconnection, indipyclient.frontends.tools.specs",  # what every tool shares
])
def test_getprop_import_leaves_out_asyncio_and_the_frameworks(statement: str) -> None:
    """``import indipyclient.frontends.tools.getprop`` loads neither asyncio nor the driver framework."""
    loaded = _loaded_after(statement)
    assert not loaded & set(FRAMEWORK), sorted(loaded & set(FRAMEWORK))


def test_importing_the_packages_alone_loads_nothing_else_of_ours() -> None:
    """``import indipyclient, indipydriver`` imports no submodule until a name is used."""
    loaded = _loaded_after("import indipyclient, indipydriver")
    ours = sorted(m for m in loaded if m.startswith(("indipyclient.", "indipydriver.")))
    assert ours == []


@pytest.mark.parametrize("package", ["indipyclient", "indipydriver"])
def test_every_public_name_still_resolves(package: str) -> None:
    """Each name in ``__all__`` is importable from the package, as the eager ``__init__`` gave."""
    code = (f"import {package} as p\n"
            "missing = [n for n in p.__all__ if getattr(p, n, None) is None]\n"
            "assert not missing, missing\n"
            "assert set(p.__all__) <= set(dir(p))\n"
            f"from {package} import *\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_connect_stays_the_function_when_its_module_is_imported_first() -> None:
    """Loading the submodule ``indipyclient.session.connect`` first must not hide ``connect()``."""
    code = ("import indipyclient.frontends.tools.watch\n"  # imports ..connect (the module) first
            "import indipyclient, inspect\n"
            "assert inspect.isfunction(indipyclient.connect), indipyclient.connect\n"
            "from indipyclient import connect\n"
            "assert inspect.isfunction(connect)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    """``hasattr`` and ``getattr`` with a default keep working on the lazy packages."""
    import indipyclient
    import indipydriver

    assert not hasattr(indipyclient, "NoSuchName")
    assert getattr(indipydriver, "NoSuchName", 7) == 7


def test_a_tool_freezes_the_heap_before_the_final_collection() -> None:
    """After a tool ran, the heap is frozen when the interpreter shuts down (its exit is quick).

    An exit handler registered before the tool runs is called after the tool's (LIFO) and sees
    the frozen objects; without the tool's handler it would see none.
    """
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
            "from indipyclient.frontends.tools.getprop import main\n"
            "main(['--help'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines()[-1] == "frozen True"


def test_getprop_loads_little_before_it_sends_its_request() -> None:
    """Importing the tool (all it runs before sending getProperties) loads no protocol core,
    typing or dataclasses: each is milliseconds the server could already be answering in."""
    loaded = _loaded_after("import indipyclient.frontends.tools.getprop")
    heavy = {"typing", "dataclasses", "indipycore.protocol", "indipyclient.frontends.tools.getpropquery"}
    assert not loaded & heavy, sorted(loaded & heavy)
