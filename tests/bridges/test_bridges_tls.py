"""The bridges' INDI side over TLS (issue 60 item 6): ``indi_server(host, port, tls=context)``
and ``--itls-ca/--itls-cert/--itls-key`` reach our server's TLS port, with a real redis-server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from peers import new_number
from redishelpers import bridge
from redishelpers import client
from redishelpers import until
from serverkit import make_gadget
from serverkit import running
from serverkit import server
from tlskit import Pki

from indipycore.tls import client_context
from indiredis import indi_server
from indiredis import inditoredis_async
from indiredis import redis_server


async def test_inditoredis_over_tls_stores_and_sets_the_devices(
    tls_pki: Pki, redis_port: int, tmp_path: Path,
) -> None:
    """inditoredis on our server's TLS port (client certificates required): the gadget's
    definitions land in redis, a new value published on the to_indi channel reaches the driver
    and its answer is stored; the server knows the bridge by its certificate's CN."""
    srv = server(make_gadget())
    srv.listen_tls(0, tls_pki.server_cert, tls_pki.server_key, client_ca=tls_pki.ca)
    cert, key = tls_pki.client("site-east")
    context = client_context(str(tls_pki.ca), str(cert), str(key))
    async with running(srv):
        r = client(redis_port)
        key_value = "indi_elementattributes:V:VALUE:Gadget"
        async with bridge(inditoredis_async(indi_server("localhost", srv.tls_port, context),
                                            redis_server("127.0.0.1", redis_port),
                                            blob_folder=tmp_path)):
            await until(lambda: r.sismember("indi_devices", "Gadget"), what="the gadget")
            await r.publish("to_indi", new_number("Gadget", "VALUE", "V", 33))

            async def answered() -> bool:
                return (await r.hget(key_value, "value")) in ("33", "33.0", "33.00")

            await until(answered, what="the driver's answer in redis")
            assert [c.identity for c in srv.clients] == ["site-east"]
        await r.aclose()


def test_a_tls_file_that_cannot_be_used_is_named_exit_2(tmp_path: Path) -> None:
    """``--itls-ca`` naming no file: the bridge stops at once with exit 2, naming it."""
    result = subprocess.run(
        [sys.executable, "-m", "indiredis", "inditoredis", str(tmp_path), "--iport", "7625",
         "--itls-ca", str(tmp_path / "nowhere-ca.crt")],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "nowhere-ca.crt" in result.stderr, result.stderr
