"""Turning the source's state into HTML: whole pages and the parts an SSE stream swaps in.

The templates live in ``indipyweb/templates``; autoescaping is on for every one of them, so a
device, vector, label or message string from the INDI side is always text, never markup.
A part (`hub.Part`) is rendered as an htmx out-of-band element (``hx-swap-oob``) that replaces
the element of the same id in the page; parts never carry a session's CSRF token (they are
shared between the browsers of one role), htmx sends it as a header from ``<body hx-headers>``.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

from jinja2 import Environment
from jinja2 import PackageLoader
from jinja2 import select_autoescape

from .blobfolder import BlobFile
from .blobfolder import BlobFolder
from .hub import Hub
from .hub import Part
from .imaging.decoding import viewable
from .source import DeviceSource
from .source import VectorDict
from .views import DeviceSummary
from .views import VectorView
from .views import device_summary
from .views import images_last
from .views import main_group
from .views import vector_id
from .views import vector_view

__all__ = ["PLOT_TAIL", "Renderer", "field_id", "sse_event", "vector_id"]

#: The samples a live part carries for its plot: the newest, more than a page paced at
#: `site.UPDATE_EVERY` misses between two updates of a vector set ten times a second. The
#: whole history (9 KB a part for a vector of three numbers) goes only with the whole vector.
PLOT_TAIL = 16


def field_id(vid: str, member: str) -> str:
    """The HTML id of a member's field in vector `vid`'s form: by name, not position, as
    htmx keeps a field with ``hx-preserve`` across redraws by its id (a vector defined again
    with its members in another order must not keep another member's field in their place)."""
    return "in-" + vector_id(vid, member)[1:]


@dataclasses.dataclass(eq=False)
class Renderer:
    """The pages and parts of one site: `source`'s devices, `blobs`' files, links under
    `base`, the INDI server `indihost`:`indiport` named; `hub` (the site's, set once made)
    gives the number plots their history."""

    source: DeviceSource
    blobs: BlobFolder | None
    base: str
    indihost: str
    indiport: int
    hub: Hub | None = dataclasses.field(default=None, init=False)
    env: Environment = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.env = Environment(loader=PackageLoader("indipyweb", "templates"),
                               autoescape=select_autoescape(default=True, default_for_string=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["when"] = when
        self.env.filters["age"] = age_text
        self.env.filters["viewable"] = viewable
        self.env.globals["field_id"] = field_id
        self.env.globals["main_group"] = main_group
        self.env.globals["images_last"] = images_last

    def page(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**self.common(), **context)

    def common(self) -> dict[str, Any]:
        # A source that knows how old its newest reading is (redis: a bridge can fall behind)
        # has the status line say it.
        age = getattr(self.source, "reading_age", None)
        return {"base": self.base, "connected": self.source.connected,
                "indihost": self.indihost, "indiport": self.indiport,
                "reading_age": age() if age is not None else None}

    # -- what the pages show ---------------------------------------------------------------

    def devices(self) -> list[DeviceSummary]:
        snap = self.source.snapshot()
        return [device_summary(name, dev) for name, dev in sorted(snap["devices"].items())]

    def messages(self) -> list[tuple[str, str | None, str]]:
        snap = self.source.snapshot()
        rows: list[tuple[str, str | None, str]] = [(ts, None, text) for ts, text in snap["messages"]]
        for name, dev in snap["devices"].items():
            rows.extend((ts, name, text) for ts, text in dev["messages"])
        rows.sort(key=lambda row: row[0], reverse=True)
        return rows[:200]

    def device_messages(self, device: str) -> list[list[str]]:
        dev = self.source.snapshot()["devices"].get(device)
        return sorted(dev["messages"], key=lambda m: m[0], reverse=True) if dev else []

    def groups(self, device: str) -> list[tuple[str, list[VectorView]]]:
        """The device's groups (the page's tabs) with their vectors (panels), both in the
        order the device defined them, as the source's snapshot keeps it."""
        dev = self.source.snapshot()["devices"].get(device)
        if dev is None:
            return []
        groups: dict[str, list[VectorView]] = {}
        for vec in dev["vectors"].values():
            view = self.view(vec)
            groups.setdefault(view.group or "Properties", []).append(view)
        return list(groups.items())

    def view(self, vec: VectorDict, tail: bool = False) -> VectorView:
        """The typed view of a source's vector, with its plot (numbers) beside it: the whole
        history, or (`tail`, a live part alone) its last `PLOT_TAIL` samples."""
        view = vector_view(vec, blobs=self.blobs is not None)
        if not view.is_number:
            return view
        ring = self.hub.history.samples(view.devicename, view.name) if self.hub else None
        # a plot opens by itself once its values have changed (a constant is not worth a plot)
        changed = {tuple(sorted(values.items())) for _, values in ring} if ring else set()
        return dataclasses.replace(view, plot_open=len(changed) >= 2,
                                   history=self.history(view, tail))

    def history(self, view: VectorView, tail: bool = False) -> str:
        """uPlot's data for the vector's plot: [times, series per member], as JSON; with
        `tail`, only the last `PLOT_TAIL` samples and the history's length (``size``), which
        the page appends to the series it holds (indipyweb.js) and trims to that length."""
        ring = self.hub.history.samples(view.devicename, view.name) if self.hub else None
        if not ring:
            return ""
        samples = list(itertools.islice(ring, max(0, len(ring) - PLOT_TAIL), None)) \
            if tail else list(ring)
        data: list[list[float | None]] = [[round(t, 3) for t, _ in samples]]
        for member in view.members:
            data.append([values.get(member.name) for _, values in samples])
        labels = [member.label for member in view.members]
        payload: dict[str, Any] = {"labels": labels, "data": data}
        if tail:
            payload.update(tail=True, size=len(ring))
        return json.dumps(payload, separators=(",", ":"))

    def blob_files(self) -> list[BlobFile]:
        return self.blobs.list() if self.blobs is not None else []

    # -- parts for the SSE streams ---------------------------------------------------------

    def part(self, part: Part, can_set: bool) -> str:
        kind = part[0]
        ctx: dict[str, Any] = {"oob": True, "can_set": can_set, "csrf": None}
        if kind == "conn":
            return self.page("_conn.html", **ctx)
        if kind == "devices":
            return self.page("_devices.html", devices=self.devices(), **ctx)
        if kind == "messages":
            return self.page("_messages.html", messages=self.messages(), **ctx)
        if kind == "device":
            return self.page("_device.html", device=part[1], groups=self.groups(part[1]), **ctx)
        if kind == "devmessages":
            return self.page("_devmessages.html", device=part[1],
                             devmessages=self.device_messages(part[1]), **ctx)
        if kind == "vector":
            vec = self.source.vector(part[1], part[2])
            if vec is None:
                return ""
            view = self.view(vec, tail=True)  # the page holds the rest of the plot's data
            html = self.page("_live.html", v=view, **ctx)
            if view.is_blob:  # its image beside the controls
                html += self.page("_latest.html", v=view, **ctx)
            return html
        if kind == "blobs":
            return self.page("_blobs.html", files=self.blob_files(),
                             folder=self.blobs is not None, **ctx)
        raise ValueError(f"unknown part {part!r}")


def when(timestamp: object) -> str:
    """An ISO timestamp as people read it: "2025-03-01 21:14:05" (UTC, as INDI's are)."""
    text = str(timestamp or "")
    return text[:19].replace("T", " ") if len(text) >= 19 else text


def age_text(seconds: float) -> str:
    """An age for the status line, as indipyweb.js counts it on between refreshes."""
    seconds = max(0.0, seconds)  # a site's clock a little ahead of ours
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def sse_event(name: str, html: str) -> bytes:
    """One Server-Sent Event: every line of `html` as a ``data:`` line (EventSource joins them
    with newlines again)."""
    lines = html.replace("\r", "").split("\n")
    return (f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n").encode()

