"""What the router says when it drops something a peer sent, within the warning budgets.

A server that drops an element silently leaves its sender's user puzzled (a click that does
nothing, a driver waiting for an answer); one that logs every repeat floods the log when a peer
repeats the same mistake with every update. So each of these takes from the budget of its side
(`RoutingTables.client_warnings`, `driver_warnings`: a few a window, then a count), says what
was dropped, from whom and why, in words an INDI user knows, and a chained server's routine
echoes stay quiet. The rules that decide to drop are in `router`; only the telling is here.
"""

from __future__ import annotations

import logging

from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.logbudget import short
from indipycore.protocol.framing import Frame
from indipyserver.routing.interests import ClientState
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.ports import DriverPort
from indipyserver.routing.serverelements import DEVICE_TAGS

logger = logging.getLogger("indipyserver.router")  # the router's decisions, under its name

#: Devices remembered per client as already warned about (`_client_spoke_for_owned`).
MAX_NOTED_DEVICES = 1000

__all__ = ["DropNotices"]


class DropNotices:
    """The router's warnings about what it drops (module docstring)."""

    def __init__(self, client_warnings: WarningBudget, driver_warnings: WarningBudget) -> None:
        """The budgets are the router's (`RoutingTables`): its other warnings take from them too."""
        self._client_warnings = client_warnings
        self._driver_warnings = driver_warnings
        # devices a client spoke for that a source of ours provides, logged once per client
        self._client_noted: dict[ClientPort, set[str]] = {}

    def forget(self, client: ClientPort) -> None:
        """A client is gone: forget what it was told."""
        self._client_noted.pop(client, None)

    def client_sent_drivers_element(self, state: ClientState, frame: Frame, device: str) -> None:
        """A def/set vector, message or delProperty for a device nothing here serves, from a
        client that is not a chained server, with no driver snooping it: it reaches nobody.
        indiserver drops it without a word; most likely a client sent a set*Vector where it
        meant a new*Vector, and its click did nothing."""
        if (note := self._client_warnings.take()) is not None:
            logger.warning("client %s sent <%s> for device %s: dropped, nothing here serves or "
                           "snoops that device (only drivers send <%s>; a client asks for a "
                           "change with a new*Vector)%s", state.sink.label, clip(frame.tag, 60),
                           short(device), clip(frame.tag, 60), note)

    def client_spoke_for_owned(self, state: ClientState, frame: Frame, device: str,
                               owner: str) -> None:
        """A def/set vector, message or delProperty from a client about a device a source of
        ours provides: dropped (only its owner speaks for it, the loop guard). Logged the first
        time per client and device: a chained server relaying a device of the same name (or
        a loop's echo) does it with every update."""
        noted = self._client_noted.setdefault(state.sink, set())
        if device in noted or (note := self._client_warnings.take()) is None:
            return
        if len(noted) < MAX_NOTED_DEVICES:  # past it: within the budget only
            noted.add(device)
        logger.warning("client %s sent <%s> for device %s, which %s provides: dropped (only a "
                       "device's own driver sends that; a client asks for a change with a "
                       "new*Vector, and a chained server sending it means two sources for one "
                       "device name, or a loop of servers). Later ones for that device from "
                       "this client are dropped unlogged%s", state.sink.label,
                       clip(frame.tag, 60), short(device), owner, note)

    def client_sent_unknown(self, state: ClientState, frame: Frame) -> None:
        """Anything else a client sends: a driver's element naming no device (nothing to route
        it by), or an element INDI does not have."""
        if (note := self._client_warnings.take()) is None:
            return
        tag = clip(frame.tag, 60)
        if frame.tag in DEVICE_TAGS:
            logger.warning("client %s sent <%s> without a device: dropped (only drivers send "
                           "it; from a client it is passed on only to the drivers snooping the "
                           "device it names)%s", state.sink.label, tag, note)
        else:
            logger.warning("client %s sent <%s>, which is not an INDI element a client sends: "
                           "dropped%s", state.sink.label, tag, note)

    def driver_command_dropped(self, driver: DriverPort, frame: Frame, device: str | None,
                                owner: DriverPort | None) -> None:
        """A local driver's new*Vector that no other source here can take."""
        if (note := self._driver_warnings.take()) is None:
            return
        if not device:
            why = "without a device"
        elif owner is None:
            why = f"for device {short(device)}, which nothing here serves (its driver not started?)"
        else:
            why = (f"for its own device {short(device)} (a driver sends its own changes as a "
                   f"set*Vector; a new*Vector goes to another device's driver)")
        logger.warning("driver %s sent <%s> %s: dropped%s", driver.label, clip(frame.tag, 60),
                       why, note)

    def driver_sent_unknown(self, driver: DriverPort, frame: Frame) -> None:
        """An element a driver has no business sending (not INDI, or a client's), or an
        enableBLOB asking for no mode INDI has."""
        if (note := self._driver_warnings.take()) is None:
            return
        if frame.tag == "enableBLOB":
            logger.warning("driver %s sent <enableBLOB> with %s, not Never, Also or Only: "
                           "ignored%s", driver.label, short(frame.data.decode("latin-1")), note)
        else:
            logger.warning("driver %s sent <%s>, which is not an INDI element a driver sends: "
                           "dropped%s", driver.label, clip(frame.tag, 60), note)
