"""examples/chain.py: three servers in a tree; both leaves' roofs are seen and controlled
through the root only."""

from __future__ import annotations

import chain
from example_helpers import free_port
from example_helpers import getprop
from example_helpers import getprop_holding
from example_helpers import serving
from example_helpers import setprop
from example_helpers import wait_for_value


async def test_root_lists_devices_of_both_leaves() -> None:
    """A client of the root sees "Roof East" and "Roof West", which live on the leaves."""
    ports = [free_port(), free_port(), free_port()]
    async with serving(*chain.make_tree(*ports, host="127.0.0.1"), ports=ports):
        await wait_for_value(ports[0], "Roof West.ROOF.CLOSE", lambda v: v == "On")
        values = await getprop_holding(ports[0], "*.ROOF.*", "Roof East.ROOF.OPEN",
                                      "Roof West.ROOF.OPEN")
    assert values == {
        "Roof East.ROOF.OPEN": "Off", "Roof East.ROOF.CLOSE": "On",
        "Roof West.ROOF.OPEN": "Off", "Roof West.ROOF.CLOSE": "On",
    }


async def test_command_at_the_root_reaches_the_leaf_and_its_reply_comes_back() -> None:
    """OPEN sent to the root moves only the west roof: the leaf itself reports it open, the
    root relays the reply, and the east roof stays closed."""
    ports = [free_port(), free_port(), free_port()]
    root, east, west = chain.make_tree(*ports, host="127.0.0.1")
    async with serving(root, east, west, ports=ports):
        await wait_for_value(ports[0], "Roof West.ROOF.CLOSE", lambda v: v == "On")
        await setprop(ports[0], "Roof West.ROOF.OPEN=On")
        await wait_for_value(ports[2], "Roof West.ROOF.OPEN", lambda v: v == "On")
        await wait_for_value(ports[0], "Roof West.ROOF.OPEN", lambda v: v == "On")
        values = await getprop(ports[0], "Roof East.ROOF.OPEN", "Roof West.ROOF._STATE")
    assert values["Roof East.ROOF.OPEN"] == "Off"
    assert values["Roof West.ROOF._STATE"] == "Ok"
