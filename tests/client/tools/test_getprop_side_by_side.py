"""indipy-getprop prints what indilib's indi_getprop prints, and exits with the same status.

Both tools run at the same moment against the same server, for our server and for indilib's
indiserver, each serving the demo thermostat (an executable driver whose readings are an hour
apart, so values hold still) and indi_simulator_telescope. Lines are compared as sorted lists
(indi_getprop prints in arrival order, and so do we); only ``_TS`` values may differ, since the
drivers stamp each definition when they send it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from toolkit import Server
from toolkit import address
from toolkit import ours
from toolkit import run_tool
from toolkit import side_by_side
from toolkit import start_both

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    yield from start_both(tmp_path_factory.mktemp("getprop"))


def _lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        key, sep, _value = line.partition("=")
        lines.append(key + "=<time>" if sep and key.endswith("._TS") else line)
    return sorted(lines)


SPECS = [
    ["*.*.*"],
    ["Thermostat.*.*"],
    ["*.CONNECTION.*"],
    ["Telescope Simulator.*._STATE"],
    ["*.*._LABEL", "*.*._GROUP", "*.*._PERM", "*.*._TO", "*.*._TS"],
    ["Thermostat.SITE.NAME", "Thermostat.HEATER_MODE.*"],
    ["Thermostat.TARGET.TARGET"],
    ["-1", "Thermostat.TARGET.TARGET"],
    ["-1", "Thermostat.*.TARGET"],  # -1 ignored with a wildcard, as indilib does
    ["-w", "Telescope Simulator.*.*"],
    ["-m", "Thermostat.TARGET.*", "Thermostat.SITE._STATE"],  # -m: runs to the timeout
    ["Nope.X.Y"],  # a missing device: "No Nope.X.Y from host:port", exit 1
    ["Thermostat.NOPE.*", "Thermostat.TARGET.TARGET"],  # a missing property beside a found one
    ["Thermostat.TARGET.NOPE"],
    ["a.b"],  # not a spec: exit 2
]


@pytest.mark.parametrize("specs", SPECS, ids=lambda s: " ".join(s))
@pytest.mark.parametrize("which", ["ours", "indiserver"])
def test_getprop_prints_the_same_lines_and_exit_status_as_indi_getprop(
    servers: list[Server], which: str, specs: list[str]
) -> None:
    server = next(s for s in servers if s.kind == which)
    theirs, mine = side_by_side("indi_getprop", [*address(server.port), "-t", "1", *specs])
    assert mine.returncode == theirs.returncode, theirs.describe() + "\n" + mine.describe()
    assert _lines(mine.stdout) == _lines(theirs.stdout), theirs.describe() + "\n" + mine.describe()
    missing = [line for line in theirs.stderr.splitlines() if line.startswith("No ")]
    assert [line for line in mine.stderr.splitlines() if line.startswith("No ")] == missing
    if theirs.returncode == 0:
        assert mine.stderr == ""


def test_getprop_ends_as_soon_as_every_exact_query_matched(servers: list[Server]) -> None:
    """Without wildcards it does not wait for the timeout (indi_getprop neither)."""
    result = run_tool([*ours("indi_getprop"), *address(servers[0].port), "-t", "20",
                       "Thermostat.TARGET.TARGET"], timeout=10)
    assert result.returncode == 0 and result.stdout.startswith("Thermostat.TARGET.TARGET=")


def test_unreachable_server_is_exit_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    from peers import free_port

    port = free_port()
    theirs, mine = side_by_side("indi_getprop", ["-h", "127.0.0.1", "-p", str(port)])
    assert theirs.returncode == mine.returncode == 2
    assert len(mine.stderr.splitlines()) == 1 and "Traceback" not in mine.stderr
    assert f"127.0.0.1:{port}" in mine.stderr


def test_json_prints_the_matching_vectors_in_the_snapshot_shape(servers: list[Server]) -> None:
    result = run_tool([*ours("indi_getprop"), *address(servers[0].port), "-t", "1", "--json",
                       "Thermostat.TARGET.*", "Thermostat.HEATER_MODE._STATE"])
    assert result.returncode == 0, result.describe()
    snap = json.loads(result.stdout)
    assert set(snap) == {"indihost", "indiport", "connected", "messages", "devices"}
    device = snap["devices"]["Thermostat"]
    assert set(device["vectors"]) == {"TARGET", "HEATER_MODE"}
    target = device["vectors"]["TARGET"]
    assert target["vectortype"] == "NumberVector" and target["perm"] == "rw"
    member = target["members"]["TARGET"]
    assert {"label", "value", "format", "min", "max", "step", "floatvalue",
            "formattedvalue"} <= set(member)
    assert device["vectors"]["HEATER_MODE"]["rule"] == "OneOfMany"
    assert set(device["vectors"]["HEATER_MODE"]["members"]) == {"AUTO", "ON", "OFF"}
