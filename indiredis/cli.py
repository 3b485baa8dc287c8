"""``python -m indiredis``: the bridges from the command line.

    python -m indiredis BLOBFOLDER [--ihost H] [--iport 7624] [--rhost H] [--rport 6379]
                        [--prefix indi_] [--toindipub to_indi] [--fromindipub from_indi]

runs ``inditoredis`` and serves the ``indipyweb`` pages (the optional extra ``[web]``) at
``--host``:``-p`` with redis as their source of state (``websource.RedisSource``), as indiredis
0.7's command did with its own pages; ``--noweb`` runs the bridge alone. One sub-command per
bridge, for use without Python::

    python -m indiredis inditoredis BLOBFOLDER [--ihost ...] [--rhost ...]
    python -m indiredis driverstoredis BLOBFOLDER DRIVER [DRIVER ...]
    python -m indiredis inditomqtt MQTT_ID [--ihost ...] [--mhost ...] [--subscribe ID ...]
    python -m indiredis driverstomqtt MQTT_ID DRIVER [DRIVER ...] [--mhost ...]
    python -m indiredis mqtttoredis MQTT_ID BLOBFOLDER [--mhost ...] [--rhost ...] [--share K/N]
    python -m indiredis mqtttoport MQTT_ID [--port 7624] [--host localhost] [--mhost ...]
"""

from __future__ import annotations

import argparse
import logging
import socket
import ssl
import sys
from collections.abc import Sequence

from indipycore.commandline import configure_logging
from indipycore.tls import TLSFileError
from indipycore.tls import client_context

from .hosts import IndiServer
from .hosts import MqttServer
from .hosts import RedisServer

__all__ = ["main"]

logger = logging.getLogger(__name__)

COMMANDS = ("inditoredis", "driverstoredis", "inditomqtt", "driverstomqtt", "mqtttoredis",
            "mqtttoport")


def _indi(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ihost", default="localhost",
                        help="INDI server host (localhost), or a discovered server's name as "
                             "indipy-discover lists it")
    parser.add_argument("--iport", type=int, default=7624, help="INDI server port (7624)")
    parser.add_argument("--itls-ca", default=None, metavar="FILE",
                        help="reach the INDI server's TLS port: its certificate verified with "
                             "this CA (docs/remote-observatory.rst)")
    parser.add_argument("--itls-cert", default=None, metavar="FILE",
                        help="our certificate for the INDI server's TLS port (its CN names us)")
    parser.add_argument("--itls-key", default=None, metavar="FILE",
                        help="its key (default: in --itls-cert)")


