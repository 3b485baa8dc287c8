"""Start an unattended night on the imager agent from a script, and wait for its end.

The agent runs inside the INDI server (``indipyserver indipyagents.imager ...``, see
docs/guides/unattended_night.rst); this script only starts it. It may stop at any time: the
night goes on without it. ::

    python examples/start_night.py ~/night/plan.toml --folder ~/night/frames
    python examples/start_night.py plan.toml --host pi.local --port 7624 --hours 12

The plan and the folder are absolute paths on the server's machine (the agent reads them
there: AGENT_PLAN.FILE, IMAGE_NAME.IMAGE_FOLDER). Exit status 0 when the night is
done, 1 when the plan is refused or the night stops with an Alert, 2 when it was paused.
"""

from __future__ import annotations

import argparse
import asyncio

import indipyclient

AGENT = "Imager Agent"


async def start_night(host: str, port: int, plan: str, folder: str | None,
                      hours: float) -> int:
    """Load `plan` into the agent, start it and wait until it stops; the exit status."""
    async with indipyclient.connect(host, port) as client:
        if folder:  # IMAGE_NAME.IMAGE_FOLDER: the plan's frames go in its folder under this
            await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": folder})
        loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": plan})
        if not loaded.ok:  # refused before anything moves, with the line and the reason
            print(f"plan refused: {loaded.message}")
            return 1
        print(f"{plan} loaded: starting")
        # AGENT_START_PROCESS stays Busy while the night runs, then Ok (or Alert).
        started = await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"},
                                   timeout=hours * 3600)
        if started.timed_out:
            print(f"still running after {hours:g} h: the agent carries on without us")
            return 0
        state = client.vector(AGENT, "SEQUENCE_STATE")
        done = client.get(AGENT, "SEQUENCE_STATE", "PROGRESS")
        total = client.get(AGENT, "SEQUENCE_STATE", "PROGRESS_TOTAL")
        print(f"{state.state}: {done:.0f} of {total:.0f} frames, {state.message}")
        return {"Ok": 0, "Idle": 2}.get(str(state.state), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("plan", help="the plan file: an absolute path on the server's machine")
    parser.add_argument("--folder", help="IMAGE_FOLDER: where the frames go (an absolute path "
                                         "on the server's machine)")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=7624)
    parser.add_argument("--hours", type=float, default=14.0,
                        help="how long to wait for the end (the night does not depend on it)")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(start_night(args.host, args.port, args.plan, args.folder,
                                             args.hours)))


if __name__ == "__main__":
    main()
