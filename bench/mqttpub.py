#!/usr/bin/env python3
"""The bare side of ``mqttblobs.py``: an aiomqtt publisher in a process of its own.

    python bench/mqttpub.py MQTT_PORT TOPIC SIZE STYLE [tuned]

Connects to the broker on 127.0.0.1, subscribes to ``TOPIC/go`` and, for each ``go N``
published there, publishes N times the setBLOBVector that ``trafficdriver.py`` would send for
a BLOB of SIZE bytes in STYLE (the same bytes the bridge carries), at QoS 2 one after the
other as the bridge's site does, then ``done`` on ``TOPIC/done``. The element is encoded once,
before the first ``go``, as the traffic driver prepares its BLOB before a measurement.
With ``tuned``, the process first takes the bridges' malloc settings
(``indiredis.freedmemory.keep_freed_memory``).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiomqtt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trafficdriver import build_blob


async def main(port: int, topic: str, size: int, style: str) -> None:
    payload = build_blob(size, style).strip()
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"bare-pub-{topic}") as client:
        await client.subscribe(f"{topic}/go", qos=2)
        # Retained: the bench may subscribe to ready after it was said (a loaded host starts
        # this process faster than the bench listens), and would then wait for ever.
        await client.publish(f"{topic}/ready", b"ready", qos=2, retain=True)
        async for message in client.messages:
            text = bytes(message.payload).decode() if isinstance(message.payload, bytes) else ""
            if not text.startswith("go "):
                continue
            for _ in range(int(text.split()[1])):
                await client.publish(f"{topic}/data", payload, qos=2)
            await client.publish(f"{topic}/done", b"done", qos=2)


if __name__ == "__main__":
    if sys.argv[5:6] == ["tuned"]:
        from indiredis.freedmemory import keep_freed_memory

        keep_freed_memory()
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]))
