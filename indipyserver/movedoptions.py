"""The keywords `IPyServer` took before its TLS port, its Unix socket and its Alpaca face became
methods (``listen_tls``, ``listen_unix``, ``serve_alpaca``): kept for one release, each use
warning (DeprecationWarning) which method to call instead.

Pure: it sorts the old keywords into the methods' arguments; the server makes the calls.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import TypedDict

__all__ = ["MOVED", "MovedCalls", "MovedOptions", "moved_calls"]


class MovedOptions(TypedDict, total=False):
    """The old keywords with their old types, so that mypy still checks a script using them
    (and refuses a misspelt one) while they last."""

    unix_path: str | None
    unix_attached: bool
    alpaca: int | None
    alpaca_host: str | None
    alpaca_discovery: int
    alpaca_registry: str | None
    alpaca_process: bool
    tls_port: int | None
    tls_handshake_timeout: float
    tls_cert: str | None
    tls_key: str | None
    tls_client_ca: str | None
    tls_host: str | None


#: Each old keyword: the method that replaced it and that method's argument.
MOVED: dict[str, tuple[str, str]] = {
    "unix_path": ("listen_unix", "path"),
    "unix_attached": ("listen_unix", "attached"),
    "tls_port": ("listen_tls", "port"),
    "tls_cert": ("listen_tls", "cert"),
    "tls_key": ("listen_tls", "key"),
    "tls_client_ca": ("listen_tls", "client_ca"),
    "tls_host": ("listen_tls", "host"),
    "tls_handshake_timeout": ("listen_tls", "handshake_timeout"),
    "alpaca": ("serve_alpaca", "port"),
    "alpaca_host": ("serve_alpaca", "host"),
    "alpaca_discovery": ("serve_alpaca", "discovery"),
    "alpaca_registry": ("serve_alpaca", "registry"),
    "alpaca_process": ("serve_alpaca", "process"),
}


@dataclass(frozen=True, slots=True)
class MovedCalls:
    """The method calls the old keywords stand for, as keyword arguments (None: not called,
    as the old keywords without their port or path did nothing)."""

    listen_unix: dict[str, Any] | None = None
    listen_tls: dict[str, Any] | None = None
    serve_alpaca: dict[str, Any] | None = None


def moved_calls(options: Mapping[str, object], *, stacklevel: int) -> MovedCalls:
    """The calls `options` (the constructor's catch-all) stand for, one DeprecationWarning per
    method naming it, at `stacklevel` as the constructor would give ``warnings.warn`` (2: the
    line calling ``IPyServer(...)``). A keyword that was never the server's is a TypeError, as
    for any function."""
    for name in options:
        if name not in MOVED:
            raise TypeError(f"IPyServer.__init__() got an unexpected keyword argument {name!r}")
    grouped: dict[str, dict[str, Any]] = {}
    for name, value in options.items():
        method, argument = MOVED[name]
        grouped.setdefault(method, {})[argument] = value
    for method in grouped:
        old = ", ".join(f"{name}=..." for name in options if MOVED[name][0] == method)
        warnings.warn(f"IPyServer({old}) is deprecated: call server.{method}(...) before "
                      "running the server", DeprecationWarning, stacklevel=stacklevel + 1)
    unix = grouped.get("listen_unix")
    tls = grouped.get("listen_tls")
    alpaca = grouped.get("serve_alpaca")
    if tls is not None and tls.get("port") is None:
        if tls.get("cert") or tls.get("key") or tls.get("client_ca"):
            raise ValueError("tls_cert, tls_key and tls_client_ca need a tls_port")
        tls = None
    if tls is not None:
        tls.setdefault("cert", "")  # listen_tls says it is missing
    return MovedCalls(
        listen_unix=unix if unix is not None and unix.get("path") is not None else None,
        listen_tls=tls,
        serve_alpaca=alpaca if alpaca is not None and alpaca.get("port") is not None else None,
    )
