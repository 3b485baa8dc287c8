"""The JSON replies of Alpaca: the envelope every HTTP 200 answer carries.

Keys are exactly cased, ErrorMessage is empty exactly when ErrorNumber is 0, a GET always has
`Value` (null on error, since strict clients flag a missing one), and NaN/Infinity -- invalid
JSON -- never leave: a non-finite value becomes an error reply instead.
"""

from __future__ import annotations

import json
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
_NO_VALUE = object()


def envelope(client_transaction_id: int, server_transaction_id: int, *, value: Any = _NO_VALUE,
             error_number: int = 0, error_message: str = "") -> dict[str, Any]:
    """The reply as a dict: `value` is left out only when not given (a PUT without result)."""
    if bool(error_number) != bool(error_message):
        raise ValueError("ErrorMessage must be non-empty exactly when ErrorNumber is not 0")
    reply: dict[str, Any] = {}
    if value is not _NO_VALUE:
        reply["Value"] = value
    reply.update(ClientTransactionID=client_transaction_id,
                 ServerTransactionID=server_transaction_id,
                 ErrorNumber=int(error_number), ErrorMessage=error_message)
    return reply


def reply_body(reply: dict[str, Any]) -> bytes:
    """The reply's JSON bytes; a value that is not finite JSON raises ValueError."""
    return json.dumps(reply, allow_nan=False, separators=(",", ":")).encode()
