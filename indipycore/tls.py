"""TLS for INDI connections: the contexts both ends make, and who a certificate names.

INDI has no authentication of its own; TLS with client certificates gives it one without a
VPN (docs/remote-observatory.rst). The server's TLS port (``indipyserver.clients.tlsport``),
its remotes (``indipyserver.drivers.remote``) and every client of ours (the library's
``connect(..., ssl=...)``, the command-line tools' ``--tls-ca``, the bridges, the terminal
and the web client) make their contexts here, so that one set of files means the same thing
everywhere: a CA to verify the peer with, and our own certificate and key to present.

Standard library only (``ssl``). A file that is missing or is not what it should be raises
``TLSFileError`` (a ValueError) naming the file and the reason, at start, not at the first
connection.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

__all__ = ["TLSFileError", "client_context", "common_name", "server_context", "tls_reason"]


class TLSFileError(ValueError):
    """A certificate, key or CA file that cannot be used: which, and why."""


def server_context(cert: str, key: str | None = None,
                   client_ca: str | None = None) -> ssl.SSLContext:
    """A server's context: `cert` (PEM, the chain after it if any) and `key` (None: in `cert`)
    presented to clients; with `client_ca`, every client must present a certificate signed by
    that CA (CERT_REQUIRED), whose subject CN is its identity (`common_name`)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _load_chain(context, cert, key)
    if client_ca is not None:
        _load_ca(context, client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(ca: str | None = None, cert: str | None = None, key: str | None = None,
                   check_hostname: bool = True) -> ssl.SSLContext:
    """A client's context (a remote's too): the server's certificate verified against `ca`
    alone (a site's own CA: no public CA can vouch for its servers), or the system's CAs
    without one; its host name checked unless `check_hostname` is False (a server reached by
    an address its certificate does not name); `cert` and `key` (None: in `cert`) presented
    when the server asks for a client certificate."""
    if ca is None:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks the name
        _load_ca(context, ca)
    if key is not None and cert is None:
        raise TLSFileError("a client key was given without its certificate")
    if cert is not None:
        _load_chain(context, cert, key)
    context.check_hostname = check_hostname
    return context


def common_name(peercert: Mapping[str, Any] | None) -> str | None:
    """The subject CN of a certificate as ``getpeercert()`` gives it, None if it has none
    (or there is no certificate)."""
    if not peercert:
        return None
    subject: Iterable[Iterable[tuple[str, str]]] = peercert.get("subject", ())
    for rdn in subject:
        for name, value in rdn:
            if name == "commonName":
                return value
    return None


def tls_reason(exc: ssl.SSLError) -> str:
    """A TLS failure as a user reads it: ``certificate verify failed: unable to get local
    issuer certificate``, ``tlsv13 alert certificate required``."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    if exc.reason:
        return exc.reason.replace("_", " ").lower()
    return str(exc) or type(exc).__name__


def _load_chain(context: ssl.SSLContext, cert: str, key: str | None) -> None:
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as exc:
        raise TLSFileError(f"TLS certificate or key not found: {exc.filename or cert}") from exc
    except (ssl.SSLError, OSError) as exc:
        raise TLSFileError(f"cannot use TLS certificate {cert}"
                           f"{f' with key {key}' if key else ''}: {_why(exc)}") from exc


def _load_ca(context: ssl.SSLContext, ca: str) -> None:
    try:
        context.load_verify_locations(cafile=ca)
    except FileNotFoundError as exc:
        raise TLSFileError(f"TLS CA file not found: {ca}") from exc
    except (ssl.SSLError, OSError) as exc:
        raise TLSFileError(f"cannot use TLS CA file {ca}: {_why(exc)}") from exc


def _why(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        if exc.reason and exc.reason != "PEM_LIB":
            return exc.reason.replace("_", " ").lower()
        return "not a PEM file OpenSSL can read as one"
    return str(exc.args[-1] if exc.args else exc)
