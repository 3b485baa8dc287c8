"""The wheel and the sdist install and run on a fresh venv (issue 43 items 12 and 13).

The toolkit is not on PyPI: users build it from a clone (`python -m build`, the Raspberry Pi
recipe copies the wheel over) or `pip install .`. A package left out of the wheel, a template
or `py.typed` not shipped, or a console script pointing at a missing function only shows on
such an install, never in the editable checkout the rest of the suite runs from. This test
builds both distributions once with `python -m build` (the wheel from the sdist, so the sdist
must be complete), installs each into its own fresh venv with nothing else, and runs the
demo server and every console script's `--help` from there.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import ownnetwork
import pytest
from peers import free_port
from runonce import once_a_run

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SCRIPTS = sorted(PYPROJECT["project"]["scripts"])


def _run(*args: str | Path, cwd: Path | None = None, timeout: float = 300,
         fetches: bool = False) -> subprocess.CompletedProcess[str]:
    """`args` run to the end; one that `fetches` (pip, build: packages from the package
    index) in the machine's network, not the worker's own (tests/ownnetwork.py)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    network = ownnetwork.machines_network() if fetches else contextlib.nullcontext()
    with network:
        return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout, check=False)


def _fresh_venv(venv: Path, *requirements: str | Path) -> None:
    """A fresh venv at `venv` with nothing but `requirements` (and what they require),
    installed by the suite's own pip (``pip --python``): the venv gets no pip of its own, which
    is what ``python -m venv`` spends most of its 7 s of CPU on (ensurepip)."""
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    pip = _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
               "--disable-pip-version-check", *requirements, timeout=600, fetches=True)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]


def _build(out: Path) -> None:
    """`python -m build` run on a copy of the clone (builds write into the source tree): the
    sdist, and the wheel built from it, into `out`."""
    source = out / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "__pycache__", "*.egg-info", "build", "dist", "_build", ".hypothesis",
        ".pytest_cache", ".mypy_cache", ".ruff_cache", "node_modules"))
    built = _run(sys.executable, "-m", "build", "--outdir", out, source, timeout=600, fetches=True)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    shutil.rmtree(source)


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist, and the wheel built from it, built once a run (`_build`, runonce.py)."""
    out = once_a_run(tmp_path_factory, "dist", _build)
    wheels = list(out.glob("*.whl"))
    sdists = list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


def _repo_packages() -> set[str]:
    """Every package folder of the repository the wheel must carry (as dotted names)."""
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    tops = {pattern.rstrip("*") for pattern in include}
    found = set()
    # Only below the package folders: the rest of the clone holds folders other tests create
    # and remove while this runs (hypothesis's .hypothesis/tmp, virtual environments).
    for top in sorted(tops):
        for init in REPO.glob(f"{top}/**/__init__.py"):
            found.add(".".join(init.parent.relative_to(REPO).parts))
    return found


def test_the_wheel_holds_every_package_and_its_data(dists: dict[str, Path]) -> None:
    """Each package folder of the clone, each package's py.typed, indipyweb's templates and
    static files and indipyterm's stylesheets are in the wheel; no tests or benchmarks are; its
entry points are pyproject.toml's console scripts, the simulators' among them."""
    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    packages = {"/".join(n.split("/")[:-1]).replace("/", ".") for n in names
                if n.endswith("/__init__.py")}
    assert _repo_packages() <= packages, _repo_packages() - packages
    tops = {name.split(".")[0] for name in _repo_packages()}
    for top in tops:
        assert f"{top}/py.typed" in names, top
    for shipped in [*(REPO / "indipyweb" / "templates").glob("*.html"),
                    *(REPO / "indipyweb" / "static").glob("*"),
                    *(REPO / "indipyterm").glob("*.tcss")]:
        assert shipped.relative_to(REPO).as_posix() in names, shipped
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    parser = configparser.ConfigParser()
    parser.read_string(zipfile.ZipFile(dists["wheel"]).read(entry_points).decode())
    assert sorted(parser["console_scripts"]) == SCRIPTS
    # The simulators, by the names their DRIVER_EXEC gives (issue 47 item 4).
    simulators = {name: target for name, target in parser["console_scripts"].items()
                  if name.startswith("indipy_simulator_")}
    assert simulators == {
        "indipy_simulator_ccd": "indipysimulators.ccd:main",
        "indipy_simulator_telescope": "indipysimulators.telescope:main",
        "indipy_simulator_focus": "indipysimulators.focus:main",
        "indipy_simulator_weather": "indipysimulators.weather:main",
        "indipy_simulator_guide": "indipysimulators.guidecamera:main"}, simulators


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def installed(request: pytest.FixtureRequest, dists: dict[str, Path],
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with only the toolkit, installed from the wheel or from the sdist: its
    bin folder."""
    dist = dists[request.param]
    venv = once_a_run(tmp_path_factory, f"venv-{request.param}",
                      lambda folder: _fresh_venv(folder, dist))
    yield venv / "bin"


