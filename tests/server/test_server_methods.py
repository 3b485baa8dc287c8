"""IPyServer's TLS port, Unix socket and Alpaca face as methods (``listen_tls``, ``listen_unix``,
``serve_alpaca``): a constructor of at most twelve parameters; the methods refused on a running
server, which keeps serving; and the keywords they replaced, which still work for one release,
each warning which method to call."""

from __future__ import annotations

import asyncio
import inspect
import ssl
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from serverkit import server
from tlskit import Pki

from indipyserver import IPyServer
from indipyserver.movedoptions import MOVED

HELLO = '<getProperties version="1.7"/>'


def unix_name() -> str:
    return f"/tmp/indipy-test-{uuid.uuid4().hex}"


def listening(srv: IPyServer) -> tuple[Any, ...]:
    """Everything the methods set, that the server reads when it starts."""
    context = srv.tls_context
    return (srv.unix_path, srv.unix_attached, srv.tls_port, srv.tls_host,
            srv.tls_handshake_timeout, context is not None,
            context.verify_mode if context is not None else None, srv.alpaca, srv.alpaca_host,
            srv.alpaca_discovery, srv.alpaca_registry, srv.alpaca_process)


#: Per old keyword: the old keywords given (CERT, KEY and CA stand for the test's files) and
#: the method call that does the same.
CASES: dict[str, tuple[dict[str, Any], Callable[[IPyServer, Pki], None]]] = {
    "unix_path": ({"unix_path": "/tmp/u"}, lambda s, p: s.listen_unix("/tmp/u")),
    "unix_attached": ({"unix_path": "/tmp/u", "unix_attached": False},
                      lambda s, p: s.listen_unix("/tmp/u", attached=False)),
    "tls_port": ({"tls_port": 7, "tls_cert": "CERT", "tls_key": "KEY"},
                 lambda s, p: s.listen_tls(7, p.server_cert, p.server_key)),
    "tls_cert": ({"tls_port": 0, "tls_cert": "CERT", "tls_key": "KEY"},
                 lambda s, p: s.listen_tls(0, p.server_cert, p.server_key)),
    "tls_key": ({"tls_port": 0, "tls_cert": "CERT", "tls_key": "KEY"},
                lambda s, p: s.listen_tls(0, p.server_cert, key=p.server_key)),
    "tls_client_ca": ({"tls_port": 0, "tls_cert": "CERT", "tls_key": "KEY", "tls_client_ca": "CA"},
                      lambda s, p: s.listen_tls(0, p.server_cert, p.server_key, client_ca=p.ca)),
    "tls_host": ({"tls_port": 0, "tls_cert": "CERT", "tls_key": "KEY", "tls_host": "0.0.0.0"},
                 lambda s, p: s.listen_tls(0, p.server_cert, p.server_key, host="0.0.0.0")),
    "tls_handshake_timeout": (
        {"tls_port": 0, "tls_cert": "CERT", "tls_key": "KEY", "tls_handshake_timeout": 2.5},
        lambda s, p: s.listen_tls(0, p.server_cert, p.server_key, handshake_timeout=2.5)),
    "alpaca": ({"alpaca": 11111}, lambda s, p: s.serve_alpaca(11111)),
    "alpaca_host": ({"alpaca": 0, "alpaca_host": "0.0.0.0"},
                    lambda s, p: s.serve_alpaca(0, host="0.0.0.0")),
    "alpaca_discovery": ({"alpaca": 0, "alpaca_discovery": 0},
                         lambda s, p: s.serve_alpaca(0, discovery=0)),
    "alpaca_registry": ({"alpaca": 0, "alpaca_registry": "/tmp/ids.json"},
                        lambda s, p: s.serve_alpaca(0, registry="/tmp/ids.json")),
    "alpaca_process": ({"alpaca": 0, "alpaca_process": True},
                       lambda s, p: s.serve_alpaca(0, process=True)),
}


def test_the_constructor_takes_at_most_twelve_parameters() -> None:
    """The constructor stays small (issue 69): drivers, address, limits, access rules and the
    catch-all for the deprecated keywords; listeners and the Alpaca face are methods."""
    parameters = inspect.signature(IPyServer).parameters
    assert len(parameters) <= 12, list(parameters)
    assert {"drivers", "host", "port"} <= parameters.keys()
    assert not {"tls_port", "unix_path", "alpaca"} & parameters.keys()


