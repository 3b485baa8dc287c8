"""The README's client script runs as written against the demo thermostat (on a free port
instead of 7624) and prints what its comment says."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from servers import InProcessServer

ROOT = Path(__file__).resolve().parents[2]


def snippet() -> str:
    section = (ROOT / "README.md").read_text().split("## A client script", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README has no python block under 'A client script'"
    return match.group(1)


async def test_readme_client_script_sets_the_target() -> None:
    server = InProcessServer(simulators=False)
    await server.start()
    try:
        code = snippet().replace('"localhost", 7624', f'"127.0.0.1", {server.port}')
        assert str(server.port) in code
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        await server.stop()
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == "Ok 21.5"