def test_every_console_script_answers_help(installed: Path, tmp_path: Path) -> None:
    """Each console script of pyproject.toml runs from the installed venv (outside the clone)
    and prints its usage, with no extra installed."""
    for script in SCRIPTS:
        done = _run(installed / script, "--help", cwd=tmp_path, timeout=60)
        assert done.returncode == 0, (script, done.stderr[-2000:])
        assert "usage" in done.stdout.lower(), (script, done.stdout[:500])


def test_a_command_without_its_extra_says_what_to_install(installed: Path, tmp_path: Path
                                                          ) -> None:
    """indipyweb and indipyterm, installed without [web] / [term], exit 2 with one line that
    names the extra, not a ModuleNotFoundError traceback."""
    for script, extra in (("indipyweb", "[web]"), ("indipyterm", "[term]")):
        done = _run(installed / script, "--dbfolder" if script == "indipyweb" else "--port",
                    str(tmp_path) if script == "indipyweb" else "7624", cwd=tmp_path,
                    timeout=60)
        assert done.returncode == 2, (script, done.stderr)
        assert extra in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_the_installed_demo_serves_the_thermostat(installed: Path, tmp_path: Path) -> None:
    """`indipyserver --demo` from the installed venv serves the thermostat, and the installed
    `indipy-getprop` reads it."""
    port = free_port()
    server = subprocess.Popen([str(installed / "indipyserver"), "--demo", "-p", str(port)],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, env={k: v for k, v in os.environ.items()
                                              if k != "PYTHONPATH"})
    try:
        assert server.stderr is not None
        for line in server.stderr:  # logged once it has bound
            if "serving INDI on" in line:
                break
        else:
            raise AssertionError("the demo server stopped before serving")
        done = _run(installed / "indipy-getprop", "-p", str(port), "-t", "3",
                    "Thermostat.TARGET.TARGET", cwd=tmp_path, timeout=60)
        assert done.returncode == 0, done.stderr
        name, _, value = done.stdout.strip().partition("=")
        assert name == "Thermostat.TARGET.TARGET" and float(value) == 20.0, done.stdout
    finally:
        server.terminate()
        server.communicate(timeout=20)


def test_the_raspberry_pi_recipe_runs_from_the_wheel(dists: dict[str, Path], tmp_path: Path
                                                     ) -> None:
    """docs/guides/raspberry_pi_led.rst's wheel recipe as written: the wheel with [rpi] in a
    fresh venv, examples/rpi_led.py copied beside it alone, run with mock pins; the installed
    indipy-setprop lights the LED and indipy-getprop reads its state."""
    venv = tmp_path / "venv"
    _fresh_venv(venv, f"{dists['wheel']}[rpi]")
    driver = tmp_path / "rpi_led.py"
    driver.write_bytes((REPO / "examples" / "rpi_led.py").read_bytes())
    port = free_port()
    process = subprocess.Popen([str(venv / "bin" / "python"), str(driver), "--mock", "--port",
                                str(port)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True,
                               env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "serving INDI on" in line:
                break
        else:
            raise AssertionError("rpi_led.py stopped before serving")
        bin_ = venv / "bin"
        done = _run(bin_ / "indipy-setprop", "-p", str(port), "-w", "LED.LED_SWITCH.ON=On",
                    cwd=tmp_path, timeout=60)
        assert done.returncode == 0, done.stderr
        done = _run(bin_ / "indipy-getprop", "-p", str(port), "-t", "3", "LED.LED_STATE.LED",
                    cwd=tmp_path, timeout=60)
        assert done.stdout.strip() == "LED.LED_STATE.LED=Ok", done.stdout + done.stderr
    finally:
        process.terminate()
        process.communicate(timeout=20)
