"""How our server says it refused a client's new values, in words a client can recognise.

INDI 1.7 has no element for "the server would not pass this on": indilib's server drops such a
command silently, and the client waits its whole timeout. Ours answers with a ``message`` whose
text has one fixed form, written and read here only, so a client that sent ``device.vector``
ends its wait at once without guessing at prose (docs/remote-observatory.rst, "When a command
is refused"):

* ``permission denied: IDENTITY may not set DEVICE.VECTOR`` (the access rules say no);
* ``refused: the audit trail cannot record DEVICE.VECTOR now (...)`` (the audit cannot keep up).

The client knows the device and vector it sent, so it matches the text's end exactly: a device
name with dots or spaces in it cannot be misread.
"""

from __future__ import annotations

__all__ = ["DENIED", "REFUSED", "cannot_record", "is_refusal", "permission_denied", "refuses"]

#: What a refusal by the access rules starts with.
DENIED = "permission denied: "
#: What a refusal by the audit trail starts with.
REFUSED = "refused: the audit trail cannot record "
_AUDIT_TAIL = " now (its disk is behind); try again"


def permission_denied(identity: str, device: str, vector: str) -> str:
    """The message telling `identity` that the access rules refused its ``device.vector``."""
    return f"{DENIED}{identity} may not set {device}.{vector}"


def cannot_record(device: str, vector: str) -> str:
    """The message telling a client the audit trail could not record its command, so it was
    not done."""
    return f"{REFUSED}{device}.{vector}{_AUDIT_TAIL}"


def is_refusal(text: str) -> bool:
    """Whether a message's text is one of the refusals above (cheap: a prefix)."""
    return text.startswith((DENIED, REFUSED))


def refuses(text: str, device: str, vector: str) -> bool:
    """Whether a message's `text` says the server refused this client's new values of
    ``device.vector``."""
    if text.startswith(DENIED):
        return text.endswith(f" may not set {device}.{vector}")
    return text == cannot_record(device, vector)
