"""``indipy-conform --alpaca URL``: an ASCOM Alpaca server checked the way ConformU checks one.

First the management API (apiversions, description, configureddevices), then for each device
the protocol rules sent raw -- lower-case paths, a 4xx for an unknown type, number or member,
GET keys in any casing, PUT keys exactly cased with HTTP 400 and a reason for a mis-cased,
missing or unparseable one, ClientTransactionID echoed (0 for a mis-cased PUT key),
ServerTransactionID from 1 and increasing, the JSON envelope's exact keys -- and then the
device driven: connected, its common members read, a short safe sequence per type (a focuser
moves and halts, a wheel turns, a telescope unparks, slews, aborts and parks as its Can*
allow, a camera takes a short dark frame read as ImageBytes and as JSON), the error numbers
it answers (0x401 for a value out of range, 0x407 when disconnected) and its connection put
back as found. One `Check` per rule or member; a server's deviation is a FAIL naming the rule.

The checker and its requests are ``alpacachecker``; each type's sequence ``alpacadevices``;
this module runs them in order and checks what spans the whole server (its transaction IDs).

Synchronous on purpose: each request is bounded (``http_timeout``), each wait for a
completion property by ``step_timeout``; `check_alpaca` runs in a thread of its own when an
event loop must go on.
"""

from __future__ import annotations

import itertools
import logging

from .alpacachecker import SERVER
from .alpacachecker import AlpacaChecker
from .alpacachecker import AlpacaTarget
from .alpacachecker import parse_target
from .alpacadevices import SEQUENCES
from .alpacawire import AlpacaHttp
from .report import Check

__all__ = ["AlpacaTarget", "check_alpaca", "parse_target"]

log = logging.getLogger(__name__)

def check_alpaca(url: str, targets: list[AlpacaTarget] | None = None, *,
                 http_timeout: float = 10.0, step_timeout: float = 30.0,
                 out: list[Check] | None = None) -> list[Check]:
    """Every check of the Alpaca server at ``url`` (``http://HOST:PORT``): its management API,
    then each device of ``targets`` (all it configures when None), appended to ``out`` as they
    are made. ValueError for a malformed url; an unreachable server is a FAIL."""
    from .alpacawire import split_url

    host, port = split_url(url)
    checks: list[Check] = [] if out is None else out
    checker = AlpacaChecker(AlpacaHttp(host, port, http_timeout), checks, step_timeout,
                             SEQUENCES)
    probe = checker.http.get("/management/apiversions")
    if probe.error:
        checker.failed(SERVER, "reach", f"{url}: {probe.error}")
        return checks
    listed = checker.management()
    chosen = targets if targets else listed or []
    if not chosen:
        checker.failed(SERVER, "devices", "no device to check: the server lists none; name "
                                          "them as TYPE/NUMBER (camera/0)")
    by_label = {t.label: t for t in listed or []}
    for target in chosen:
        target = by_label.get(target.label, target)
        try:
            checker.device(target)
        except Exception as exc:  # an unforeseen error: FAIL, next device
            log.debug("checking %s", target.label, exc_info=True)
            checker.failed(target.label, "device", f"the checks stopped on an error: "
                                                   f"{type(exc).__name__}: {exc}")
    ids = checker.server_ids
    if ids:
        backwards = [(a, b) for a, b in itertools.pairwise(ids) if b <= a]
        if min(ids) < 1:
            checker.failed(SERVER, "ServerTransactionID", f"{min(ids)} seen: counts from 1")
        elif backwards:
            checker.failed(SERVER, "ServerTransactionID", f"not increasing: {backwards[0][0]} "
                           f"then {backwards[0][1]} ({len(backwards)} times)")
        else:
            checker.passed(SERVER, "ServerTransactionID", f"from {ids[0]} to {ids[-1]}, "
                                                          f"increasing, over {len(ids)} replies")
    return checks
