"""Issue 89 item 12: one default device naming across the agents, in one table
(`indipyagents.defaults`): indilib's simulators' names, as indilib's indi_imager_agent and
indi_watchdog default to."""

from __future__ import annotations

import ast
from pathlib import Path

import indipyagents
from indipyagents import defaults
from indipyagents.astrometry.vectors import make_vectors as astrometry_vectors
from indipyagents.guider.face import GuiderFace
from indipyagents.imager.vectors import make_vectors as imager_vectors
from indipyagents.plan.model import Devices
from indipyagents.watchdog.vectors import make_vectors as watchdog_vectors
from indipyagents.watchdog.verdict import Settings

PACKAGE = Path(indipyagents.__file__).parent


def test_the_table_is_indilibs_simulators() -> None:
    assert defaults.DEFAULTS == {
        "camera": "CCD Simulator", "wheel": "Filter Simulator", "focuser": "Focuser Simulator",
        "mount": "Telescope Simulator", "dome": "Dome Simulator",
        "weather": "Weather Simulator", "guide camera": "Guide Simulator"}


def test_each_agents_defaults_are_the_tables() -> None:
    table = defaults.DEFAULTS
    assert dict(imager_vectors()["DEVICES"]) | {"ASTROMETRY": ""} == {
        "CCD": table["camera"], "FILTER": table["wheel"], "FOCUSER": table["focuser"],
        "MOUNT": table["mount"], "ASTROMETRY": ""}
    assert dict(astrometry_vectors()["ACTIVE_DEVICES"]) == {
        "ACTIVE_CCD": table["camera"], "ACTIVE_TELESCOPE": table["mount"]}
    active = dict(watchdog_vectors()["ACTIVE_DEVICES"])
    assert (active["ACTIVE_TELESCOPE"], active["ACTIVE_DOME"], active["ACTIVE_WEATHER"]) == (
        table["mount"], table["dome"], table["weather"])
    guider = dict(GuiderFace().active)
    assert (guider["ACTIVE_CCD"], guider["ACTIVE_TELESCOPE"]) == (table["guide camera"],
                                                                table["mount"])
    assert Settings().weather == table["weather"]
    assert Devices().camera == table["camera"]


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def test_no_agent_spells_a_default_name_itself() -> None:
    """A default written out anywhere but the table is a second naming waiting to drift."""
    names = set(defaults.DEFAULTS.values())
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == Path(defaults.__file__):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        found += [f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}"
                  for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in names
                  and id(node) not in skip]
    assert found == []
