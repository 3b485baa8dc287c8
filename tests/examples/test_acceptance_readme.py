"""Acceptance (issue 5): the README's "driver in ten lines" works as the README says.

The snippet is taken from README.md itself (so an edit that breaks it fails here), run on a free
port instead of 7624, and then driven exactly as the README's next sentence tells a reader:
`indi_setprop "Lamp.POWER.ON=On"` and `indi_getprop "Lamp.*.*"` (indilib's real clients).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import peers

from indipyserver import IPyServer

README = Path(__file__).resolve().parents[2] / "README.md"


def _snippet() -> str:
    text = README.read_text()
    section = text.split("## A driver in ten lines", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README has no python block under 'A driver in ten lines'"
    return match.group(1)


def test_readme_driver_is_about_ten_lines_of_code() -> None:
    code = [line for line in _snippet().splitlines() if line.strip()]
    assert len(code) <= 12, code


def test_readme_driver_answers_indi_setprop_and_indi_getprop() -> None:
    port = peers.free_port()
    servers: list[IPyServer] = []

    def on_free_port(*drivers: Any, **kw: Any) -> IPyServer:
        server = IPyServer(*drivers, port=port, handle_signals=False, **kw)
        servers.append(server)
        return server

    source = _snippet().replace("from indipyserver import IPyServer", "")
    namespace: dict[str, Any] = {"IPyServer": on_free_port, "__name__": "__main__"}
    errors: list[BaseException] = []

    def run() -> None:
        try:
            exec(compile(source, str(README), "exec"), namespace)  # noqa: S102 - the README's own code
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert peers.wait_listening(_Alive(thread), port, 10), errors
        # Named, not Lamp.*.* (a wildcard waits out its fixed timeout and says what came,
        # however late the server answers): indi_getprop ends as soon as it came.
        before = peers.getprop(port, "Lamp.POWER.ON", timeout=20)
        assert before.returncode == 0, before.result.describe()
        assert before.get("Lamp.POWER.ON") == "Off", before.result.describe()
        result = peers.setprop(port, "Lamp.POWER.ON=On")
        assert result.returncode == 0, result.describe()
        after = peers.getprop(port, "Lamp.POWER.ON", "Lamp.POWER._STATE", timeout=20)
        assert after.returncode == 0, after.result.describe()
        assert after.get("Lamp.POWER.ON") == "On", after.result.describe()
        assert after.get("Lamp.POWER._STATE") == "Ok", after.result.describe()
    finally:
        for server in servers:
            server.shutdown()
        thread.join(10)
    assert not thread.is_alive() and not errors, errors


class _Alive:
    """Lets peers.wait_listening watch a thread as it watches a process."""

    def __init__(self, thread: threading.Thread) -> None:
        self.thread = thread

    def poll(self) -> int | None:
        return None if self.thread.is_alive() else 0
