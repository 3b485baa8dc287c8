"""The elements the server classifies and writes itself (message, delProperty, getProperties,
enableBLOB, pingReply), as `Frame`s so they are queued like forwarded ones.

Spelt by the protocol core's writer (`indipycore.protocol.serialiser`) in its one element per
line layout, names escaped as they came (`escape_entities`: a peer's name is passed on, never
refused)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from indipycore.protocol.enums import BLOBEnable
from indipycore.protocol.escaping import escape_entities
from indipycore.protocol.framing import Frame
from indipycore.protocol.serialiser import LINES
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import empty_element
from indipycore.protocol.serialiser import text_element

_KINDS = ("Text", "Number", "Switch", "Light", "BLOB")
DEF_TAGS = frozenset(f"def{k}Vector" for k in _KINDS)
SET_TAGS = frozenset(f"set{k}Vector" for k in _KINDS)
NEW_TAGS = frozenset(f"new{k}Vector" for k in _KINDS if k != "Light")
BLOB_TAGS = frozenset({"setBLOBVector", "newBLOBVector"})
#: Sets that `Router.driver_frames` passes on in runs (`to_clients_run`), and a driver's framer
#: frames as one where they repeat a shape (``protocol.runs``): all but BLOBs, which stream and
#: whose clients are chosen per BLOB.
RUN_TAGS = SET_TAGS - BLOB_TAGS
#: Elements a device sends about itself; the first one naming a device claims it.
DEVICE_TAGS = DEF_TAGS | SET_TAGS | {"message", "delProperty"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def element_frame(tag: str, attrs: dict[str, str]) -> Frame:
    """An empty element with these attributes (escaped), as a `Frame`."""
    text = "".join([attribute(k, escape_entities(v)) for k, v in attrs.items()])
    return Frame(tag, dict(attrs), empty_element(tag, text, LINES).encode())


def message_frame(message: str, timestamp: str | None = None, device: str | None = None) -> Frame:
    """A `message` element from the server itself."""
    attrs = {"device": device} if device else {}
    attrs["timestamp"] = timestamp or _now()
    attrs["message"] = message
    return element_frame("message", attrs)


def cut_short_frame(device: str, name: str, message: str) -> Frame:
    """A BLOB vector's state set to Alert with no member, after its image was cut short on
    the way through the server (``blobs.cutthrough``): a client that got the truncated image learns
    it is broken, one that got nothing learns why."""
    return element_frame("setBLOBVector", {"device": device, "name": name, "state": "Alert",
                                           "timestamp": _now(), "message": message})


def del_property_frame(device: str, name: str | None = None) -> Frame:
    """The `delProperty` that tells clients a device (or, with `name`, one of its vectors)
    went away."""
    attrs = {"device": device, "name": name} if name else {"device": device}
    attrs["timestamp"] = _now()
    return element_frame("delProperty", attrs)


def get_properties_frame(device: str | None = None, name: str | None = None) -> Frame:
    """A getProperties of the server's own: always version="1.7".

    C drivers exit(1) on a missing or newer version (INDI notes 2.8), so the version is
    rewritten rather than forwarded (a client's version="2.0" must never reach them).
    """
    attrs = {}
    if device:
        attrs["device"] = device
    if name:
        attrs["name"] = name
    attrs["version"] = "1.7"
    return element_frame("getProperties", attrs)


def enable_blob_bytes(device: str, name: str | None, mode: BLOBEnable) -> bytes:
    """An enableBLOB of the server's own, for a remote server."""
    attrs = attribute("device", escape_entities(device))
    if name is not None:
        attrs += attribute("name", escape_entities(name))
    return text_element("enableBLOB", attrs, mode.value, LINES).encode()


def ping_reply(frame: Frame) -> Frame:
    """The same element renamed to pingReply, as indiserver answers (INDI notes 2.7)."""
    data = frame.data
    start = data.find(b"<pingRequest")
    data = data[:start] + b"<pingReply" + data[start + len(b"<pingRequest") :]
    end = data.rfind(b"</pingRequest>")
    if end >= 0:
        data = data[:end] + b"</pingReply>" + data[end + len(b"</pingRequest>") :]
    return Frame("pingReply", dict(frame.attrs), data)
