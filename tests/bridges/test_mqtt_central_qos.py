"""The central side's QoS: ``python -m indiredis mqtttoredis`` takes the sites' messages at
QoS 1 by default (one PUBACK a message instead of QoS 2's PUBREC, PUBREL and PUBCOMP), and
``--qos 2`` still gives QoS 2; seen in a real mosquitto's own log of the packets it sends."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from reaper import Reaper
from redishelpers import bridge
from redishelpers import client
from redishelpers import until
from serverkit import make_gadget
from serverkit import running

from indipyserver import IPyServer
from indiredis import indi_server
from indiredis import inditomqtt_async
from indiredis import mqtt_server


@pytest.mark.parametrize(("args", "qos"), [([], 1), (["--qos", "2"], 2)])
async def test_central_side_takes_the_sites_messages_at_qos_1_unless_told(
        mosquitto_factory: Any, redis_port: int, tmp_path: Path, reaper: Reaper,
        args: list[str], qos: int) -> None:
    """Every PUBLISH mosquitto sends the central process (``from_indi`` of a site that
    publishes at QoS 2) has the QoS of the central side's subscription, 1 unless ``--qos 2``
    is given, and the value still reaches redis; at QoS 1 the central side never sends PUBREC
    (QoS 2's first acknowledgement: the packets it spares)."""
    broker = mosquitto_factory(debug=True)
    mqtt = mqtt_server("127.0.0.1", broker.port)
    r = client(redis_port)
    log = tmp_path / "central.log"
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "indiredis", "mqtttoredis", "central", str(tmp_path / "blobs"),
            "--mhost", "127.0.0.1", "--mport", str(broker.port), "--rhost", "127.0.0.1",
            "--rport", str(redis_port), *args, stdout=out, stderr=out, start_new_session=True)
    reaper.watch(proc.pid)
    driver = make_gadget("Gadget-q")
    try:
        async with running(IPyServer(driver, host="127.0.0.1", port=0,
                                     handle_signals=False)) as server, \
                bridge(inditomqtt_async(indi_server("127.0.0.1", server.port), "q", mqtt)):
            key = "indi_elementattributes:V:VALUE:Gadget-q"
            await until(lambda: r.exists(key), timeout=30, what="the site's device in redis")
            vector = driver["Gadget-q"]["VALUE"]
            vector["V"] = 42
            await vector.send_setVector()

            async def stored() -> bool:
                value = await r.hget(key, "value")
                return value is not None and float(value) == 42

            await until(stored, timeout=20, what="the site's value in redis")
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 15)
        reaper.release(proc.pid)
        await r.aclose()
    text = broker.log.read_text(errors="replace")
    sent = re.findall(r"Sending PUBLISH to central \(d\d, q(\d), r\d, m\d+, 'from_indi/q'", text)
    assert sent, text[-3000:]
    assert set(sent) == {str(qos)}, sent
    acks = set(re.findall(r"Received (PUBACK|PUBREC|PUBCOMP) from central ", text))
    # PUBACK also at QoS 2: the sites' status is published (so delivered) at QoS 1.
    assert "PUBACK" in acks and ("PUBREC" in acks) == (qos == 2), acks
