"""The TXT record an INDI server announces with (``_indi._tcp``), written and read; pure.

Keys (RFC 6763 section 6: ``key=value`` strings, keys case-insensitive, the first of a repeated
key counts):

- ``txtvers=1``: this layout; ``protovers=1.7``: the INDI protocol version.
- ``software=indipyserver``, ``version=``: the server's software and its version.
- ``tls=PORT``: the TLS port, when it has one (the instance whose port is that one is TLS).
- ``alpaca=PORT``: the Alpaca face's HTTP port; ``web=URL``: the web client beside the server.
- ``ndev=N``: how many devices the server has; ``dev0=`` ... ``devK-1=``: the names of the first
  K of them, in order, as many as fit. K < N says there are more than the record lists (a
  client asks the server itself for the rest).

DNS-SD's limits: each string is at most 255 bytes, and a record should stay under about 1300
bytes so that it fits one packet with the rest of the answer (RFC 6763 6.1-6.2); `RECORD_LIMIT`
is what ours stays within. Devices are listed until the next would pass it; a name too long
for a string of its own is left out (and counted in ``ndev``). Other values that do not fit a
string are a ValueError: they are the server's configuration, not its devices.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Sequence

__all__ = ["RECORD_LIMIT", "STRING_LIMIT", "TXT_VERSION", "parse_txt", "server_txt",
           "txt_devices", "web_txt"]

#: The longest ``key=value`` string (its length is one byte).
STRING_LIMIT = 255
#: The most bytes a record of ours takes (each string and its length byte).
RECORD_LIMIT = 1300
TXT_VERSION = "1"
PROTOCOL_VERSION = "1.7"
_PORT_KEYS = ("tls", "alpaca")
_DEV = re.compile(r"dev(0|[1-9][0-9]*)")


def _size(key: str, value: str) -> int:
    return 1 + len(key.encode()) + 1 + len(value.encode())


def server_txt(*, version: str, software: str = "indipyserver", tls_port: int | None = None,
               alpaca_port: int | None = None, web: str | None = None,
               devices: Sequence[str] = ()) -> dict[str, str]:
    """The TXT record of an INDI server, in order, within `STRING_LIMIT` per string and
    `RECORD_LIMIT` in all (the devices cut cleanly: ``ndev`` counts them all)."""
    record = {"txtvers": TXT_VERSION, "protovers": PROTOCOL_VERSION, "software": software,
              "version": version}
    if tls_port is not None:
        record["tls"] = str(tls_port)
    if alpaca_port is not None:
        record["alpaca"] = str(alpaca_port)
    if web is not None:
        record["web"] = web
    record["ndev"] = str(len(devices))
    for key, value in record.items():
        if _size(key, value) - 1 > STRING_LIMIT:
            raise ValueError(f"TXT {key}= is {len(value.encode())} bytes long: a DNS-SD string "
                             f"holds at most {STRING_LIMIT} with its key")
    used = sum(_size(k, v) for k, v in record.items())
    listed = 0
    for name in devices:
        key = f"dev{listed}"
        size = _size(key, name)
        if size - 1 > STRING_LIMIT:
            continue  # a name no string can hold: counted in ndev, not listed
        if used + size > RECORD_LIMIT:
            break
        record[key] = name
        used += size
        listed += 1
    return record


def web_txt(path: str = "/") -> dict[str, str]:
    """The TXT record of a web client's ``_http._tcp`` (RFC 6763's ``path=``)."""
    if _size("path", path) - 1 > STRING_LIMIT:
        raise ValueError(f"TXT path= is too long for a DNS-SD string ({len(path.encode())} "
                         "bytes)")
    return {"txtvers": TXT_VERSION, "path": path}


def _decoded(raw: Mapping[bytes, bytes | None], problems: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw_key, raw_value in raw.items():
        try:
            key = raw_key.decode("ascii").lower()
        except UnicodeDecodeError:
            problems.append(f"a key that is not ASCII ({raw_key!r}) skipped")
            continue
        if not key or "=" in key:
            problems.append(f"a malformed key {key!r} skipped")
            continue
        if key in values:
            continue  # RFC 6763 6.4: the first of a repeated key counts
        if raw_value is None:
            problems.append(f"{key} has no value: skipped")
            continue
        try:
            values[key] = raw_value.decode()
        except UnicodeDecodeError:
            problems.append(f"{key}= is not UTF-8: skipped")
    return values


def _check(values: dict[str, str], problems: list[str]) -> None:
    for key in ("txtvers", "protovers"):
        if key not in values:
            problems.append(f"no {key}= (read as {TXT_VERSION if key == 'txtvers' else '1.7'})")
    if values.get("txtvers", TXT_VERSION) != TXT_VERSION:
        problems.append(f"txtvers={values['txtvers']} is not {TXT_VERSION}: read as it")
    for key in _PORT_KEYS:
        if key in values and not (values[key].isdigit() and 0 < int(values[key]) < 65536):
            problems.append(f"{key}={values.pop(key)} is not a port: skipped")
    if "web" in values and not values["web"].startswith(("http://", "https://")):
        problems.append(f"web={values.pop('web')} is not an http(s) URL: skipped")
    if "ndev" in values and not values["ndev"].isdigit():
        problems.append(f"ndev={values.pop('ndev')} is not a count: skipped")
    listed, total = txt_devices(values)
    numbered = sorted(int(m.group(1)) for k in values if (m := _DEV.fullmatch(k)))
    if numbered != list(range(len(numbered))):
        problems.append(f"devices numbered {numbered}, not 0..{len(numbered) - 1}: those after "
                        f"a gap skipped")
    if "ndev" in values and total < len(listed):
        problems.append(f"ndev={total} but {len(listed)} devices listed")


def parse_txt(raw: Mapping[bytes, bytes | None]) -> tuple[dict[str, str], list[str]]:
    """A received TXT record (zeroconf's ``properties``) read: the values (keys in lower
    case) and the problems found, each said in words. What is wrong is skipped, never
    raised: one bad record does not stop a listing."""
    problems: list[str] = []
    values = _decoded(raw, problems)
    _check(values, problems)
    return values, problems


def txt_devices(values: Mapping[str, str]) -> tuple[list[str], int]:
    """The device names a record lists (``dev0`` on, up to the first gap) and how many the
    server says it has (``ndev``, else the number listed)."""
    listed: list[str] = []
    while f"dev{len(listed)}" in values:
        listed.append(values[f"dev{len(listed)}"])
    count = values.get("ndev", "")
    return listed, int(count) if count.isdigit() else len(listed)