def test_every_old_keyword_has_its_case() -> None:
    """No old keyword is left without the test below."""
    assert CASES.keys() == MOVED.keys()


@pytest.mark.parametrize("keyword", list(CASES))
def test_an_old_keyword_still_works_and_warns_naming_its_method(keyword: str,
                                                                tls_pki: Pki) -> None:
    """``IPyServer(KEYWORD=...)`` still sets up what the method does (the same state the server
    starts from), with one DeprecationWarning naming the keyword and ``server.METHOD(...)``,
    pointing at the caller's line."""
    old, call = CASES[keyword]
    files = {"CERT": str(tls_pki.server_cert), "KEY": str(tls_pki.server_key),
             "CA": str(tls_pki.ca)}
    given = {name: files.get(value, value) if isinstance(value, str) else value
             for name, value in old.items()}
    method = MOVED[keyword][0]
    with pytest.warns(DeprecationWarning,
                      match=rf"IPyServer\(.*{keyword}=\.\.\..*\) is deprecated: call "
                            rf"server\.{method}\(\.\.\.\)") as record:
        by_keyword = IPyServer(make_gadget(), port=0, handle_signals=False, **given)
    assert len(record) == 1 and record[0].filename == __file__
    by_method = IPyServer(make_gadget(), port=0, handle_signals=False)
    call(by_method, tls_pki)
    assert listening(by_keyword) == listening(by_method)
    assert listening(by_method) != listening(IPyServer(port=0, handle_signals=False))


async def test_a_server_made_with_the_old_keywords_serves_tls_and_unix_clients(
    tls_pki: Pki,
) -> None:
    """The old keywords open what they opened before: a TLS client with a certificate and a
    client on the Unix socket both get the gadget's definitions."""
    path = unix_name()
    with pytest.warns(DeprecationWarning):
        srv = server(make_gadget(), unix_path=path, tls_port=0,
                     tls_cert=str(tls_pki.server_cert), tls_key=str(tls_pki.server_key),
                     tls_client_ca=str(tls_pki.ca))
    async with running(srv):
        tls = await RawClient.connect(srv.tls_port, ssl=tls_pki.client_context("observer"))
        reader, writer = await asyncio.open_unix_connection("\0" + path)
        local = RawClient(reader, writer)
        try:
            for client in (tls, local):
                await client.send(HELLO)
                await client.wait_for("defNumberVector", name="VALUE")
        finally:
            await local.close()