def _redis(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rhost", default="localhost", help="redis host (localhost)")
    parser.add_argument("--rport", type=int, default=6379, help="redis port (6379)")
    parser.add_argument("--rdb", type=int, default=0, help="redis database (0)")
    parser.add_argument("--rpassword", default="", help="redis password")
    parser.add_argument("--prefix", default="indi_", help="key prefix (indi_)")
    parser.add_argument("--toindipub", default="to_indi", help="channel to the INDI side")
    parser.add_argument("--fromindipub", default="from_indi", help="channel from it")


def _mqtt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mhost", default="localhost", help="MQTT broker host (localhost)")
    parser.add_argument("--mport", type=int, default=1883, help="MQTT broker port (1883)")
    parser.add_argument("--musername", default="", help="MQTT username")
    parser.add_argument("--mpassword", default="", help="MQTT password")
    parser.add_argument("--mcafile", default="", help="CA certificate: connect with TLS")
    parser.add_argument("--subscribe", nargs="*", default=[], metavar="ID",
                        help="only these MQTT ids (default: all)")


def _share(text: str) -> tuple[int, int]:
    from .topics import parse_share

    try:
        return parse_share(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _indi_host(ns: argparse.Namespace) -> IndiServer:
    """The INDI server of the options, over TLS when any --itls-* is given (a file that
    cannot be used: a ValueError naming it)."""
    tls = None
    if ns.itls_ca or ns.itls_cert or ns.itls_key:
        tls = client_context(ns.itls_ca, ns.itls_cert, ns.itls_key)
    return IndiServer(ns.ihost, ns.iport, tls)


def _redis_host(ns: argparse.Namespace) -> RedisServer:
    return RedisServer(ns.rhost, ns.rport, ns.rdb, ns.rpassword, ns.prefix, ns.toindipub,
                       ns.fromindipub)


def _mqtt_host(ns: argparse.Namespace) -> MqttServer:
    tls = ssl.create_default_context(cafile=ns.mcafile) if ns.mcafile else None
    return MqttServer(ns.mhost, ns.mport, ns.musername, ns.mpassword, tls=tls)


def _classic(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m indiredis",
                                     description="INDI <-> redis (inditoredis); see also the "
                                     f"sub-commands {', '.join(COMMANDS)}")
    parser.add_argument("blobfolder", help="folder for BLOB files (created if missing)")
    parser.add_argument("-p", "--port", type=int, default=8000, help="web port (8000)")
    parser.add_argument("--host", default="localhost", help="web host (localhost)")
    _indi(parser)
    _redis(parser)
    parser.add_argument("--dbfolder", default=None, help="folder of the web users' database "
                        "(default: the user's data folder, as indipyweb's)")
    parser.add_argument("--noweb", action="store_true", help="run inditoredis only")
    ns = parser.parse_args(argv)
    import asyncio

    sockets: list[socket.socket] = []
    if not ns.noweb:
        from indipyweb.listen import WebPortError
        from indipyweb.listen import bind_web_port

        try:  # before the bridge starts: a busy web port ends the command at once
            sockets = bind_web_port(ns.host, ns.port)
        except WebPortError as exc:
            raise WebPortBusy(str(exc)) from None
    try:
        asyncio.run(_classic_async(ns, sockets))
    finally:
        for sock in sockets:
            sock.close()


class WebPortBusy(Exception):
    """The web pages' port cannot be listened on (the message says why)."""


async def _classic_async(ns: argparse.Namespace, sockets: list[socket.socket]) -> None:
    """inditoredis and (unless --noweb) the indipyweb pages read from redis, in one loop; the
    pages name the INDI server the bridge connects to."""
    import asyncio

    from .toredis import inditoredis_async

    redis_host = _redis_host(ns)
    bridge = asyncio.create_task(inditoredis_async(_indi_host(ns), redis_host,
                                                   blob_folder=ns.blobfolder))
    try:
        if ns.noweb:
            await bridge
            return
        import uvicorn

        from indipyweb.app import make_app
        from indipyweb.listen import serve
        from indipyweb.listen import web_url
        from indipyweb.users import UserDB

        from .websource import RedisSource

        db = UserDB(ns.dbfolder)
        password = await db.aensure_admin()  # hashes off the loop: the bridge runs already
        db.close()
        if password is not None:
            print(f"indiredis: created the web user 'admin' with the password {password} "
                  "(shown only this once)", flush=True)
        print(f"indiredis: the web users are in {db.path.resolve()}", flush=True)
        app = make_app(RedisSource(redis_host, ns.ihost, ns.iport), indihost=ns.ihost,
                       indiport=ns.iport, dbfolder=db.folder, blobfolder=ns.blobfolder)
        config = uvicorn.Config(app, host=ns.host, port=ns.port, log_level="info",
                                proxy_headers=False, timeout_graceful_shutdown=3)
        url = web_url("http", ns.host, sockets)
        await serve(config, sockets, lambda: print(f"indiredis: open {url}", flush=True))
    finally:
        from .indilink import stop_task

        await stop_task(bridge)


def _command(name: str, argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m indiredis {name}")
    if name in ("inditoredis", "driverstoredis"):
        parser.add_argument("blobfolder")
    if name in ("inditomqtt", "driverstomqtt", "mqtttoredis", "mqtttoport"):
        parser.add_argument("mqtt_id", help="unique on the broker (also the MQTT client id)")
    if name == "mqtttoredis":
        parser.add_argument("blobfolder")
    if name in ("driverstoredis", "driverstomqtt"):
        parser.add_argument("drivers", nargs="+", help="executable drivers")
    if name in ("inditoredis", "inditomqtt"):
        _indi(parser)
    if name in ("inditoredis", "driverstoredis", "mqtttoredis"):
        _redis(parser)
    if name in ("inditomqtt", "driverstomqtt", "mqtttoredis", "mqtttoport"):
        _mqtt(parser)
    if name == "inditomqtt":
        parser.add_argument("--snoop-port", type=int, default=None,
                            help="listen on 127.0.0.1:PORT for the INDI server chained to it as "
                            "a remote, so its drivers can snoop other sites' devices")
    if name == "mqtttoredis":
        parser.add_argument("--qos", type=int, choices=(0, 1, 2), default=1,
                            help="QoS of its subscriptions (1; 2 costs two packets more a "
                            "message: see the bridges guide)")
        parser.add_argument("--share", type=_share, default=None, metavar="K/N",
                            help="be the K-th of N mqtttoredis splitting the sites (by a hash "
                            "of the site id); not with --subscribe")
    if name == "mqtttoport":
        parser.add_argument("--port", type=int, default=7624, help="INDI port (7624)")
        parser.add_argument("--host", default="localhost", help="INDI host (localhost)")
    ns = parser.parse_args(argv)
    from . import mqttclient
    from . import mqttsite
    from . import toredis

    if name == "inditoredis":
        toredis.inditoredis(_indi_host(ns), _redis_host(ns), blob_folder=ns.blobfolder)
    elif name == "driverstoredis":
        toredis.driverstoredis(ns.drivers, _redis_host(ns), blob_folder=ns.blobfolder)
    elif name == "inditomqtt":
        mqttsite.inditomqtt(_indi_host(ns), ns.mqtt_id, _mqtt_host(ns), ns.subscribe,
                            ns.snoop_port)
    elif name == "driverstomqtt":
        mqttsite.driverstomqtt(ns.drivers, ns.mqtt_id, _mqtt_host(ns), ns.subscribe)
    elif name == "mqtttoredis":
        if ns.share is not None and ns.subscribe:
            parser.error("--share and --subscribe exclude each other")
        mqttclient.mqtttoredis(ns.mqtt_id, _mqtt_host(ns), _redis_host(ns), ns.subscribe,
                               blob_folder=ns.blobfolder, qos=ns.qos, share=ns.share)
    else:
        mqttclient.mqtttoport(ns.mqtt_id, _mqtt_host(ns), ns.subscribe, ns.port, ns.host)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    configure_logging(logging.INFO)
    if not {"-h", "--help"} & set(args):
        from indipyclient.frontends.extras import require_extra

        # The command loads every bridge's module, so each sub-command needs both extras.
        require_extra("indiredis", "redis,mqtt", ("redis", "paho"))
        from .freedmemory import keep_freed_memory

        keep_freed_memory()  # each BLOB's buffers from the last one's pages (see there)
    try:
        if args and args[0] in COMMANDS:
            _command(args[0], args[1:])
        else:
            _classic(args)
    except WebPortBusy as exc:
        print(f"indiredis: {exc}", file=sys.stderr)
        return 1
    except TLSFileError as exc:  # --itls-*: a file that cannot be used, named
        print(f"indiredis: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from .mqttlink import MqttRefused  # loaded by then: a bridge ran

        if not isinstance(exc, MqttRefused):
            raise
        print(f"indiredis: {exc}", file=sys.stderr)
        return 2
    return 0
