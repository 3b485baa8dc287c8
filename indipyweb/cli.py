"""The ``indipyweb`` command (also ``python -m indipyweb``).

    indipyweb [--host 127.0.0.1] [--port 8000] [--indihost localhost] [--indiport 7624]
              [--dbfolder DIR] [--blobfolder DIR] [--basepath /prefix] [--securecookie True]
              [--certfile F --keyfile F] [--maxupload MB] [--demo] [--version]
              [--no-announce] [--mdns-interface NAME]... [--nights DIR]
    indipyweb adduser NAME --role viewer|operator|admin [--dbfolder DIR]

`adduser` prompts for the password on a terminal and reads one line from standard input
otherwise (for scripts; it says so on standard error, so a script that forgot to give one is
not left waiting in silence). A start that finds no admin in the database (empty, or only the
users ``adduser`` made) creates ``admin`` with a random password and prints it once; later
starts say how to reset the admins' passwords, by name. The database is in the user's data folder unless ``--dbfolder``
names another (`users.default_dbfolder`); the command says where. The web port is bound before
anything else starts, and "open http://..." printed once it listens (`listen`): a port that
cannot be had is said in one line, exit status 1. With the extra ``[discovery]`` it is
announced by DNS-SD (``_http._tcp``; ``announcing``), and with ``--demo`` so is its server.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import shlex
import signal
import socket
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version
from typing import Any

from indipycore.commandline import configure_logging

from .settings import TLSFiles
from .users import Role
from .users import UserDB
from .users import default_dbfolder

__all__ = ["main"]


def _version() -> str:
    try:
        return version("indipy-toolkit")
    except PackageNotFoundError:
        return "unknown"


def _indi_tls(args: argparse.Namespace) -> TLSFiles | None:
    """The --indi-tls-* files, checked now (a bad one stops the command, named)."""
    files = TLSFiles(args.indi_tls_ca, args.indi_tls_cert, args.indi_tls_key)
    if not (files.ca or files.cert or files.key):
        return None
    try:
        files.context()
    except ValueError as exc:
        raise SystemExit(f"indipyweb: {exc}") from None
    return files


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"True or False, not {text!r}")


def _serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="indipyweb", description="A web client for any INDI "
                                "server: live pages, users and roles, a JSON API.")
    p.add_argument("--host", default="127.0.0.1", help="web address to listen on (default "
                   "127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="web port (default 8000)")
    p.add_argument("--indihost", default="localhost", help="INDI server host")
    p.add_argument("--indiport", type=int, default=None, help="INDI server port (default 7624; "
                   "with --demo, the demo server's port: a free one unless given)")
    p.add_argument("--indi-tls-ca", default="", metavar="FILE",
                   help="reach the INDI server's TLS port: its certificate verified with this "
                        "CA (docs/remote-observatory.rst)")
    p.add_argument("--indi-tls-cert", default="", metavar="FILE",
                   help="our certificate for the INDI server's TLS port (its CN names us)")
    p.add_argument("--indi-tls-key", default="", metavar="FILE",
                   help="its key (default: in --indi-tls-cert)")
    p.add_argument("--dbfolder", default=None, help="folder of indipyweb.db (users, settings; "
                   f"default {default_dbfolder()})")
    p.add_argument("--blobfolder", default=None, help="folder for received BLOBs (none: BLOBs "
                   "are not asked for)")
    p.add_argument("--nights", default=None, metavar="DIR",
                   help="the imager agent's image folder (IMAGE_FOLDER): its nights drawn at "
                        "/night (none: no nights page)")
    p.add_argument("--basepath", default="", help="serve under this URL prefix (behind a proxy)")
    p.add_argument("--securecookie", type=_bool, default=False, metavar="True|False",
                   help="mark cookies Secure (behind a TLS proxy; automatic with --certfile)")
    p.add_argument("--certfile", default=None, help="TLS certificate (PEM) to serve HTTPS")
    p.add_argument("--keyfile", default=None, help="TLS private key (PEM)")
    p.add_argument("--maxupload", type=float, default=50.0, help="largest upload, MB (50)")
    p.add_argument("--demo", action="store_true", help="also run our INDI server with the demo "
                   "thermostat in this process, and connect to it")
    p.add_argument("--no-announce", action="store_false", dest="announce",
                   help="do not announce by DNS-SD (_http._tcp, and with --demo the server's "
                        "_indi._tcp; announced by default with the extra [discovery])")
    p.add_argument("--mdns-interface", action="append", default=[], metavar="NAME",
                   dest="mdns_interfaces", help="announce on this network interface only "
                   "(repeatable; default: INDIPY_MDNS_INTERFACES, else every multicast one)")
    p.add_argument("--version", action="version", version=f"indipyweb {_version()}")
    return p


def _adduser(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="indipyweb adduser", description="Add a user, or set a "
                                "user's password and role.")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=[str(r) for r in Role])
    p.add_argument("--dbfolder", default=None, help=f"default {default_dbfolder()}")
    args = p.parse_args(argv)
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 1
    else:
        print(f"indipyweb adduser: reading the password for {args.name} from standard input "
              f"(one line; no terminal to ask on)", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            print("indipyweb adduser: standard input ended before a password: give it one "
                  "line, e.g. printf '%s\\n' \"$PASSWORD\" | indipyweb adduser NAME --role ROLE",
                  file=sys.stderr)
            return 1
        password = line.rstrip("\r\n")
    db = UserDB(args.dbfolder)
    try:
        db.set_user(args.name, password, args.role)
    except ValueError as exc:
        print(f"indipyweb adduser: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(f"user {args.name} ({args.role}) saved in {db.path}")
    return 0


def admin_lines(password: str | None, admins: list[str], folder: str) -> list[str]:
    """What a start says of the admins: the first one's password, made now (shown once);
    else how to reset the password of the admins there are, by name; else (a user named
    ``admin`` of another role holds the name) how to make one. Only an admin sees the Users
    page and the servers found on the network."""
    where = f"--dbfolder {shlex.quote(folder)}"
    if password is not None:
        return ["no admin yet: created the user 'admin' with the password " + password,
                "it is shown only this once: log in as admin to manage users and see the "
                "servers found on the network (change it on the Users page, or: indipyweb "
                f"adduser admin --role admin {where})"]
    if admins:
        return [f"to reset the password of {name} (admin): indipyweb adduser "
                f"{shlex.quote(name)} --role admin {where}" for name in admins]
    return ["there is no admin (only an admin manages users and sees the servers found on "
            f"the network): create one with: indipyweb adduser NAME --role admin {where}"]


async def _serve(args: argparse.Namespace, sockets: list[socket.socket]) -> None:
    import uvicorn

    from .app import make_app
    from .listen import serve
    from .listen import web_url

    indiport = args.indiport if args.indiport is not None else 7624
    server: Any = None
    server_task: asyncio.Task[None] | None = None
    demo_folder: str | None = None  # a BLOB folder the demo made itself, removed on exit
    announcing: asyncio.Task[None] | None = None
    try:
        if args.demo:
            from indipyserver import IPyServer
            from indipyserver.demo import make_driver

            # --indiport names the demo server's port (other clients are pointed at it); without
            # it a free one, since 7624 may already be indiserver's.
            server = IPyServer(make_driver(interval=1.0), port=args.indiport or 0,
                               handle_signals=False)
            if args.announce:
                server.announce(args.mdns_interfaces or None, web=_announced_url(args, sockets))
            server_task = asyncio.create_task(server.asyncrun())
            await server.started()
            indiport = server.port
            print(f"indipyweb: demo INDI server (the thermostat) on localhost:{indiport}")
            if args.blobfolder is None:  # so the demo's CSV log BLOBs show on the BLOBs page
                import tempfile

                args.blobfolder = demo_folder = tempfile.mkdtemp(prefix="indipyweb-demo-blobs-")
                print(f"indipyweb: the demo's BLOBs are saved in {args.blobfolder} "
                      f"(removed on exit)")
        app = make_app(indihost="localhost" if args.demo else args.indihost, indiport=indiport,
                       dbfolder=args.dbfolder if args.dbfolder is not None else default_dbfolder(), blobfolder=args.blobfolder,
                       basepath=args.basepath, securecookie=args.securecookie or bool(args.certfile),
                       max_upload_mb=args.maxupload, saved_server=not args.demo,
                       indi_tls=_indi_tls(args), mdns_interfaces=args.mdns_interfaces or None,
                       nights=args.nights)
        config = uvicorn.Config(app, host=args.host, port=args.port, ssl_certfile=args.certfile,
                                ssl_keyfile=args.keyfile, log_level="info", proxy_headers=False,
                                timeout_graceful_shutdown=3)  # open SSE streams never end alone
        url = web_url("https" if args.certfile else "http", args.host, sockets,
                      app.state.web.base)
        if args.announce:
            from .announcing import announce_web

            announcing = asyncio.create_task(announce_web(
                args.host, sockets[0].getsockname()[1], app.state.web.base,
                args.mdns_interfaces or None), name="dns-sd")
        await serve(config, sockets, lambda: print(f"indipyweb: open {url}", flush=True))
    finally:
        if announcing is not None:
            announcing.cancel()  # the goodbye
            await asyncio.gather(announcing, return_exceptions=True)
        if server is not None and server_task is not None:
            server.shutdown()
            await server_task
        if demo_folder is not None:
            import shutil

            shutil.rmtree(demo_folder, ignore_errors=True)


def _announced_url(args: argparse.Namespace, sockets: list[socket.socket]) -> str:
    """The web client's URL the demo server's TXT record gives (``web=``)."""
    from .announcing import announced_url

    base = "/" + args.basepath.strip("/") if args.basepath.strip("/") else ""
    return announced_url("https" if args.certfile else "http", args.host,
                         sockets[0].getsockname()[1], base)


def _check_mdns(args: argparse.Namespace) -> None:
    """A --mdns-interface this machine does not have stops the command, naming those it has."""
    if args.mdns_interfaces:
        from indipydiscovery.interfaces import chosen_interfaces

        try:
            chosen_interfaces(args.mdns_interfaces)
        except ValueError as exc:
            raise SystemExit(f"indipyweb: --mdns-interface: {exc}") from None


# What the web extra installs that serving needs (pyproject.toml's [web]).
WEB_MODULES = ("starlette", "uvicorn", "jinja2", "multipart")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["adduser"]:
        return _adduser(argv[1:])
    args = _serve_parser().parse_args(argv)
    from indipyclient.frontends.extras import require_extra

    require_extra("indipyweb", "web", WEB_MODULES)
    _check_mdns(args)
    if bool(args.certfile) != bool(args.keyfile):
        print("indipyweb: --certfile and --keyfile go together", file=sys.stderr)
        return 2
    from .listen import WebPortError
    from .listen import bind_web_port

    try:  # first: a port another program holds stops the command before anything starts
        sockets = bind_web_port(args.host, args.port)
    except WebPortError as exc:
        print(f"indipyweb: {exc}", file=sys.stderr)
        return 1
    configure_logging(logging.INFO)
    db = UserDB(args.dbfolder)
    password = db.ensure_admin()
    admins = db.admins()
    db.close()
    print(f"indipyweb: users and settings are in {db.path.resolve()}", flush=True)
    for line in admin_lines(password, admins, str(db.folder.resolve())):
        print(f"indipyweb: {line}", flush=True)
    # SIGTERM stops the command as Ctrl-C does, so the finally clauses run (the demo's server
    # stopped, its folder removed): uvicorn restores this handler after its graceful shutdown
    # and raises the signal again, which would otherwise kill the process at that point.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        asyncio.run(_serve(args, sockets))
    except KeyboardInterrupt:
        pass
    finally:
        for sock in sockets:
            sock.close()
    return 0
