"""`AlpacaSpec`: what an ``alpaca://HOST:PORT[/type/n,...]`` driver argument names.

``alpaca://HOST:PORT`` takes every device the server's management API lists;
``alpaca://HOST:PORT/camera/0,telescope/0`` names them, for servers without that API
(alpaca-simulators 1.3.2). Standard library only: the server's command line parses it
before anything of the extra is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["SCHEME", "AlpacaSpec", "parse_alpaca_url"]

SCHEME = "alpaca://"

#: The device types an argument may name (the Alpaca URL spelling).
NAMED_TYPES = ("camera", "dome", "filterwheel", "focuser", "observingconditions", "rotator",
               "safetymonitor", "telescope")


@dataclass(frozen=True)
class AlpacaSpec:
    """An Alpaca server and, when named, which of its devices (type, number)."""

    host: str
    port: int
    devices: tuple[tuple[str, int], ...] | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __str__(self) -> str:
        named = ",".join(f"{kind}/{number}" for kind, number in self.devices or ())
        return f"alpaca://{self.base_url[7:]}" + (f"/{named}" if named else "")


def parse_alpaca_url(text: str) -> AlpacaSpec:
    """The spec `text` gives; ValueError saying what is wrong."""
    if not text.startswith(SCHEME):
        raise ValueError(f"{text!r}: an Alpaca server is alpaca://HOST:PORT[/camera/0,...]")
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{text!r}: bad port ({exc})") from None
    if not parts.hostname or port is None:
        raise ValueError(f"{text!r}: give the host and the port, alpaca://HOST:PORT")
    if not 0 < port < 65536:
        raise ValueError(f"{text!r}: bad port {port}")
    if parts.query or parts.fragment:
        raise ValueError(f"{text!r}: no ?query or #fragment in an Alpaca server's address")
    path = parts.path.strip("/")
    if not path:
        return AlpacaSpec(parts.hostname, port)
    devices: list[tuple[str, int]] = []
    for item in path.split(","):
        kind, _, number = item.strip().partition("/")
        if kind not in NAMED_TYPES:
            raise ValueError(f"{text!r}: device type {kind!r} is not one of "
                             f"{', '.join(NAMED_TYPES)}")
        if not (number.isascii() and number.isdigit()):
            raise ValueError(f"{text!r}: {item!r} needs a device number, as {kind}/0")
        if (kind, int(number)) in devices:
            raise ValueError(f"{text!r}: {item!r} is named twice")
        devices.append((kind, int(number)))
    return AlpacaSpec(parts.hostname, port, tuple(devices))
