"""Whether an element a client or a peer sent may be passed on as its bytes.

The server forwards what it reads byte for byte, so one element that is not well-formed XML
would break the parsers of everyone who gets it (indilib's clients print "Bad XML" and lose the
connection; a version-less getProperties carried inside a broken element makes a C driver exit).
So every element read from a client or from a peer's driver or remote server is checked before
it is routed: the plain forms with one regular expression (``wellformed``), anything else with
expat. A refused element is dropped with a warning from a budget (a flood of them must not
flood the log) and its sender is kept. In-process drivers are not checked: our own serialiser
wrote their bytes (``DriverPort.trusted_xml``).
"""

from __future__ import annotations

import logging
import re

from indipycore.logbudget import WarningBudget
from indipycore.protocol.framing import Frame
from indipycore.protocol.wellformed import plain_request
from indipycore.protocol.wellformed import xml_error
from indipyserver.routing.ports import DriverPort
from indipyserver.routing.serverelements import DEF_TAGS
from indipyserver.routing.serverelements import NEW_TAGS
from indipyserver.routing.serverelements import SET_TAGS

__all__ = ["CHECKED_BLOB_BYTES", "NOT_PASSED_ON", "PLAIN_TAGS", "client_element_ok",
           "driver_element_ok"]

#: Elements from drivers that the router answers or drops itself, never passing their bytes on.
NOT_PASSED_ON = frozenset({"pingRequest", "pingReply"})
#: What ``wellformed.plain_update`` recognises; the router tries it first, inline (not
#: setBLOBVector: see `driver_element_ok`).
PLAIN_TAGS = (DEF_TAGS | SET_TAGS | {"message", "delProperty"}) - {"setBLOBVector"}

#: A setBLOBVector up to this size from a driver is checked whole with expat: it did not
#: stream, so its members' tags were not checked as it arrived. A larger one is checked whole
#: too unless its connection's framer streams BLOBs (``DriverPort.streams_blobs``).
CHECKED_BLOB_BYTES = 1 << 16
#: A member whose value travels aside as a descriptor (INDI notes 2.6).
_ATTACHED = re.compile(rb"""<oneBLOB\s[^>]*\battached\s*=\s*(?:"true"|'true')""")

logger = logging.getLogger("indipyserver.router")  # what the router passes on, under its name


def client_element_ok(label: str, frame: Frame, warnings: WarningBudget) -> bool:
    """Whether client `label`'s element may be passed on: a malformed ``new*Vector`` is
    dropped, as indiserver's parser drops it, instead of reaching the driver and the other
    clients."""
    if plain_request(frame.data):
        return True
    error = xml_error(frame.data)
    if error is None:
        return True
    if (note := warnings.take()) is not None:
        logger.warning("client %s sent a malformed <%s> (%s): dropped%s", label, frame.tag,
                       error, note)
    return False


def driver_element_ok(driver: DriverPort, frame: Frame, warnings: WarningBudget) -> bool:
    """Whether an element from a peer's driver or a remote that is not in the plain form
    (``wellformed.plain_update``, tried first by the router) may be passed on (indiserver closes
    a driver that sends a malformed one; here the element is dropped and the driver kept)."""
    data = frame.data
    if frame.tag in NEW_TAGS and plain_request(data):
        return True
    if frame.tag == "setBLOBVector":
        if len(data) <= CHECKED_BLOB_BYTES:
            if b"attached" in data and _ATTACHED.search(data):
                # A C driver's shared buffers were put in before this (``blobs.attached``);
                # one still here had no descriptor, and a client would get an empty image.
                if (note := warnings.take()) is not None:
                    logger.error("%s sent a BLOB attached='true' with no shared buffer (the "
                                 "driver is not on a Unix socket, or passed no descriptor): "
                                 "<%s> dropped%s", driver.label, frame.tag, note)
                return False
        elif driver.streams_blobs:
            # Assembled from pieces the framer checked as they streamed (member tags, markup):
            # expat would take milliseconds a MB. A port whose framer does not stream has
            # what it sends checked whole.
            return True
    error = xml_error(data)
    if error is None:
        return True
    if (note := warnings.take()) is not None:
        logger.warning("%s sent a malformed <%s> (%s): dropped%s", driver.label, frame.tag,
                       error, note)
    return False
