"""The web client's plot history over a fleet: many number vectors updating with no page open
keep a bounded history (a share of the budget each), while the device a page shows keeps every
value for its plot, and falls back to its share once no page has shown it for a while.
"""

from __future__ import annotations

from indipycore.protocol import Perm
from indipycore.protocol import State
from indipycore.protocol import serialise
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetNumberVector
from indipyweb.hub import Hub
from indipyweb.memorysource import MemorySource

DEVICES = 500
ROUNDS = 40
BUDGET = 2_500  # five samples a vector no page shows


def definition(device: str) -> str:
    return serialise(DefNumberVector(device, "READING", State.OK, Perm.RO, (
        Number("VALUE", "0", format="%.3f", min="0", max="0", step="0"),))).decode()


def reading(device: str, value: int) -> str:
    return serialise(SetNumberVector(device, "READING", (Number("VALUE", str(value)),),
                                     State.OK)).decode()


async def feed(hub: Hub, source: MemorySource, xml: str, changes: int) -> None:
    """The source receives `xml` and the hub takes its `changes` notices, as `Hub.run` does."""
    source.receive(xml)
    stream = source.changes()
    for _ in range(changes):
        hub.notice(await anext(stream))


async def test_many_vectors_updating_without_a_page_keep_a_bounded_history() -> None:
    """500 devices' readings each set 40 times (20,000 values; before, each vector kept its
    last 300, so all 20,000): the history holds at most a quarter over the budget at every
    round, the shown device's plot has all 40 values, another vector its five latest; once the
    page has been closed for `keep_shown`, the shown device is trimmed to its share too."""
    source = MemorySource(max_changes=DEVICES * 2)
    hub = Hub(source, lambda part, can_set: "", budget=BUDGET)
    names = [f"dev{k:04d}" for k in range(DEVICES)]
    await feed(hub, source, "".join(definition(name) for name in names), DEVICES)
    page = hub.subscribe("device", names[7], False)
    most = 0
    for value in range(1, ROUNDS + 1):
        await feed(hub, source, "".join(reading(name, value) for name in names), DEVICES)
        most = max(most, hub.history.samples_kept())
    assert most <= BUDGET * 5 // 4 + ROUNDS, most
    assert hub.history.series(names[7], "READING", "VALUE") == list(range(ROUNDS + 1))
    assert hub.history.series(names[8], "READING", "VALUE") == list(range(ROUNDS - 4,
                                                                          ROUNDS + 1))
    hub.unsubscribe(page)
    await feed(hub, source, reading(names[0], 99), 1)
    assert len(hub.history.series(names[7], "READING", "VALUE")) == ROUNDS + 1  # kept a while
    hub.history.keep_shown = 0.0
    await feed(hub, source, reading(names[0], 100), 1)
    assert hub.history.series(names[7], "READING", "VALUE") == list(range(ROUNDS - 4,
                                                                          ROUNDS + 1))


async def test_a_live_part_carries_the_plots_newest_samples_not_its_whole_history() -> None:
    """Each update of a number vector carried its plot's whole history (300 samples: 9 KB a
    second for the imager agent's PROGRESS, all night on a phone). A live part swapped in
    alone now carries the last `PLOT_TAIL` samples and the history's length, which the page
    appends to what it holds; the vector drawn whole (its device's page, a definition) still
    carries all of it."""
    import json
    import re

    from indipyweb.render import PLOT_TAIL
    from indipyweb.render import Renderer

    source = MemorySource(max_changes=1000)
    renderer = Renderer(source, None, "", "localhost", 7624)
    hub = Hub(source, renderer.part)
    renderer.hub = hub
    await feed(hub, source, definition("Agent"), 1)
    page = hub.subscribe("device", "Agent", False)
    for value in range(1, 301):
        await feed(hub, source, reading("Agent", value), 1)

    def series(html: str) -> dict[str, object]:
        found = re.search(r'data-series="([^"]+)"', html)
        assert found, html
        return json.loads(found.group(1).replace("&#34;", '"'))  # type: ignore[no-any-return]

    live = series(hub.render_part(("vector", "Agent", "READING"), False))
    assert live["tail"] is True and live["size"] == 300  # the ring's length: the page trims to it
    assert live["data"][1] == list(range(301 - PLOT_TAIL, 301))  # type: ignore[index]
    whole = series(hub.render_part(("device", "Agent"), False))
    assert "tail" not in whole and whole["data"][1] == list(range(1, 301))  # type: ignore[index]
    hub.unsubscribe(page)
