"""Issue 91 item 1: one assembly (`indipyagents.assembly`) every agent is built with: its
device made from its description by the one `make_device`, its driver on the one base (the
agent's work run, its link closed), its executable the one `main`; parts given to each other
through constructors, never assigned afterwards; no ``type: ignore`` left in the assemblies."""

from __future__ import annotations

import ast
import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from waiting import until

import indipyagents
from indipyagents import assembly
from indipyagents.assembly import AgentDriverBase
from indipyagents.astrometry import agent as astrometry
from indipyagents.guider import agent as guider
from indipyagents.imageragent import driver as imager
from indipyagents.link import AgentLink
from indipyagents.link import LinkedDriver
from indipyagents.watchdog import agent as watchdog

PACKAGE = Path(indipyagents.__file__).parent
#: Each agent's assembly modules: its device and driver, its executable's command line.
ASSEMBLIES = {
    "astrometry": ("astrometry/agent.py", "astrometry/main.py"),
    "guider": ("guider/agent.py", "guider/main.py"),
    "imager": ("imageragent/driver.py", "imageragent/main.py", "imager/main.py"),
    "watchdog": ("watchdog/agent.py", "watchdog/main.py"),
}
EXECUTABLES = {"astrometry": "indipyagents.astrometry.main",
               "guider": "indipyagents.guider.main",
               "imager": "indipyagents.imageragent.main",
               "watchdog": "indipyagents.watchdog.main"}
#: The agents' drivers as their modules make them, with what their device must say.
MADE: dict[str, tuple[Callable[[], AgentDriverBase], assembly.Description]] = {
    "astrometry": (lambda: astrometry.make_driver("127.0.0.1", 1), astrometry.DESCRIPTION),
    "guider": (lambda: guider.make_driver("127.0.0.1", 1, phd2_port=0), guider.DESCRIPTION),
    "imager": (lambda: imager.make_driver("127.0.0.1", 1), imager.DESCRIPTION),
    "watchdog": (lambda: watchdog.make_driver("127.0.0.1", 1), watchdog.DESCRIPTION),
}


def _text(relative: str) -> str:
    return (PACKAGE / relative).read_text(encoding="utf-8")


@pytest.mark.parametrize("agent", sorted(MADE))
async def test_every_agents_driver_is_the_one_bases_with_its_described_device(
        agent: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDIPY_AGENT_STATE", str(tmp_path / "state"))
    make, description = MADE[agent]
    driver = make()
    assert isinstance(driver, AgentDriverBase) and isinstance(driver, LinkedDriver)
    (device,) = driver.values()
    info = dict(device["DRIVER_INFO"])
    assert (device.devicename, info["DRIVER_EXEC"], info["DRIVER_VERSION"]) == (
        description.name, description.driver_exec, description.driver_version)


@pytest.mark.parametrize("agent", sorted(ASSEMBLIES))
def test_the_assembly_modules_build_on_the_one_module(agent: str) -> None:
    """The device by `assembly.make_device`, the driver on `AgentDriverBase`, the command by
    `assembly.main`; no module builds a `Device` or an `IPyDriver` of its own."""
    driver_module, main_module = ASSEMBLIES[agent][:2]
    driver_text, main_text = _text(driver_module), _text(main_module)
    assert "from ..assembly import make_device" in driver_text
    assert "(AgentDriverBase)" in driver_text
    assert "Device(" not in driver_text.replace("make_device(", "")
    assert "IPyDriver" not in driver_text and "LinkedDriver" not in driver_text
    assert "assembly.main(" in main_text and "run_driver" not in main_text


def test_no_type_ignore_in_the_assemblies() -> None:
    found = [f"{relative}:{number}" for modules in ASSEMBLIES.values() for relative in modules
             for number, line in enumerate(_text(relative).splitlines(), 1)
             if "type: ignore" in line]
    found += [f"assembly.py:{number}" for number, line
              in enumerate(_text("assembly.py").splitlines(), 1) if "type: ignore" in line]
    assert found == []


def _assigned_after_made(tree: ast.AST) -> list[str]:
    """``x.attr = ...`` in a function where ``x`` is one of its own names (a part it made or
    was given): wiring by assignment after construction."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                        and target.value.id not in ("self", "cls"):
                    found.append(f"{function.name}:{target.lineno} {ast.unparse(target)}")
    return found


@pytest.mark.parametrize("relative", [*sorted(m for ms in ASSEMBLIES.values() for m in ms),
                                      "assembly.py", "sequencer/engine.py",
                                      "watchdog/guard.py"])
def test_no_part_is_assigned_after_construction(relative: str) -> None:
    """Parts are given to each other through constructors (`session.publish`,
    `face.commands`, `hands.listeners`, the night's `timing` and `plan_file` once were
    assigned after); a part only reads what it was given."""
    assert _assigned_after_made(ast.parse(_text(relative))) == []


@pytest.mark.parametrize("agent", sorted(EXECUTABLES))
def test_each_executables_help_lists_the_common_options(agent: str) -> None:
    """The one `main`: the served port, the INDI server, CONFIG_SAVE's folder, and the state
    folder of an agent that keeps one (the guider's calibration, the imager's nights)."""
    done = subprocess.run([sys.executable, "-m", EXECUTABLES[agent], "--help"],
                          capture_output=True, text=True, timeout=60, check=True,
                          env={**os.environ, "COLUMNS": "200"})
    for option in ("--port", "--indi-host", "--indi-port", "--config-dir"):
        assert option in done.stdout, (agent, option)
    assert ("--state-dir" in done.stdout) == (agent in ("guider", "imager"))
    assert ("--device" in done.stdout) == (agent != "imager")


async def test_the_base_runs_the_work_then_lets_go_and_closes_the_link() -> None:
    """`hardware`: the work, then held until the driver stops; `closing` then the link's
    close, in that order, whether the work ended or failed."""
    said: list[str] = []

    class Link(AgentLink):  # the real link, its close recorded
        async def close(self) -> None:
            said.append("link closed")
            await super().close()

    class Driver(AgentDriverBase):
        async def work(self) -> None:
            said.append("work")

        async def closing(self) -> None:
            said.append("closing")

    link = Link()
    driver = Driver(link=link)
    driver.server_listening("127.0.0.1", 7625)  # the hosting server tells the link
    assert (link.host, link.port, link.known) == ("127.0.0.1", 7625, True)
    held = asyncio.create_task(driver.hardware())
    await until(lambda: said == ["work"], timeout=5, what="the work begun")
    assert not held.done()  # held until the driver stops
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held
    assert said == ["work", "closing", "link closed"]

    class Failing(Driver):
        async def work(self) -> None:
            raise RuntimeError("the agent's loop broke")

    said.clear()
    with pytest.raises(RuntimeError):
        await Failing(link=Link()).hardware()
    assert said == ["closing", "link closed"]
