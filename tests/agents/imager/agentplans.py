"""A plan run on an agent hosted in-process, for the tests that show the agent drives devices
wherever the server holds them: load it through AGENT_PLAN, START, wait for the end."""

from __future__ import annotations

from pathlib import Path

import indipyclient

AGENT = "Imager Agent"


def darks_plan(camera: str, wheel: str = "", *, folder: str = "night", filter: str = "",
               count: int = 2, exposure: float = 0.5, kind: str = "") -> str:
    """A plan of `count` frames with no slew (dark frames, or light through `filter` when
    a wheel is named, unless `kind` says), its end warming the camera only."""
    kind = kind or ("Light" if wheel else "Dark")
    lines = ['name = "anywhere"', f'folder = "{folder}"', "[devices]", f'camera = "{camera}"']
    if wheel:
        lines.append(f'wheel = "{wheel}"')
    lines += ["[end]", "park = false", "warm = true", "[[targets]]", 'name = "Here"',
              "[[targets.batches]]", f'type = "{kind}"', f"count = {count}",
              f"exposure = {exposure}"]
    if filter:
        lines.append(f'filter = "{filter}"')
    return "\n".join(lines) + "\n"


async def run_plan(port: int, plan: Path, images: Path, timeout: float = 120) -> str:
    """Load `plan` on the agent of the server at `port`, save under `images`, start it and
    return SEQUENCE_STATE's state at its end (with its message on failure)."""
    async with indipyclient.connect("127.0.0.1", port) as client:
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(images)}, timeout=10)
        loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(plan)}, timeout=10)
        assert loaded.ok, loaded
        await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
        vector = await client.wait_for(AGENT, "SEQUENCE_STATE", state=("Ok", "Alert"),
                                       timeout=timeout)
        return f"{vector.state} {vector.message}".strip()
