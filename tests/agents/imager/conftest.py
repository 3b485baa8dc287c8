"""The imager agent's tests: each test's agents keep their state (the batch's journal, the
night's ``current.json``) in a folder of its own, never the real home nor another test's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def agent_state(tmp_path_factory: pytest.TempPathFactory,
                monkeypatch: pytest.MonkeyPatch) -> Path:
    """``INDIPY_AGENT_STATE`` for the agents the test makes in-process or starts (a child
    inherits it); outside `tmp_path`, which tests list as the frames' folder."""
    state = tmp_path_factory.mktemp("agent-state")
    monkeypatch.setenv("INDIPY_AGENT_STATE", str(state))
    return state
