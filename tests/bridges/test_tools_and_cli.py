"""indiredis's helper functions, the command line and indi-mr's package layout, against real
redis-server and our server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from redishelpers import client
from redishelpers import stored
from redishelpers import until
from serverkit import make_gadget
from serverkit import running

from indipyserver import IPyServer
from indiredis import redis_server
from indiredis import tools


async def test_helpers_read_the_store_and_publish_new_values(redis_port: int,
                                                             tmp_path: Path) -> None:
    """devices/properties/elements/dicts/logs read what the bridge stored; newnumbervector
    publishes a value that reaches the driver; an unknown vector publishes nothing."""
    driver = make_gadget()
    rhost = redis_server("127.0.0.1", redis_port)
    async with stored(driver, redis_port, "indi_attributes:IMAGE:Gadget", blob_folder=tmp_path):
        rconn, why = tools.open_redis(rhost)
        assert rconn is not None, why
        assert await asyncio.to_thread(tools.devices, rconn, rhost) == ["Gadget"]
        assert await asyncio.to_thread(tools.properties, rconn, rhost, "Gadget") == [
            "CONFIG_PROCESS", "CONNECTION", "DEBUG", "DRIVER_INFO", "IMAGE", "STATIC", "VALUE"]
        assert await asyncio.to_thread(tools.elements, rconn, rhost, "VALUE", "Gadget") == ["V"]
        attrs = await asyncio.to_thread(tools.attributes_dict, rconn, rhost, "VALUE", "Gadget")
        assert attrs["vector"] == "NumberVector" and attrs["perm"] == "rw"
        member = await asyncio.to_thread(tools.elements_dict, rconn, rhost, "T", "STATIC",
                                         "Gadget")
        assert member["value"] == "constant"
        stamp = await asyncio.to_thread(tools.newnumbervector, rconn, rhost, "VALUE", "Gadget",
                                        {"V": 12.5})
        assert stamp is not None
        await until(lambda: _value_is(driver, 12.5), what="the driver got 12.5")

        async def logged() -> list[object]:
            entries = await asyncio.to_thread(tools.logs, rconn, rhost, 1, "elementattributes",
                                              "V", "VALUE", "Gadget")
            return [e for e in entries if float(e[1].get("value", 0)) == 12.5]

        await until(logged, what="12.5 in the log stream")
        assert await asyncio.to_thread(tools.newnumbervector, rconn, rhost, "NOPE", "Gadget",
                                       {"V": 1}) is None
        assert await asyncio.to_thread(tools.newtextvector, rconn, rhost, "VALUE", "Gadget",
                                       {"V": "x"}) is None
        rconn.close()


async def _value_is(driver: object, value: float) -> bool:
    return float(driver["Gadget"]["VALUE"]["V"]) == value  # type: ignore[index]


def test_the_command_lists_its_options_and_sub_commands() -> None:
    """python -m indiredis -h names indiredis's options; each sub-command has its -h, and
    inditomqtt's offers --snoop-port (its drivers snooping other sites)."""
    out = subprocess.run([sys.executable, "-m", "indiredis", "-h"], capture_output=True, check=False,
                         text=True, timeout=60)
    assert out.returncode == 0
    for option in ("BLOBFOLDER".lower(), "--iport", "--ihost", "--rport", "--rhost", "--prefix",
                   "--toindipub", "--fromindipub", "-p PORT"):
        assert option in out.stdout
    for name in ("inditoredis", "driverstoredis", "inditomqtt", "driverstomqtt", "mqtttoredis",
                 "mqtttoport"):
        sub = subprocess.run([sys.executable, "-m", "indiredis", name, "-h"],
                             capture_output=True, text=True, timeout=60, check=False)
        assert sub.returncode == 0 and name in sub.stdout
        assert ("--snoop-port" in sub.stdout) == (name == "inditomqtt")


async def test_a_script_using_indimqttredis_as_documented(redis_port: int,
                                                          tmp_path: Path) -> None:
    """indi-mr's layout: a script doing `from indimqttredis import indiredis, redis_server,
    indi_server` and `indiredis.run(...)` keeps our server's devices in redis."""
    driver = make_gadget()
    r = client(redis_port)
    async with running(IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)) as s:
        script = tmp_path / "bridge.py"
        script.write_text(textwrap.dedent(f"""
            from indimqttredis import indiredis, indi_server, redis_server

            indi_host = indi_server(host="127.0.0.1", port={s.port})
            redis_host = redis_server(host="127.0.0.1", port={redis_port})
            indiredis.run(indi_host, redis_host)
        """))
        process = await asyncio.create_subprocess_exec(sys.executable, str(script),
                                                       cwd=tmp_path)
        try:
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=30,
                        what="the script's bridge")
        finally:
            process.terminate()
            await process.wait()
        assert (tmp_path / "indiblobs").is_dir()
    await r.aclose()


async def test_scripts_using_indimqtt_and_mqttredis_run_as_documented(
    redis_port: int, mosquitto_factory: Any, tmp_path: Path,
) -> None:
    """indi-mr's two halves, each a script as its docs show them, against real mosquitto and
    redis-server: ``indimqtt.run(indi_host, mqtt_host)`` at the site publishes our server's
    devices, ``mqttredis.run(mqtt_host, redis_host, blob_folder=...)`` at the web server keeps
    them in redis; a new value published through redis crosses both back to the driver."""
    broker = mosquitto_factory()
    driver = make_gadget()
    r = client(redis_port)
    blobs = tmp_path / "blobs"
    site = tmp_path / "site.py"
    web = tmp_path / "web.py"
    processes: list[asyncio.subprocess.Process] = []
    async with running(IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)) as s:
        site.write_text(textwrap.dedent(f"""
            from indimqttredis import indi_server, indimqtt, mqtt_server

            indimqtt.run(indi_server(host="127.0.0.1", port={s.port}),
                         mqtt_server(host="127.0.0.1", port={broker.port}), "site_one")
        """))
        web.write_text(textwrap.dedent(f"""
            from indimqttredis import mqtt_server, mqttredis, redis_server

            mqttredis.run(mqtt_server(host="127.0.0.1", port={broker.port}),
                          redis_server(host="127.0.0.1", port={redis_port}), "web_one",
                          blob_folder={str(blobs)!r})
        """))
        try:
            for script in (web, site):
                processes.append(await asyncio.create_subprocess_exec(
                    sys.executable, str(script), cwd=tmp_path))
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=30,
                        what="the device in redis through MQTT")
            rhost = redis_server("127.0.0.1", redis_port)
            rconn, why = tools.open_redis(rhost)
            assert rconn is not None, why
            try:
                assert await asyncio.to_thread(tools.newnumbervector, rconn, rhost, "VALUE",
                                               "Gadget", {"V": 321}) is not None
            finally:
                rconn.close()
            await until(lambda: _value_is(driver, 321), timeout=30,
                        what="the driver got 321 through redis and MQTT")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                await process.wait()
    await r.aclose()
    assert blobs.is_dir()
