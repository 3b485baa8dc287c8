"""The imager agent's sky clock (issue 82 item 4): ``--sky-clock`` and
``INDIPY_AGENT_SKY_CLOCK`` become its runs' clock and sleep (the seam the sequencer takes);
a setting that cannot be read stops the command with the reason, the real hours never run
by mistake. (Its use through a SIGKILL: tests/agents/night/test_night_schedule_restarts.py.)"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest

from indipyagents.imageragent.driver import make_driver
from indipyagents.imageragent.main import main
from indipycore.skyclock import ENV_SKY_CLOCK


def test_the_setting_becomes_the_runs_clock_and_sleep(tmp_path: Path) -> None:
    wall = datetime.now(UTC)
    driver = make_driver(state=tmp_path, sky_clock=f"2026-12-03T19:00Z@{wall.isoformat()}x60")
    assert driver.night is not None
    clock, sleep = driver.night.timing["clock"], driver.night.timing["sleep"]
    sky = clock()
    elapsed = (datetime.now(UTC) - wall).total_seconds()
    expected = datetime(2026, 12, 3, 19, tzinfo=UTC) + timedelta(seconds=60 * elapsed)
    assert abs((sky - expected).total_seconds()) < 60, sky
    began = time.monotonic()
    asyncio.run(sleep(60.0))  # a sky minute: a wall second
    assert 0.9 < time.monotonic() - began < 5
    assert driver.night.clock().date().isoformat() == "2026-12-03"


def test_the_environment_gives_it_under_a_server(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SKY_CLOCK, "2026-12-03T19:00Z")
    driver = make_driver(state=tmp_path)
    assert driver.night is not None
    assert abs((driver.night.timing["clock"]() - datetime(2026, 12, 3, 19, tzinfo=UTC))
               .total_seconds()) < 60


def test_without_a_setting_the_runs_keep_the_real_time(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_SKY_CLOCK, raising=False)
    driver = make_driver(state=tmp_path)
    assert driver.night is not None and driver.night.timing == {}


@pytest.mark.parametrize(("argv", "env", "said"), [
    (["--sky-clock", "2026-12-03T19:00"], "", "--sky-clock: the sky clock's time "
                                              "'2026-12-03T19:00' needs a zone"),
    (["--sky-clock", "2026-12-03T19:00Zx0"], "", "--sky-clock: a sky clock's rate must be"),
    ([], "tonight", f"{ENV_SKY_CLOCK}: the sky clock's time 'tonight' is not an ISO 8601"),
])
def test_a_setting_that_cannot_be_read_stops_the_command(
        argv: list[str], env: str, said: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENV_SKY_CLOCK, env)
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--state-dir", str(tmp_path), "--port", "0"])
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err
