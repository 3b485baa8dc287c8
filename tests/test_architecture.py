"""docs/architecture.md is the map of the code, and this keeps it true (standard library `ast`).

Protects: every module of the packages its Layers block names (`indipydriver`,
`indipyclient`, `indipyserver`, ...) has a row in its file map (and no
row names a module that is gone); every import -- at the top, inside a function or under
``TYPE_CHECKING`` -- goes to the importer's own layer or one above it in the page's Layers
block, never below (so `indipyserver.routing` cannot import a client or a driver connection);
no module imports itself back through others; the driver side (`indipydriver`,
`indipyserver`, `indipysimulators`) and the client side (`indipyclient` and its front-end
packages) import nothing of each other but where the page's hosts block says a front end hosts
a server; `indipycore` imports no other package of the project; and the driver side and
the core import nothing outside the standard library but the guarded optional imports the
page lists (rule 6). On the client side, the
page's client layers (model, then session, then front ends) hold too: every module of
`indipyclient` is in one of them, none imports a layer below its own, and the model imports
neither asyncio nor sockets.

Every package -- every top-level folder with an ``__init__.py``, found, not listed -- has a
line in the Layers block. Between packages there is no cycle either: here a *package* is a
top-level folder (``indipyalpaca``, not ``indipyalpaca.wire``), the unit a user installs an
extra for, imports by name and reads as one thing. The Layers block may put a package's parts
on several floors (``indipyalpaca.wire`` above the client library, ``indipyalpaca.face`` below
it), and then each module-level import can go upward while the packages still import each
other both ways -- as ``indipyclient`` (its conformance checker read Alpaca replies with
``indipyalpaca.wire``) and ``indipyalpaca`` (its face is an ``indipyclient`` client) did until
the checker became the package ``indipyconform``. So the package-level import graph must have
no cycle, and no package imports one whose floor (its lowest line in the Layers block) is
below its own.

The page's agents section is checked too: its control table is the sequencer's `TABLE`, its
triggers are `KINDS` in order, its rooms table names files that exist, and the agents keep
their pairs apart (the watchdog imports neither the sequencer nor the guider, nothing imports
the guider, the astrometry agent is imported only by the sequencer and the assembly), and in
`indipyagents` a name says one thing: no class name defined twice, no module name in two
folders but the rooms every agent has (``agent``, ``face``, ``main``, ``vectors``).
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Collection
from collections.abc import Mapping
from pathlib import Path

import pytest
from repopackages import packages

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "architecture.md"


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of every package of the repository (a
    package by its name)."""
    found = {}
    for package in packages(REPO):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def mapped_files() -> set[str]:
    """The files the page's file map names: the first cell of each row, where a bare name
    after a path (`cli.py`, `__main__.py`) is in that path's folder."""
    files = set()
    for line in DOC.read_text().splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        folder = ""
        for name in re.findall(r"`([^`]+\.py)`", cell):
            if "/" in name:
                folder = name.rsplit("/", 1)[0]
                files.add(name)
            else:
                files.add(f"{folder}/{name}")
    return files


def layers() -> list[str]:
    """The layers, top (imported by all below it) first, from the page's Layers block."""
    text = DOC.read_text()
    block = text.split("<!-- layers -->", 1)[1].split("<!-- /layers -->", 1)[0]
    return [line.split()[0] for line in block.strip().strip("`").strip().splitlines()]


def layer_of(module: str, order: list[str]) -> int:
    """The index of the most specific layer `module` is in."""
    best = max((layer for layer in order if module == layer or module.startswith(layer + ".")),
               key=len)
    return order.index(best)