def test_a_keyword_that_never_was_the_servers_is_a_type_error() -> None:
    """The catch-all for the old keywords takes only those: a misspelt one fails as it did."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'tls_prot'"):
        IPyServer(tls_prot=0)  # type: ignore[call-arg]


def test_old_tls_files_without_a_tls_port_are_still_refused() -> None:
    """``IPyServer(tls_cert=...)`` without ``tls_port`` was a ValueError, and still is."""
    with pytest.warns(DeprecationWarning, match="listen_tls"), \
            pytest.raises(ValueError, match="need a tls_port"):
        IPyServer(tls_cert="server.crt")


async def test_the_methods_refuse_a_running_server_which_keeps_serving(tls_pki: Pki) -> None:
    """Listeners open when the server starts: on a running server each method raises
    RuntimeError saying so, opens nothing, and the server goes on serving its clients."""
    async with running(server(make_gadget())) as srv:
        calls: list[Callable[[], None]] = [
            lambda: srv.listen_unix(unix_name()),
            lambda: srv.listen_tls(0, tls_pki.server_cert, tls_pki.server_key),
            lambda: srv.serve_alpaca(0),
        ]
        for call in calls:
            with pytest.raises(RuntimeError, match=r"must be called before the server runs"):
                call()
        assert (srv.unix_path, srv.tls_port, srv.alpaca) == (None, None, None)
        client = await RawClient.connect(srv.port)
        await client.send(HELLO)
        await client.wait_for("defNumberVector", name="VALUE")


def test_a_method_called_twice_is_refused(tls_pki: Pki) -> None:
    """A server has one TLS port, one Unix socket and one Alpaca face: a second call raises
    rather than silently replacing the first."""
    srv = IPyServer(port=0, handle_signals=False)
    srv.listen_unix("/tmp/a")
    srv.listen_tls(0, tls_pki.server_cert, tls_pki.server_key)
    srv.serve_alpaca(0)
    for call in (lambda: srv.listen_unix("/tmp/b"),
                 lambda: srv.listen_tls(1, tls_pki.server_cert, tls_pki.server_key),
                 lambda: srv.serve_alpaca(1)):
        with pytest.raises(RuntimeError, match="already called"):
            call()
    assert (srv.unix_path, srv.tls_port, srv.alpaca) == ("/tmp/a", 0, 0)


@pytest.mark.parametrize(("call", "says"), [
    (lambda s, p: s.listen_tls(70000, p.server_cert), r"port number \(0..65535\)"),
    (lambda s, p: s.listen_tls(0, ""), "needs the server's certificate"),
    (lambda s, p: s.listen_tls(0, p.server_cert, p.server_key, handshake_timeout=0),
     "must be positive"),
    (lambda s, p: s.listen_unix(""), "needs a socket path"),
    (lambda s, p: s.serve_alpaca(70000), r"must be ports \(0..65535\)"),
    (lambda s, p: s.serve_alpaca(0, discovery=-1), r"must be ports \(0..65535\)"),
])
def test_bad_method_arguments_are_a_value_error_when_called(
    call: Callable[[IPyServer, Pki], None], says: str, tls_pki: Pki,
) -> None:
    """A wrong argument is refused at the call, saying what is wrong, not when the server
    starts."""
    with pytest.raises(ValueError, match=says):
        call(IPyServer(port=0, handle_signals=False), tls_pki)


def test_the_alpaca_face_needs_the_plain_port() -> None:
    """The face is an INDI client of the plain TCP port: without one (port=None) serve_alpaca
    says so at once."""
    srv = IPyServer(port=None, handle_signals=False)
    srv.listen_unix(unix_name())
    with pytest.raises(ValueError, match="client of the plain TCP port"):
        srv.serve_alpaca(0)


async def test_a_server_with_nothing_to_listen_on_says_so_when_it_starts() -> None:
    """``port=None`` and neither listen_tls nor listen_unix called: asyncrun raises ValueError
    naming the two methods (it cannot be known before, as they come after the constructor)."""
    with pytest.raises(ValueError, match=r"nothing to listen on.*listen_tls\(\).*listen_unix"):
        await asyncio.wait_for(IPyServer(port=None, handle_signals=False).asyncrun(), 10)


async def test_a_server_without_a_plain_port_serves_the_tls_port_alone(tls_pki: Pki) -> None:
    """``port=None`` with ``listen_tls``: a TLS client is served, and ``port`` is 0."""
    srv = IPyServer(make_gadget(), host="127.0.0.1", port=None, handle_signals=False)
    srv.listen_tls(0, tls_pki.server_cert, tls_pki.server_key, client_ca=tls_pki.ca)
    async with running(srv):
        assert srv.port == 0 and srv.tls_port
        client = await RawClient.connect(srv.tls_port, ssl=tls_pki.client_context())
        await client.send(HELLO)
        await client.wait_for("defNumberVector", name="VALUE")


def test_paths_are_taken_as_path_objects(tls_pki: Pki, tmp_path: Path) -> None:
    """The methods take ``pathlib.Path`` files as well as strings (the registry and the socket
    kept as strings, as the face and the listener are given them)."""
    srv = IPyServer(port=0, handle_signals=False)
    srv.listen_tls(0, tls_pki.server_cert, tls_pki.server_key, client_ca=tls_pki.ca)
    srv.serve_alpaca(0, registry=tmp_path / "ids.json")
    srv.listen_unix(tmp_path / "indi.sock")
    assert srv.tls_context is not None and srv.tls_context.verify_mode == ssl.CERT_REQUIRED
    assert srv.alpaca_registry == str(tmp_path / "ids.json")
    assert srv.unix_path == str(tmp_path / "indi.sock")
