"""Stopping an executable driver that does not read leaves no pipe transport open.

Its stdin transport still holds bytes the driver never read; closing (rather than aborting) it
waited for a drain that never comes, and the transport leaked (ResourceWarning, an error here).

The garbage earlier tests left is collected before the body, its warnings dropped: the check at
the end judges what this test leaves, not an unclosed client socket of another test that a
full run happened to collect here (it failed once so, passing alone).
"""

import asyncio
import gc
import sys
import textwrap
import warnings
from pathlib import Path

from serverkit import RawClient, running

from indipyserver import IPyServer

DEAF = f"#!{sys.executable}\n" + textwrap.dedent(
    """
    import os, time
    os.write(1, b'<defTextVector device="Deaf" name="T" state="Ok" perm="rw">'
                b'<defText name="t">x</defText></defTextVector>\\n')
    time.sleep(60)
    """
)


async def test_shutting_down_a_driver_that_does_not_read_leaves_no_transport_open(
    tmp_path: Path,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()  # earlier tests' garbage: not what this test is about
    script = tmp_path / "deaf.py"
    script.write_text(DEAF)
    script.chmod(0o755)
    srv = IPyServer(port=0, handle_signals=False)
    conn = srv.add_exdriver(str(script), max_restarts=0, max_queue_bytes=256 * 1024, grace=0.2)
    async with running(srv):
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties/>")
        await c.wait_for("defTextVector", device="Deaf")
        new = '<newTextVector device="Deaf" name="T"><oneText name="t">' + "y" * 10_000 + (
            "</oneText></newTextVector>")
        for i in range(5):
            await c.send(new * 60)
            await c.send(f'<pingRequest uid="{i}"/>')
            await c.wait_for("pingReply", uid=str(i))
        assert conn.queued_bytes > 0
    await asyncio.sleep(0.1)
    gc.collect()  # the leaked transport's ResourceWarning is raised here (filterwarnings=error)
