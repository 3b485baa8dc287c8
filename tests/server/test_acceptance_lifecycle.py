"""Acceptance (issue 3): an executable driver that dies, through the whole server.

"when one dies, clients receive delProperty for its devices and it is restarted with exponential
backoff (a counter that resets after a stable run, a limit from -r)". The connection's unit test
counts restarts with a recording router; these check what a client sees and *when*: the gaps
between a death and the next definitions follow the backoff, the limit ends it with a log line,
a stable run resets the counter, and the server and its other drivers go on meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import textwrap
from pathlib import Path

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from serverkit import script_constants
from serverkit import server

from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import Retry


def flaky_driver(tmp_path: Path, lifetime: float) -> Path:
    """Defines device Flaky, lives `lifetime` seconds, then dies with exit status 3."""
    script = tmp_path / "flaky_driver.py"
    script.write_text(f"#!{sys.executable}\n" + script_constants(LIFETIME=lifetime)
                      + textwrap.dedent(
        """
        import os, time
        os.write(1, b'<defTextVector device="Flaky" name="T" state="Ok" perm="ro">'
                    b'<defText name="t">up</defText></defTextVector>\\n')
        time.sleep(LIFETIME)
        os._exit(3)
        """
    ))
    script.chmod(0o755)
    return script



async def test_clients_see_delproperty_then_the_device_again_after_each_backoff_delay(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script = flaky_driver(tmp_path, lifetime=0.1)
    srv = server(make_gadget())
    conn = srv.add_exdriver(str(script), backoff=ExponentialBackoff(0.3, 0.6),
                            max_restarts=2)
    loop = asyncio.get_running_loop()
    seen: list[tuple[str, float]] = []
    with caplog.at_level(logging.INFO):
        async with running(srv):
            c = await RawClient.connect(srv.port)
            await c.send("<getProperties/>")

            def flaky(frames: list) -> bool:  # type: ignore[type-arg]
                while len(seen) < len(frames):
                    f = frames[len(seen)]
                    kind = f.tag if f.attrs.get("device") == "Flaky" else "other"
                    seen.append((kind, loop.time()))
                return sum(k == "delProperty" for k, _ in seen) == 3

            await c.read_until(flaky, timeout=10)
            assert conn.exited_for_good  # type: ignore[attr-defined]
            await c.round_trip()  # the server is alive
            await c.send('<newNumberVector device="Gadget" name="VALUE">'
                         '<oneNumber name="V">5</oneNumber></newNumberVector>')
            await c.wait_for("setNumberVector", device="Gadget")
    events = [(k, t) for k, t in seen if k in ("defTextVector", "delProperty")]
    assert [k for k, _ in events] == ["defTextVector", "delProperty"] * 3
    # death -> next definitions: at least the backoff delay (0.3 s, then 0.6 s)
    gaps = [events[i + 1][1] - events[i][1] for i in (1, 3)]
    assert gaps[0] >= 0.25 and gaps[1] >= 0.55, gaps
    assert gaps[1] > gaps[0]
    text = caplog.text
    assert re.search(r"restarting driver \S*flaky_driver.py in 0.3 s", text)
    assert re.search(r"restarting driver \S*flaky_driver.py in 0.6 s", text)
    assert "flaky_driver.py exited for good after 2 restarts" in text


async def test_a_stable_run_resets_the_restart_counter_and_delay(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Each run lasts longer than stable_after, so with max_restarts=1 it is still restarted
    again and again, always after the initial delay (indiserver would retire it)."""
    script = flaky_driver(tmp_path, lifetime=0.3)
    srv = server()
    conn = srv.add_exdriver(str(script), retry=Retry(ExponentialBackoff(0.1, 5.0), 1,
                                                      stable_after=0.2))
    with caplog.at_level(logging.INFO):
        async with running(srv):
            c = await RawClient.connect(srv.port)
            await c.send("<getProperties/>")
            await c.read_until(
                lambda fs: sum(f.tag == "defTextVector" for f in fs) >= 4, timeout=10)
            assert not conn.exited_for_good  # type: ignore[attr-defined]
    delays = re.findall(r"restarting driver \S*flaky_driver.py in (\S+) s", caplog.text)
    assert len(delays) >= 3 and set(delays) == {"0.1"}, delays
    assert "exited for good" not in caplog.text
