"""Typed views of the source's vectors: what the pages, the form check and the hub read.

A `DeviceSource` hands out the snapshot's JSON shape (``dict``s, the shape of ``GET /api``);
everything behind the routes reads a `VectorView` built from it here, once, instead of keys
and type-name strings: ``view.is_number``, ``view.buttons``, ``member.is_on``, ``view.shape``
(the value rule's `VectorShape`, built by the core's one `vector_shape` from the same limit
texts the model holds, so the web judges a vector exactly as the library does). The templates
ask the view; none compares a vector type's name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import PurePath
from typing import Any

from indipyclient.model.vectorheading import VectorHeading
from indipyclient.model.vectorheading import vector_kind
from indipycore.protocol.acceptance import Limits
from indipycore.protocol.acceptance import VectorShape
from indipycore.protocol.acceptance import vector_shape

from .blobfolder import BlobFile
from .imaging.decoding import viewable
from .source import current_message

__all__ = ["HOUSEKEEPING", "DeviceSummary", "MemberView", "VectorView", "device_summary",
           "images_last", "main_group", "vector_id", "vector_view"]

STATE_ORDER = {"Alert": 3, "Busy": 2, "Ok": 1, "Idle": 0}


def vector_id(device: str, vector: str) -> str:
    """An HTML id for a vector, whatever characters its names hold."""
    return "v" + hashlib.sha1(f"{device}\0{vector}".encode(), usedforsecurity=False).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class MemberView:
    """One member as the pages show it. ``value`` is the device's text (a BLOB's is "");
    numbers add their format, limits (as the device sent them) and values read and formatted;
    BLOBs the saved file's name (not its folder), its size, its format (``.fits``) in
    ``format`` and whether it can be shown."""

    name: str
    label: str
    value: str = ""
    formattedvalue: str = ""
    floatvalue: float | None = None
    format: str = ""
    min: str = "0"
    max: str = "0"
    step: str = "0"
    filename: str = ""
    blobsize: int = 0
    previewable: bool = False
    viewable: bool = False

    @property
    def is_on(self) -> bool:
        """A switch that is On."""
        return self.value == "On"

    @property
    def has_step(self) -> bool:
        """A number whose step is worth saying (INDI 1.7 p.6: 0 means none)."""
        return self.step not in ("0", "0.0")


class _KindTest:
    """``view.is_number`` and its like: whether the vector is of one kind (what the templates
    ask instead of comparing the kind's name)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __get__(self, view: VectorView | None, owner: type | None = None) -> bool:
        return view is not None and view.kind == self.kind


@dataclass(frozen=True, slots=True)
class VectorView(VectorHeading):
    """One vector as the pages show it and the form check reads it: the heading every face has
    (``kind`` is Text, Number, Switch, Light or BLOB), then ``vid`` its HTML id; ``history``
    its plot's data (numbers) and ``plot_open`` whether the plot starts open, filled in by the
    renderer."""

    timestamp: str
    message: str
    members: tuple[MemberView, ...]
    vid: str = ""
    history: str = ""
    plot_open: bool = False
    _by_name: Mapping[str, MemberView] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {m.name: m for m in self.members})

    is_text = _KindTest("Text")
    is_number = _KindTest("Number")
    is_switch = _KindTest("Switch")
    is_light = _KindTest("Light")
    is_blob = _KindTest("BLOB")

    @property
    def settable(self) -> bool:
        """Whether a client may send it values (not read-only, not a light)."""
        return self.perm != "ro" and not self.is_light

    @property
    def buttons(self) -> bool:
        """A switch set by one click on a member's button (OneOfMany, AtMostOne) rather than
        checkboxes and a Set button (AnyOfMany)."""
        return self.is_switch and self.rule in ("OneOfMany", "AtMostOne")

    @property
    def at_most_one(self) -> bool:
        """An AtMostOne switch: a click on the member that is On turns it Off."""
        return self.is_switch and self.rule == "AtMostOne"

    @property
    def has_image(self) -> bool:
        """A BLOB vector whose last file can be shown as an image."""
        return any(m.viewable for m in self.members)

    @property
    def shape(self) -> VectorShape:
        """What the value rule needs of this vector, from the core's one `vector_shape`."""
        limits: dict[str, Limits] = {m.name: (m.min, m.max, m.step) for m in self.members}
        return vector_shape(self.devicename, self.name, self.kind, self.perm, self.rule,
                            self._by_name, limits)

    def member(self, name: str) -> MemberView | None:
        return self._by_name.get(name)

    def frame_name(self, member: MemberView) -> str:
        """What a BLOB's caption names: the file the device says it sent, when its update's
        message names one of the BLOB's format (the imager agent's AGENT_LAST_FRAME says
        "M42_Red_Light_003.fits": target, filter, number), else the copy the web saved."""
        said = self.message.strip()
        suffix = member.format.lower().removesuffix(".z")
        if said and suffix and said.lower().endswith(suffix):
            return said
        return member.filename



