"""The client library's public paths keep working after its modules moved into layer folders.

Protects: indipyclient 0.9.4's module paths (``indipyclient.events``, ``.ipyclient``,
``.queclient``) and the paths this project's guides name (``indipyclient.properties``,
``indipyclient.roles``, ``python -m indipyclient.getprop``...) give the very objects the model,
session and front-end folders define, so a 0.9.4 script's imports and ``isinstance`` checks
behave as before; and the package's top level stays a short list of public modules (issue 57
item 3).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import indipyclient

PUBLIC = {
    # 0.9.4's paths and the names its users import from them
    "indipyclient.events": ("indipyclient.model.events",
                            ["Message", "delProperty", "defNumberVector", "setBLOBVector",
                             "ConnectionMade", "ConnectionLost", "VectorTimeOut"]),
    "indipyclient.ipyclient": ("indipyclient.session.ipyclient", ["IPyClient"]),
    "indipyclient.queclient": ("indipyclient.session.queclient",
                               ["QueClient", "runqueclient", "EventItem"]),
    # this project's documented paths
    "indipyclient.properties": ("indipyclient.model.properties", ["Device", "PropertyVector"]),
    "indipyclient.roles": ("indipyclient.frontends.roles",
                           ["Camera", "Mount", "Focuser", "FilterWheel", "Image", "RoleError",
                            "devices"]),
}


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_a_public_path_gives_the_objects_its_layer_defines(path: str) -> None:
    home, names = PUBLIC[path]
    public, defined = importlib.import_module(path), importlib.import_module(home)
    for name in names:
        assert getattr(public, name) is getattr(defined, name), (path, name)


def test_the_package_names_are_the_layers_objects() -> None:
    """``indipyclient.connect`` is the function (no module of that name shadows it), and the
    package's names are the ones its layers define."""
    from indipyclient.model.tree import Model
    from indipyclient.session import connect as connect_module

    assert indipyclient.connect is connect_module.connect
    assert indipyclient.Model is Model
    assert indipyclient.IPyClient is importlib.import_module("indipyclient.ipyclient").IPyClient


@pytest.mark.parametrize("tool", ["getprop", "setprop", "eval", "watch"])
def test_the_python_m_tools_keep_their_paths(tool: str) -> None:
    module = importlib.import_module(f"indipyclient.{tool}")
    assert callable(module.main)


def test_the_top_level_is_a_short_list_of_public_modules() -> None:
    """About a dozen modules; everything else lives in model/, session/ or frontends/."""
    top = Path(indipyclient.__file__).parent
    modules = sorted(p.stem for p in top.glob("*.py"))
    folders = sorted(p.name for p in top.iterdir() if (p / "__init__.py").exists())
    assert folders == ["frontends", "model", "session"]
    assert modules == ["__init__", "eval", "events", "getprop", "ipyclient", "properties",
                       "queclient", "roles", "setprop", "watch"]
