"""Issue 89 item 6: the server's address handed to every executable driver it starts, as
``INDIPY_AGENT_SERVER=host:port``, without overriding one the user set: the driver's own
``env=`` and the server's environment win. (The agents driving that port:
tests/agents/test_agents_under_our_server.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from serverkit import running
from serverkit import server
from waiting import until

from indipyserver.drivers.served import AGENT_SERVER_ENV


def recorder(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """An executable driver that writes the INDIPY_AGENT_SERVER it was given to a file, then
    reads its stdin until the server closes it; the script and that file."""
    seen = tmp_path / f"{name}.seen"
    script = tmp_path / name
    script.write_text(f'#!/bin/sh\nprintf "%s" "${AGENT_SERVER_ENV}" > {seen}.part\n'
                      f"mv {seen}.part {seen}\nexec cat > /dev/null\n")
    script.chmod(0o755)
    return script, seen


@pytest.mark.timeout(60)
async def test_each_executable_driver_gets_the_servers_address_unless_it_has_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A driver without one is told the server's own port; a driver given one keeps it."""
    monkeypatch.delenv(AGENT_SERVER_ENV, raising=False)
    told, told_seen = recorder(tmp_path, "told")
    given, given_seen = recorder(tmp_path, "given")
    served = server()
    served.add_exdriver(str(told), max_restarts=0)
    served.add_exdriver(str(given), max_restarts=0, env={AGENT_SERVER_ENV: "elsewhere:7700"})
    async with running(served) as ours:
        await until(lambda: told_seen.exists() and given_seen.exists(), 30,
                    "both drivers wrote what they were given")
        assert told_seen.read_text() == f"{ours.host}:{ours.port}"
        assert given_seen.read_text() == "elsewhere:7700"


@pytest.mark.timeout(60)
async def test_the_servers_own_environment_wins(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """INDIPY_AGENT_SERVER already in the server's environment is what its drivers get."""
    monkeypatch.setenv(AGENT_SERVER_ENV, "observatory:7624")
    script, seen = recorder(tmp_path, "inherits")
    served = server()
    served.add_exdriver(str(script), max_restarts=0)
    async with running(served):
        await until(seen.exists, 30, "the driver wrote what it was given")
        assert seen.read_text() == "observatory:7624"