@functools.cache
def _import_nodes(path: Path, stamp: tuple[int, int]) -> tuple[ast.Import | ast.ImportFrom, ...]:
    """Every import statement of the file at `path` as it is at `stamp` (its mtime and size):
    parsed once a run, not once for each test that walks the import graph."""
    return tuple(node for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, (ast.Import, ast.ImportFrom)))


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `module` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    found = set()
    stat = path.stat()
    for node in _import_nodes(path, (stat.st_mtime_ns, stat.st_size)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - node.level + 1]
                base = ".".join(here + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:  # `import a.b.c` of a name inside a module
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def client_layers() -> list[list[str]]:
    """The client side's layers, top first, from the page's client-layers block: the module
    and package names each line lists after its layer's name."""
    text = DOC.read_text()
    block = text.split("<!-- client-layers -->", 1)[1].split("<!-- /client-layers -->", 1)[0]
    lines = block.strip().strip("`").strip().splitlines()
    return [[w for w in line.split() if "." in w or w.startswith("indi")] for line in lines]


def client_layer_of(module: str, order: list[list[str]]) -> int | None:
    """The index of the client layer that lists `module` (or its package), None if none. The
    library's modules are listed one by one (its ``__init__`` as ``indipyclient.__init__``),
    so a new one is in no layer until the page places it."""
    if module == "indipyclient":
        module = "indipyclient.__init__"
    best: tuple[int, int] | None = None
    for index, names in enumerate(order):
        for name in names:
            inside = module == name or module.startswith(name + ".")
            if inside and (best is None or len(name) > best[1]):
                best = (index, len(name))
    return None if best is None else best[0]


def test_the_client_side_keeps_to_its_layers() -> None:
    """Model, then session, then front ends (docs/architecture.md): every module of the client
    library is in a layer, no import goes to a lower one, and the model is pure."""
    order = client_layers()
    assert order[:2] == [["indipyclient.model"], ["indipyclient.session"]]
    assert "indipyclient.frontends" in order[2] and "indipyterm" in order[2]
    known = modules()
    unplaced = [m for m in known if m.startswith("indipyclient")
                and client_layer_of(m, order) is None]
    assert unplaced == [], "indipyclient modules in no client layer of docs/architecture.md"
    wrong = []
    impure = []
    for module, path in known.items():
        mine = client_layer_of(module, order)
        if mine is None:
            continue
        for target in imports(module, path, known):
            theirs = client_layer_of(target, order)
            if theirs is not None and theirs > mine:
                wrong.append(f"{module} imports {target}")
        if mine == 0:
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                impure += [f"{module} imports {n}" for n in names
                           if n.split(".")[0] in {"asyncio", "socket", "selectors", "ssl"}]
    assert wrong == [], "imports that break the client layers of docs/architecture.md"
    assert impure == [], "the client's model must not do I/O through asyncio or sockets"


def test_every_module_has_a_row_in_the_file_map_and_every_row_a_module() -> None:
    files = {path.relative_to(REPO).as_posix() for path in modules().values()}
    mapped = mapped_files()
    assert sorted(files - mapped) == [], "modules missing from docs/architecture.md's file map"
    assert sorted(mapped - files) == [], "rows of docs/architecture.md naming no module"


def test_every_package_has_a_floor_in_the_layers_and_a_place_on_the_maps() -> None:
    """A new package cannot slip past the layer and cycle checks: every top-level folder with an
    ``__init__.py`` is named in the Layers block, and every package the block names exists.
    The one-page map that opens docs/architecture.md and the README's layout table show every
    package's folder too."""
    found = packages(REPO)
    named = {layer.split(".")[0] for layer in layers()}
    assert "indipyconform" in found and "indipyalpaca" in found
    assert sorted(set(found) - named) == [], "packages with no line in docs/architecture.md"
    assert sorted(named - set(found)) == [], "Layers lines naming no package"
    one_page = DOC.read_text().split("### What each folder may import", 1)[0]
    assert len(one_page.splitlines()) < 60, "the one-page map is longer than a page"
    layout = (REPO / "README.md").read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    for package in found:
        assert f"`{package}/" in one_page, f"{package} is not on docs/architecture.md's map"
        assert f"`{package}/" in layout, f"{package} is not in the README's layout table"


def one_page() -> str:
    """The page's opening: the drawing of the floors and the table under it."""
    return DOC.read_text().split("### What each folder may import", 1)[0]


def picture() -> dict[str, int]:
    """Folder -> floor, from the drawing that opens the page: every folder (``name/``,
    ``name/part/``) on a line that starts with its floor's number."""
    drawing = one_page().split("```", 2)[1]
    found = {}
    for line in drawing.splitlines():
        floor = re.match(r"\s*(\d+)\s", line)
        if floor:
            for folder in re.findall(r"(?<![\w/])[A-Za-z]\w*(?:/\w+)*/", line):
                found[folder] = int(floor.group(1))
    return found


def floor_table() -> dict[str, int]:
    """Folder -> floor, from the table under the drawing (its rows `| N | `folder/`, ... |`)."""
    found = {}
    for line in one_page().splitlines():
        row = re.match(r"\| (\d+) \| ([^|]*) \|", line)
        if row:
            found.update(dict.fromkeys(re.findall(r"`([^`]+/)`", row.group(2)),
                                       int(row.group(1))))
    return found


def picture_folder(module: str, drawn: Collection[str]) -> str | None:
    """The most specific folder of the drawing that holds `module`, None if none does."""
    path = module.replace(".", "/") + "/"
    return max((folder for folder in drawn if path.startswith(folder)), key=len, default=None)


def test_the_picture_shows_every_package_on_the_floor_the_table_gives() -> None:
    """The drawing at the top of the page is checked, not only the table under it: the same
    folders on the same floors in both, every package on it, and every import of a module goes
    to a folder on its own floor of the drawing or one below (a module in no folder of the
    drawing, as indipyalpaca's own file, imports nothing of the project)."""
    drawn = picture()
    assert drawn == floor_table(), "the drawing and the table under it disagree"
    assert sorted(set(packages(REPO)) - {folder.split("/")[0] for folder in drawn}) == [], \
        "packages missing from the drawing of the floors"
    known = modules()
    wrong = []
    for module, path in known.items():
        mine = picture_folder(module, drawn)
        targets = imports(module, path, known)
        if mine is None:
            wrong += [f"{module} (on no floor) imports {target}" for target in targets]
            continue
        for target in targets:
            theirs = picture_folder(target, drawn)
            if theirs is None or drawn[theirs] > drawn[mine]:
                wrong.append(f"{module} ({mine}, floor {drawn[mine]}) imports {target} "
                             f"({theirs}, floor {drawn.get(theirs or '')})")
    assert wrong == [], "imports up a floor of the drawing"


def package_imports(known: dict[str, Path]) -> dict[str, set[str]]:
    """Package -> the other packages its modules import (a package is a top-level folder;
    see the module's docstring for why not ``indipyalpaca.wire``)."""
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        mine = module.split(".")[0]
        graph.setdefault(mine, set())
        graph[mine] |= {t.split(".")[0] for t in imports(module, path, known)} - {mine}
    return graph


def package_floors(order: list[str]) -> dict[str, int]:
    """Package -> its floor: the index of its lowest line in the Layers block (a package may
    import only packages whose floor is above its own)."""
    return {layer.split(".")[0]: index for index, layer in enumerate(order)}


def packages_up_a_floor(graph: Mapping[str, Collection[str]], floors: dict[str, int]) -> list[str]:
    """Each package import that goes to a package whose floor is below the importer's."""
    return [f"{package} imports {target}" for package in sorted(graph)
            for target in sorted(graph[package]) if floors[target] > floors[package]]


def test_no_package_imports_another_back() -> None:
    """The package-level import graph has no cycle: `indipyclient` imports nothing of
    `indipyalpaca`, whose face imports `indipyclient` (the conformance checker, which needs
    both, is the package `indipyconform` above them)."""
    graph = package_imports(modules())
    assert cycles(graph) == [], "packages that import each other (through any others)"
    assert "indipyalpaca" not in graph["indipyclient"]
    assert {"indipyclient", "indipyalpaca"} <= graph["indipyconform"]


def test_no_package_imports_one_below_its_floor() -> None:
    """With the Layers block's lines read per package (a package's floor is its lowest line),
    every package imports only packages on the floors above it."""
    graph = package_imports(modules())
    assert packages_up_a_floor(graph, package_floors(layers())) == []


def test_no_import_goes_below_the_importers_layer() -> None:
    order = layers()
    assert order[:3] == ["indipycore.protocol", "indipycore", "indipydriver"]
    assert "indipyserver" in order
    assert "indipyclient" in order
    known = modules()
    wrong = []
    for module, path in known.items():
        mine = layer_of(init_named(module, path), order)
        for target in imports(module, path, known):
            if layer_of(init_named(target, known[target]), order) > mine:
                wrong.append(f"{module} imports {target}")
    assert wrong == [], "imports that break the layers of docs/architecture.md"


def init_named(module: str, path: Path) -> str:
    """A package's own file as ``NAME.__init__``, so a Layers line can place it apart from its
    package's modules (``indipyagents.imager.__init__``, an old path to the assembly that
    imports indilib's face back, stands below both)."""
    return f"{module}.__init__" if path.name == "__init__.py" else module


DRIVER_SIDE = ("indipydriver", "indipyserver", "indipysimulators")
CLIENT_SIDE = ("indipyclient", "indipyterm", "indipyweb", "indiredis", "indimqttredis", "PyIndi",
               "indipyconform")
#: On neither side: the core both stand on, the Alpaca package with a part on each side, the
#: agents, each a driver (its face) and a client of its own server (its hands), and discovery,
#: which the server announces through and the client library lists through.
NEITHER_SIDE = ("indipycore", "indipyalpaca", "indipyagents", "indipydiscovery")


def hosts() -> set[str]:
    """The client-side modules the page's hosts block lets import the server (each hosts one)."""
    text = DOC.read_text()
    block = text.split("<!-- hosts -->", 1)[1].split("<!-- /hosts -->", 1)[0]
    return {line.split()[0] for line in block.strip().strip("`").strip().splitlines()}


# indipyalpaca has a part on each side and its wire at the core's level (on neither side):
# serving Alpaca (face) is a client of the server, consuming Alpaca (devices) a driver.
ALPACA_SIDES = {"indipyalpaca.face": "client", "indipyalpaca.devices": "driver"}


def side_of(module: str) -> str | None:
    for part, side in ALPACA_SIDES.items():
        if module == part or module.startswith(part + "."):
            return side
    top = module.split(".")[0]
    return "driver" if top in DRIVER_SIDE else "client" if top in CLIENT_SIDE else None


def cross_imports(known: dict[str, Path], allowed: set[str]) -> list[str]:
    """Each import from one side (driver framework, server, simulators) to the other (the
    client library and its front ends), but those of the `allowed` hosting modules."""
    wrong = []
    for module, path in known.items():
        mine = side_of(module)
        if mine is None:
            continue
        for target in imports(module, path, known):
            theirs = side_of(target)
            if theirs is not None and theirs != mine and module not in allowed:
                wrong.append(f"{module} imports {target}")
    return wrong


def test_driver_and_client_are_siblings_on_the_core() -> None:
    """Neither side imports the other (issue 57 item 1): indipyclient, the terminal, the web
    client, the bridges, PyIndi and the conformance checker stand on `indipycore`, not on the
    driver framework, and only the modules the page lists as hosting a server import it. Every
    package is placed on a side or on neither (a new one is not left out of the check)."""
    placed = DRIVER_SIDE + CLIENT_SIDE + NEITHER_SIDE
    assert sorted(set(packages(REPO)) - set(placed)) == [], "packages on no side"
    known = modules()
    listed = hosts()
    assert listed and all(module in known for module in listed), "hosts naming no module"
    assert cross_imports(known, listed) == [], "imports across the sibling line"
    for module in listed:  # each listed host really hosts: it imports the other side
        other = "client" if side_of(module) == "driver" else "driver"
        assert any(side_of(t) == other for t in imports(module, known[module], known)), module


def test_the_core_imports_nothing_above_it() -> None:
    """indipycore is standard library only and imports no other package of the project."""
    known = modules()
    wrong = [f"{m} imports {t}" for m, path in known.items() if m.startswith("indipycore")
             for t in imports(m, path, known) if not t.startswith("indipycore")]
    assert wrong == []


#: The driver side and the core: standard library only at run time (the page's rule 6).
STANDARD_LIBRARY_ONLY = ("indipycore", "indipydriver", "indipyserver", "indipysimulators")


def optional_imports() -> set[tuple[str, str]]:
    """(module, outside package) pairs the page's optional-imports block lets through."""
    text = DOC.read_text()
    block = text.split("<!-- optional-imports -->", 1)[1].split("<!-- /optional-imports -->", 1)[0]
    return {(line.split()[0], line.split()[1])
            for line in block.strip().strip("`").strip().splitlines()}


def outside_imports(module: str, path: Path) -> set[str]:
    """The top-level names of what `module` imports from outside the standard library and
    the project, anywhere in its file."""
    ours = set(packages(REPO)) | {"__future__"}
    stat = path.stat()
    found = set()
    for node in _import_nodes(path, (stat.st_mtime_ns, stat.st_size)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if node.level == 0 else []
        found |= {n.split(".")[0] for n in names} - ours - sys.stdlib_module_names
    return found


def test_the_driver_side_and_the_core_import_only_the_standard_library() -> None:
    """Rule 6: nothing outside the standard library on the driver side and the core but the
    guarded optional imports the page lists (each listed one still imported, so the list
    does not go stale); a third-party import elsewhere would break the base install."""
    listed = optional_imports()
    found = {(module, name) for module, path in modules().items()
             if module.split(".")[0] in STANDARD_LIBRARY_ONLY
             for name in outside_imports(module, path)}
    assert found == listed


def test_the_standard_library_check_sees_an_outside_import(tmp_path: Path) -> None:
    """`outside_imports` finds a third-party import, and neither the standard library's
    nor the project's."""
    source = tmp_path / "m.py"
    source.write_text("import os\nimport numpy as np\nfrom indipycore import fits\n"
                      "def f() -> None:\n    from httpx import Client\n")
    assert outside_imports("m", source) == {"numpy", "httpx"}


def import_circles(package: str, known: dict[str, Path]) -> list[str]:
    """Each import circle among the modules of `package` (its subpackages included), as
    "a -> b -> a"; empty when there is none."""
    inside = {m for m in known if m == package or m.startswith(package + ".")}
    return cycles({m: {t for t in imports(m, known[m], known) if t in inside} for m in inside})


def cycles(graph: Mapping[str, Collection[str]]) -> list[str]:
    """A cycle through each edge that goes back to a node on the current path of a depth-first
    walk of `graph` (node -> the nodes it imports), as "a -> b -> a"; empty exactly when the
    graph has no cycle. A target that is no node of the graph is a leaf."""
    circles: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return circles


#: How some packages keep out of circles, said when one comes back.
HOW_CIRCLES_WERE_BROKEN = {
    "indipydriver": "what a vector or device needs of its driver is `indipydriver.ports`, not "
                    "driver.py",
    "indipyclient": "the events name the vector types of `indipyclient.model.properties`, not "
                    "of the model that makes the events",
    "indipyterm": "the screens and the device search see the app as `indipyterm.ports.TermPort`",
    "indiredis": "indiredis's sites and client sides reach the blocking runner (`toredis._run`) "
                 "and the private server (`driverserver`) without either importing them back",
}


@pytest.mark.parametrize("package", packages(REPO))
def test_no_package_has_import_circles(package: str) -> None:
    """Every package (found, not listed: a new one is checked too) is free of import circles
    among its own modules, ``TYPE_CHECKING`` imports included."""
    assert import_circles(package, modules()) == [], HOW_CIRCLES_WERE_BROKEN.get(package, "")


def test_the_checks_catch_what_they_are_for() -> None:
    """The helpers see an upward import and a missing row (so the checks above can fail)."""
    client = client_layers()
    assert client_layer_of("indipyclient.model.tree", client) == 0
    assert client_layer_of("indipyclient.events", client) == 2
    assert client_layer_of("indipyclient.session.connect", client) == 1
    assert client_layer_of("indipyclient.frontends.tools.getprop", client) == 2
    assert client_layer_of("indipyweb.hub", client) == 2
    order = layers()
    assert layer_of("indipyserver.routing.router", order) < layer_of(
        "indipyserver.clients.clientconnection", order)
    assert layer_of("indipyserver.server", order) == order.index("indipyserver")
    known = modules()
    assert "indipyserver.routing.ports" in imports(
        "indipyserver.routing.router", known["indipyserver.routing.router"], known)
    assert "indipyserver/routing/router.py" in mapped_files()
    assert side_of("indipyweb.cli") == "client" and side_of("indipysimulators.ccd") == "driver"
    fake = {"indipyweb.cli": known["indipyweb.cli"], "indipyserver": known["indipyserver"],
            "indipyserver.demo": known["indipyserver.demo"]}
    assert cross_imports(fake, set()) != [] and cross_imports(fake, {"indipyweb.cli"}) == []
    drawn = picture()
    assert drawn["indipycore/protocol/"] == 0 and drawn["indipyagents/"] == 7
    assert picture_folder("indipyclient.session.connect", drawn) == "indipyclient/session/"
    assert picture_folder("indipyclient.events", drawn) == "indipyclient/"
    assert picture_folder("indipyalpaca", drawn) is None


def test_the_circle_check_finds_a_circle(tmp_path: Path) -> None:
    """`import_circles` reports a circle, even one closed under ``TYPE_CHECKING``."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import B\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    from .a import A\n")
    (package / "c.py").write_text("from . import a\n")
    known = {"pkg": package / "__init__.py", "pkg.a": package / "a.py",
             "pkg.b": package / "b.py", "pkg.c": package / "c.py"}
    assert import_circles("pkg", known) == ["pkg.a -> pkg.b -> pkg.a"]


def test_the_package_checks_catch_a_cycle_and_an_arrow_up_a_floor(tmp_path: Path) -> None:
    """On a small repository of three packages where `low` imports `mid`, `mid` imports `top`
    and `top` imports `low` back (under ``TYPE_CHECKING``), the package graph has that cycle,
    the arrow from `top` to `low` goes below `top`'s floor, and `packages` finds all three
    (and not a folder without ``__init__.py``)."""
    for name, source in {"top": "from typing import TYPE_CHECKING\n"
                                "if TYPE_CHECKING:\n    from low.deep import X\n",
                         "mid": "import top\n", "low": ""}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(source)
    (tmp_path / "low" / "deep.py").write_text("from mid import Y\n")
    (tmp_path / "data").mkdir()
    assert packages(tmp_path) == ["low", "mid", "top"]
    known = {"top": tmp_path / "top" / "__init__.py", "mid": tmp_path / "mid" / "__init__.py",
             "low": tmp_path / "low" / "__init__.py", "low.deep": tmp_path / "low" / "deep.py"}
    graph = package_imports(known)
    assert graph == {"top": {"low"}, "mid": {"top"}, "low": {"mid"}}
    assert cycles(graph) == ["low -> mid -> top -> low"]
    floors = package_floors(["top", "mid", "low"])
    assert packages_up_a_floor(graph, floors) == ["top imports low"]
    del graph["top"]
    assert cycles(graph) == [] and packages_up_a_floor(graph, floors) == []


def test_classes_split_across_files_hold_their_parts_instead_of_inheriting_them() -> None:
    """IPyDriver holds its Receiving and ClientConnection its ClientWriter (issue 30:
    composition, not a chain of base classes across files)."""
    from indipydriver import IPyDriver
    from indipydriver.receiving import Receiving
    from indipyserver.clients.clientconnection import ClientConnection
    from indipyserver.clients.writer import ClientWriter

    assert not issubclass(IPyDriver, Receiving)
    assert not issubclass(ClientConnection, ClientWriter)


def lazy_packages() -> list[str]:
    """Every package of the repository whose ``__init__.py`` loads its names at first use: it
    calls `indipycore.lazynames.lazy_package` (found, so a new one is checked too)."""
    found = []
    for module, path in modules().items():
        if path.name != "__init__.py":
            continue
        calls = {node.func.id for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        if "lazy_package" in calls:
            found.append(module)
    return found


def _type_checking_exports(package: str, tree: ast.Module) -> dict[str, str]:
    """Name -> submodule, for what a package's ``if TYPE_CHECKING:`` block re-exports to type
    checkers: ``from .mod import Name as Name`` (mypy --strict's explicit re-export) and
    ``from .mod import *`` (each name of that module's ``__all__``)."""
    import importlib

    found: dict[str, str] = {}
    for node in tree.body:
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
                and node.test.id == "TYPE_CHECKING"):
            continue
        for stmt in node.body:
            if not (isinstance(stmt, ast.ImportFrom) and stmt.level in (0, 1)):
                continue
            for alias in stmt.names:
                if alias.name == "*":
                    star = importlib.import_module(f"{package}.{stmt.module}")
                    found.update(dict.fromkeys(star.__all__, stmt.module or ""))
                elif alias.asname == alias.name and stmt.level == 0:
                    found[alias.name] = stmt.module or ""  # absolute, as the table spells it
                elif alias.asname == alias.name:
                    found[alias.name] = stmt.module or alias.name
    return found


def test_lazy_packages_name_each_public_name_once_and_re_export_it_to_type_checkers() -> None:
    """A package whose names are imported at first use (PEP 562, `lazy_names`) lists them once,
    in its table: ``__all__`` is the table's names (indiredis adds its module ``tools``), and
    the imports under TYPE_CHECKING re-export exactly those names, each from the module the
    table says (so a user's ``mypy --strict`` sees every public name, and no name that only
    type checkers see)."""
    import importlib

    lazy = lazy_packages()
    assert {"indipydriver", "indipyclient", "indipyalpaca.devices"} <= set(lazy), lazy
    for package in lazy:
        module = importlib.import_module(package)
        table: dict[str, str] = vars(module)["_LAZY"]
        tree = ast.parse(Path(module.__file__ or "").read_text())
        exports = _type_checking_exports(package, tree)
        assert list(module.__all__[: len(table)]) == list(table), package
        assert set(exports) == set(module.__all__) - {"version"}, (
            package, set(exports) ^ set(module.__all__))
        for name, submodule in table.items():
            assert exports[name] == submodule, (package, name)
            assert getattr(module, name) is not None, (package, name)


#: The agents' rules (docs/architecture.md, "How each pair talks"): importer -> the agent folders
#: it must not import. The watchdog tells the sequencer and the guider over INDI; the guider is
#: driven over INDI or PHD2's wire; the astrometry agent's code is the sequencer's and the
#: assembly's only.
AGENTS = "indipyagents"
ASTROMETRY_IMPORTERS = {"astrometry", "sequencer", "imageragent"}


def agent_edges(known: dict[str, Path]) -> set[tuple[str, str]]:
    """(importer, imported) between the folders of `indipyagents` (``guider``, ``sequencer``,
    ...; a top-level module by its name), and from any other package (by its name)."""
    def folder(module: str) -> str:
        parts = module.split(".")
        return parts[1] if parts[0] == AGENTS and len(parts) > 1 else parts[0]

    return {(folder(module), folder(target)) for module, path in known.items()
            for target in imports(module, path, known)
            if target.startswith(AGENTS + ".") and folder(module) != folder(target)}


def agent_rules_broken(edges: Collection[tuple[str, str]]) -> list[str]:
    """Each import that breaks one of the agents' three rules."""
    wrong = [f"watchdog imports {b}" for a, b in edges
             if a == "watchdog" and b in {"sequencer", "guider"}]
    wrong += [f"{a} imports the guider" for a, b in edges if b == "guider"]
    wrong += [f"{a} imports the astrometry agent" for a, b in edges
              if b == "astrometry" and a not in ASTROMETRY_IMPORTERS]
    return sorted(wrong)


def test_the_agents_keep_their_pairs_apart() -> None:
    """The watchdog imports neither the sequencer nor the guider, nothing imports the guider,
    and the astrometry agent is imported only by the sequencer and the assembly."""
    edges = agent_edges(modules())
    assert ("sequencer", "astrometry") in edges and ("imageragent", "sequencer") in edges
    assert agent_rules_broken(edges) == []


def test_the_agent_rules_catch_a_forbidden_import() -> None:
    """Each rule fails on an import it forbids, and lets the allowed ones by."""
    assert agent_rules_broken({("watchdog", "sequencer"), ("watchdog", "guider"),
                               ("rig", "guider"), ("imager", "astrometry"),
                               ("indipyweb", "astrometry")}) == [
        "imager imports the astrometry agent", "indipyweb imports the astrometry agent",
        "rig imports the guider", "watchdog imports guider", "watchdog imports sequencer",
        "watchdog imports the guider"]
    assert agent_rules_broken({("sequencer", "astrometry"), ("imageragent", "astrometry"),
                               ("watchdog", "rig"), ("guider", "focus")}) == []


def marked(name: str) -> list[str]:
    """The lines of the page between ``<!-- name -->`` and ``<!-- /name -->``."""
    text = DOC.read_text()
    return text.split(f"<!-- {name} -->", 1)[1].split(f"<!-- /{name} -->", 1)[0].strip().splitlines()


def doc_control_table() -> dict[str, dict[str, str]]:
    """Phase -> event -> next phase, as the page's control table says."""
    found: dict[str, dict[str, str]] = {}
    for line in marked("control-table")[2:]:
        phase, moves = (cell.strip() for cell in line.strip("|").split("|"))
        found[phase.strip("`")] = dict(move.split(" -> ") for move in moves.split(", "))
    return found


def test_the_control_table_on_the_page_is_the_sequencers() -> None:
    """The page's control table is `sequencer.control.TABLE`, move for move and in its order."""
    from indipyagents.sequencer.control import TABLE

    table = {phase.name: {event.name: after.name for event, after in row.items()}
             for phase, row in TABLE.items()}
    assert doc_control_table() == table
    assert list(doc_control_table()) == list(table)


def test_the_triggers_on_the_page_are_in_kinds_order() -> None:
    """The page lists every trigger of `KINDS`, in its order, each with its module."""
    from indipyagents.sequencer.triggers import KINDS

    listed = [re.findall(r"`([^`]+)`", line)[:2] for line in marked("triggers")]
    assert [name for name, _ in listed] == [getattr(k, "__name__", "") for k in KINDS]
    assert [f"indipyagents.sequencer.{module[:-3].replace('/', '.')}" for _, module in listed] == [
        k.__module__ for k in KINDS]


def test_the_agents_rooms_on_the_page_exist() -> None:
    """Every file the rooms table names is in `indipyagents/`, and every agent device's
    folder with an ``agent.py`` has its row."""
    rows = marked("agent-rooms")[2:]
    named = [name for row in rows for name in re.findall(r"`([^`]+\.py)`", row)]
    missing = [name for name in named if not (REPO / AGENTS / name).is_file()]
    assert named and missing == []
    agents = {path.parent.name for path in (REPO / AGENTS).glob("*/agent.py")}
    assert agents <= {name.split("/")[0] for name in named}


#: The module names every agent's folder has by design (docs/architecture.md, "rooms"): its
#: vectors, its face, its agent and its main, one each, so a reader finds the same room in
#: every agent; and Python's own ``__init__``/``__main__``. No other name is used twice.
ROOMS = {"agent.py", "face.py", "main.py", "vectors.py", "__init__.py", "__main__.py"}


def names_used_twice(files: Collection[Path], root: Path) -> list[str]:
    """Each class name defined in two places, and each module name (outside `ROOMS`) in two
    folders, with where (paths relative to `root`)."""
    classes: dict[str, list[str]] = {}
    folders: dict[str, list[str]] = {}
    for path in sorted(files):
        where = path.relative_to(root).as_posix()
        folders.setdefault(path.name, []).append(where)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, []).append(where)
    twice = [f"class {name}: {', '.join(at)}" for name, at in classes.items() if len(at) > 1]
    twice += [f"module {name}: {', '.join(at)}" for name, at in folders.items()
              if len(at) > 1 and name not in ROOMS]
    return sorted(twice)


def test_no_name_means_two_things_in_the_agents() -> None:
    """Issue 91 item 5: in `indipyagents` no class name is defined twice and no module name is
    used in two folders (but the rooms every agent has), so a name says one thing."""
    files = list((REPO / AGENTS).rglob("*.py"))
    assert len(files) > 100
    assert names_used_twice(files, REPO) == []


def test_the_name_check_finds_a_name_used_twice(tmp_path: Path) -> None:
    """The check names a class defined in two modules and a module name in two folders, and
    lets the rooms be."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "sky.py").write_text("class Night:\n    pass\n")
        (tmp_path / folder / "face.py").write_text("X = 1\n")
    assert names_used_twice(list(tmp_path.rglob("*.py")), tmp_path) == [
        "class Night: a/sky.py, b/sky.py", "module sky.py: a/sky.py, b/sky.py"]