#: The vectors indilib's base classes give every device (DefaultDevice, its logger, its serial
#: and TCP connection plugins), and ours alike: the device's housekeeping, not its own controls.
HOUSEKEEPING = frozenset({
    "CONNECTION", "DRIVER_INFO", "DEBUG", "DEBUG_LEVEL", "LOGGING_LEVEL", "LOG_OUTPUT",
    "SIMULATION", "CONFIG_PROCESS", "POLLING_PERIOD", "ACTIVE_DEVICES", "NICKNAME",
    "CONNECTION_MODE", "CONNECTION_TYPE", "DEVICE_PORT", "DEVICE_BAUD_RATE",
    "DEVICE_AUTO_SEARCH", "DEVICE_PORT_SCAN", "SYSTEM_PORTS", "DEVICE_ADDRESS",
    "DEVICE_LAN_SEARCH"})


#: An agent's progress, which its page opens on (issue 89): the imager agent's night
#: (SEQUENCE_STATE, with its frames beside it) and the guider agent's state and RMS. Both work
#: with CONNECTION off, and the imager's STATUS lights sit beside Connect: without this their
#: pages opened on Connect, the one thing a user watching a night does not need.
PROGRESS = frozenset({"SEQUENCE_STATE", "AGENT_GUIDER_STATE"})

#: Progress a phone shows before the device's latest images (issue 89): the guider's state
#: and RMS are what a user watching the night looks for, its guide frame only a check (on a
#: phone the images otherwise come first, as a camera's frame should: a guide frame 390 px
#: high pushed the state below the first screen). The imager's frame is its night: first.
BEFORE_IMAGES = frozenset({"AGENT_GUIDER_STATE"})


def images_last(groups: Sequence[tuple[str, Sequence[VectorView]]]) -> bool:
    """Whether a phone shows this device's latest images after its tabs (`BEFORE_IMAGES`)."""
    return any(view.name in BEFORE_IMAGES for _, views in groups for view in views)


def main_group(groups: Sequence[tuple[str, Sequence[VectorView]]]) -> str:
    """The tab a device page opens on: where the device's own controls are.

    A standard device defines CONNECTION first, alone in its group until it is connected (the
    demo thermostat's "Main Control", then "General Info" with DRIVER_INFO and "Options" with
    DEBUG before its own "Status"): opening on the first group, as the tabs are ordered,
    showed a Connect button and nothing of the device. So: while CONNECTION says disconnected,
    its group (connecting is what there is to do, as KStars' first tab offers); otherwise the
    first group, in definition order, holding a vector that is not housekeeping (indilib's
    "Main Control" once connected, where CONNECTION sits beside the controls); failing that,
    CONNECTION's group or the first.

    Before all that, a device's status lights (the first group holding a light vector of its
    own), when it is connected or works without it: the watchdog agent guards with
    CONNECTION off, as indilib's does, its settings beside Connect, and its page opened there,
    the lights saying whether the sky is safe three tabs away. A standard device defines its
    lights once connected (indilib's weather station's WEATHER_STATUS, in Main Control), and
    a disconnected one with CONNECTION alone in its group (the thermostat) still opens there.

    Before everything, an agent's progress (`PROGRESS`): what its page is looked at for."""
    if not groups:
        return ""
    for group, views in groups:
        if any(view.name in PROGRESS for view in views):
            return group
    home: str | None = None
    connected = True
    works_disconnected = False
    for group, views in groups:
        for view in views:
            if view.name == "CONNECTION" and home is None:
                home = group
                connect = view.member("CONNECT")
                connected = connect is None or connect.is_on
                works_disconnected = any(v.name not in HOUSEKEEPING for v in views)
    if connected or works_disconnected:
        for group, views in groups:
            if any(view.is_light and view.name not in HOUSEKEEPING for view in views):
                return group
    if home is not None and not connected:
        return home
    for group, views in groups:
        if any(view.name not in HOUSEKEEPING for view in views):
            return group
    return home if home is not None else groups[0][0]


@dataclass(frozen=True, slots=True)
class DeviceSummary:
    """One device on the instruments page: its vectors counted by state, worst first; its
    newest message; and ``news``: what its vectors in the worst state say now (label and
    message, newest first), e.g. the imager agent's "Sequence: held: unsafe (rain)"."""

    name: str
    nvectors: int
    counts: tuple[tuple[str, int], ...]
    worst: str
    lastmessage: tuple[str, str] | None
    news: tuple[tuple[str, str], ...] = ()
    progress: str = ""


