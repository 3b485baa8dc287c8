"""The terminal client shows at once that the server refused a set (issue 70 item 1).

Our server under ``--acl`` (anonymous TCP clients read everything, set nothing) serves
indilib's telescope simulator. A click on CONNECT is refused: the vector's panel turns Alert
with the server's "permission denied" message, and the message log says it, at once (the
panel used to stay Busy for the vector's whole timeout).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from peers import OurServer
from peers import getprop
from termhelpers import click
from termhelpers import open_connection_panel
from termhelpers import settle
from termhelpers import wait_for
from textual.widgets import RadioButton

from indipyterm.app import TermApp

pytestmark = pytest.mark.interop

SCOPE = "Telescope Simulator"


async def test_a_refused_click_turns_the_panel_alert_with_the_servers_words(
        our_server: Callable[..., OurServer], tmp_path: Path) -> None:
    acl = tmp_path / "site.acl"
    acl.write_text("anonymous read *\n")
    server = our_server("indi_simulator_telescope", "--acl", str(acl))
    assert getprop(server.port, f"{SCOPE}.CONNECTION.CONNECT", timeout=10)
    app = TermApp("127.0.0.1", server.port)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await open_connection_panel(app, pilot, SCOPE)
        await settle(pilot)
        connection = screen.panels["CONNECTION"]
        connect = connection.switch_widgets["CONNECT"]
        assert isinstance(connect, RadioButton)
        await click(pilot, connect)
        await wait_for(pilot, lambda: connection.has_class("-state-alert"), timeout=10,
                       what=f"CONNECTION Alert: {connection.border_subtitle}")
        denied = f"permission denied: anonymous may not set {SCOPE}.CONNECTION"
        await wait_for(pilot, lambda: any(denied in line for line in app.messages), timeout=5,
                       what=f"the refusal in the message log: {list(app.messages)[:3]}")
