"""A client script: watch the demo thermostat and set its target.

Start the demo server in one terminal (``python -m indipyserver --demo``), then::

    python examples/watch_and_set.py                       # localhost:7624
    python examples/watch_and_set.py --port 7625 --target 23.5

It waits for the thermostat, sets ``TARGET`` and waits for the driver's answer, then prints the
room temperature as it changes until the room is within half a degree of the target (or
``--seconds`` pass). A value outside the driver's limits is refused before anything is sent.
"""

from __future__ import annotations

import argparse
import asyncio

import indipyclient


async def watch_and_set(host: str, port: int, target: float, seconds: float) -> float:
    """Set the target, then watch the temperature; returns the last temperature seen."""
    async with indipyclient.connect(host, port) as client:
        await client.wait_for("Thermostat", "TARGET", timeout=10)
        try:
            result = await client.set("Thermostat", "TARGET", {"TARGET": target}, timeout=10)
        except indipyclient.InvalidValue as exc:
            raise SystemExit(f"not sent: {exc}") from None
        print(f"TARGET is now {client.get('Thermostat', 'TARGET', 'TARGET')}: {result.state}")

        temperature = client.get("Thermostat", "TEMPERATURE", "TEMPERATURE")
        async with client.events() as events:
            try:
                async with asyncio.timeout(seconds):
                    async for event in events:
                        if isinstance(event, indipyclient.setNumberVector) and \
                                event.vectorname == "TEMPERATURE":
                            vector = event.vector
                            temperature = vector.getfloatvalue("TEMPERATURE")
                            print(f"{event.timestamp:%H:%M:%S} "
                                  f"{vector.getformattedvalue('TEMPERATURE')} C")
                            if abs(temperature - target) < 0.5:
                                break
            except TimeoutError:
                print(f"still {temperature:.2f} C after {seconds:g} s")
        return float(temperature)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=7624)
    parser.add_argument("--target", type=float, default=22.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(watch_and_set(args.host, args.port, args.target, args.seconds))


if __name__ == "__main__":
    main()