def vector_view(vec: Mapping[str, Any], blobs: bool = False) -> VectorView:
    """The view of a vector in the snapshot shape (`DeviceSource.vector`); ``blobs``: the app
    keeps a BLOB folder, so a saved image can be shown."""
    kind = vector_kind(vec["vectortype"])
    members = tuple(_member_view(kind, name, m, blobs) for name, m in vec["members"].items())
    rule = vec.get("rule")
    return VectorView(
        devicename=str(vec["devicename"]), name=str(vec["name"]),
        label=str(vec.get("label", "")), group=str(vec.get("group") or ""),
        kind=kind, state=str(vec.get("state") or "Idle"), perm=str(vec.get("perm") or "ro"),
        rule=rule if isinstance(rule, str) and rule else None,
        timestamp=str(vec.get("timestamp") or ""), message=current_message(vec),
        members=members, vid=vector_id(str(vec["devicename"]), str(vec["name"])))


def _member_view(kind: str, name: str, m: Mapping[str, Any], blobs: bool) -> MemberView:
    label = str(m.get("label", ""))
    if kind == "Number":
        floatvalue = m.get("floatvalue")
        return MemberView(name, label, str(m.get("value", "")),
                          str(m.get("formattedvalue", m.get("value", ""))),
                          float(floatvalue) if isinstance(floatvalue, int | float) else None,
                          str(m.get("format") or ""), str(m.get("min", "0")),
                          str(m.get("max", "0")), str(m.get("step", "0")))
    if kind == "BLOB":
        # the source may give the saved file's path: the BLOB pages take its name
        path = m.get("filename")
        filename = PurePath(path).name if path else ""
        size = m.get("blobsize")
        return MemberView(name, label, filename=filename, format=str(m.get("blobformat") or ""),
                          blobsize=size if isinstance(size, int) else 0,
                          previewable=bool(path) and BlobFile(filename, 0, 0).previewable,
                          viewable=bool(filename) and blobs and viewable(filename))
    value = m.get("value")
    return MemberView(name, label, "" if value is None else str(value))


def guider_progress(dev: Mapping[str, Any]) -> str:
    """The guider agent's state and RMS for its card on the instruments page (issue 89): a
    user watching a night from a phone wants "Guiding" or "LostLock" and how well, without
    opening the page. Empty for any other device. The RMS only once a guide step is measured:
    until then the agent says 0 on both axes (no error to average), which read as perfect."""
    state = dev["vectors"].get("AGENT_GUIDER_STATE")
    if state is None:
        return ""
    words = str(state["members"].get("STATE", {}).get("value") or "")
    stats = dev["vectors"].get("AGENT_GUIDER_STATS")
    if stats is not None and _measured(stats["members"]):
        rms = [f"{axis} {stats['members'][name].get('formattedvalue', stats['members'][name].get('value'))}"
               for axis, name in (("RA", "RMSE_RA"), ("Dec", "RMSE_DEC"))
               if name in stats["members"]]
        if rms:
            words += " · RMS " + ", ".join(rms) + " px"
    return words


def _measured(members: Mapping[str, Any]) -> bool:
    """Whether the guider's RMS was measured: not 0 on both axes (its figure before the first
    guide step), read from the numbers, whatever their format."""
    for name in ("RMSE_RA", "RMSE_DEC"):
        try:
            if float(members.get(name, {}).get("value") or 0) != 0:
                return True
        except (TypeError, ValueError):
            return True  # a figure not a number: the guider's to explain, shown as it is
    return False


#: At most this many vectors' words under a device on the instruments page.
MAX_NEWS = 3


def device_summary(name: str, dev: Mapping[str, Any]) -> DeviceSummary:
    """A device of the snapshot as the instruments page lists it. Its messages are kept
    newest first (the client library's model); the newest is found by time, whatever the
    order. A device Busy or Alert says why in the words of its vectors in that state: a night
    held for safety is Busy like a night at work, its SEQUENCE_STATE's message is the
    difference (the device's own messages had only the oldest of its last eight)."""
    counts: dict[str, int] = {}
    for vec in dev["vectors"].values():
        counts[vec["state"]] = counts.get(vec["state"], 0) + 1
    worst = max(counts, key=lambda s: STATE_ORDER.get(s, 0), default="Idle")
    ordered = tuple(sorted(counts.items(), key=lambda item: -STATE_ORDER.get(item[0], 0)))
    last = max(dev["messages"], key=lambda m: str(m[0]), default=None)
    news: list[tuple[str, str, str]] = []
    if STATE_ORDER.get(worst, 0) >= STATE_ORDER["Busy"]:
        for vec in dev["vectors"].values():
            message = current_message(vec)
            if vec["state"] == worst and message:
                news.append((str(vec.get("timestamp") or ""),
                             str(vec.get("label") or vec["name"]), message))
    news.sort(reverse=True)
    return DeviceSummary(name, len(dev["vectors"]), ordered, worst,
                         (str(last[0]), str(last[1])) if last else None,
                         tuple((label, text) for _, label, text in news[:MAX_NEWS]),
                         guider_progress(dev))
