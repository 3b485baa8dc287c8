"""Stopping an executable driver that does not read leaves no pipe transport open.

Its stdin transport still holds bytes the driver never read; closing (rather than aborting) it
waited for a drain that never comes, and the transport leaked (ResourceWarning, an error here).
The second test makes the drain impossible for certain: a process the driver started holds
its stdin open after the driver is stopped, so no broken pipe ever ends the wait, and the
server's end of the pipe must be closed all the same.

The garbage earlier tests left is collected before the body, its warnings dropped: the check at
the end judges what this test leaves, not an unclosed client socket of another test that a
full run happened to collect here (it failed once so, passing alone).
"""

import asyncio
import contextlib
import gc
import os
import signal
import sys
import textwrap
import warnings
from pathlib import Path

from peers import pid_alive
from serverkit import RawClient
from serverkit import running
from waiting import until

from indipycore.protocol.events import PingRequest
from indipycore.protocol.serialiser import serialise
from indipyserver import IPyServer

DEAF = f"#!{sys.executable}\n" + textwrap.dedent(
    """
    import os, time
    os.write(1, b'<defTextVector device="Deaf" name="T" state="Ok" perm="rw">'
                b'<defText name="t">x</defText></defTextVector>\\n')
    time.sleep(60)
    """
)


async def _flood_deaf(c: RawClient) -> None:
    """Five rounds of 60 new vectors of 10 kB to the deaf device, each round answered (a ping):
    more than the pipe to a driver that does not read holds."""
    new = '<newTextVector device="Deaf" name="T"><oneText name="t">' + "y" * 10_000 + (
        "</oneText></newTextVector>")
    for i in range(5):
        await c.send(new * 60)
        await c.send(serialise(PingRequest(str(i))))
        await c.wait_for("pingReply", uid=str(i))


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
        stdin = os.readlink(f"/proc/{conn.pid}/fd/0")  # type: ignore[attr-defined]
        await _flood_deaf(c)
        assert conn.queued_bytes > 0
    # a transport closes its pipe on a later loop iteration: once it has, nothing is left open
    await until(lambda: _our_fds_on(stdin) == [], what="the driver's stdin closed")
    gc.collect()  # the leaked transport's ResourceWarning is raised here (filterwarnings=error)


#: A driver that does not read, and starts a process that inherits its stdin and outlives it
#: (a helper a shell-script driver might leave behind); that process's pid goes to `pidfile`.
HOLDER = f"#!{sys.executable}\n" + textwrap.dedent(
    """
    import os, subprocess, sys, time
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(helper.pid))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    os.write(1, b'<defTextVector device="Deaf" name="T" state="Ok" perm="rw">'
                b'<defText name="t">x</defText></defTextVector>\\n')
    time.sleep(60)
    """
)


def _our_fds_on(pipe: str) -> list[int]:
    """Our descriptors open on `pipe` (as /proc names it: ``pipe:[inode]``)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{name}") == pipe:
                found.append(int(name))
    return found


async def test_a_stopped_drivers_stdin_is_closed_though_another_process_still_holds_it(
    tmp_path: Path,
) -> None:
    """Fails if the transport of an undrained stdin is closed (which waits for the drain)
    rather than aborted: the server's end of the pipe then stays open for as long as the
    helper lives."""
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    script.chmod(0o755)
    pidfile = tmp_path / "helper.pid"
    srv = IPyServer(port=0, handle_signals=False)
    conn = srv.add_exdriver(str(script), str(pidfile), max_restarts=0,
                            max_queue_bytes=256 * 1024, grace=0.2)
    helper = 0
    try:
        async with running(srv):
            c = await RawClient.connect(srv.port)
            await c.send("<getProperties/>")
            await c.wait_for("defTextVector", device="Deaf")
            helper = int(pidfile.read_text())
            stdin = os.readlink(f"/proc/{helper}/fd/0")
            assert stdin.startswith("pipe:") and _our_fds_on(stdin), "the driver's stdin"
            await _flood_deaf(c)
            assert conn.queued_bytes > 0  # the pipe is full: bytes wait in the transport
        # a transport closes its pipe on a later loop iteration
        await until(lambda: _our_fds_on(stdin) == [], what="our end of the driver's stdin closed")
        assert os.readlink(f"/proc/{helper}/fd/0") == stdin  # the helper still holds it
    finally:
        if helper:
            with contextlib.suppress(ProcessLookupError):
                os.kill(helper, signal.SIGKILL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()  # a transport the failing case left open: reported by the assert


#: A driver that only SIGKILL ends: it ignores SIGTERM and never reads its stdin.
STUBBORN = f"#!{sys.executable}\n" + textwrap.dedent(
    """
    import os, signal, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.write(1, b'<defTextVector device="Stubborn" name="T" state="Ok" perm="ro">'
                b'<defText name="t">x</defText></defTextVector>\\n')
    while True:
        time.sleep(1)
    """
)


async def test_a_driver_cancelled_again_while_it_is_reaped_is_killed_and_reaped(
    tmp_path: Path,
) -> None:
    """Issue 90 item 5: the leak behind full runs' "subprocess N is still running" and
    "unclosed transport <_UnixSubprocessTransport pid=N running stderr=...>". The end of an
    event loop cancels every task left (asyncio.Runner, as pytest-asyncio's loop ends a test),
    the server's task group cancels its driver tasks again, and a second cancellation that
    reached a driver while it was being reaped (its grace period) left its process running,
    its transport never closed, to be collected in some later test. Cancelled again while it
    is reaped, the driver is killed and waited for before its task ends."""
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)
    script.chmod(0o755)
    srv = IPyServer(port=0, handle_signals=False)
    conn = srv.add_exdriver(str(script), max_restarts=0, grace=30.0)
    serving = asyncio.create_task(srv.asyncrun())
    try:
        await asyncio.wait_for(srv.started(), 10)
        await until(lambda: conn.pid is not None, what="the driver started")
        pid = conn.pid
        assert pid is not None
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties/>")
        await c.wait_for("defTextVector", device="Stubborn")
        await c.close()
        serving.cancel()  # the task group cancels the driver: its grace period begins
        await asyncio.sleep(0.3)
        assert pid_alive(pid), "ended before its grace period: the test proves nothing"
        for task in asyncio.all_tasks():  # as the loop's end does, every task once more
            if task is not asyncio.current_task():
                task.cancel()
        await asyncio.wait([serving], timeout=10)
        assert serving.done(), "the server did not end within 10 s of the second cancel"
        assert not pid_alive(pid), "the driver's process outlived its task"
        await asyncio.sleep(0)  # the transport closes itself a callback after the exit
        gc.collect()  # an unclosed transport's ResourceWarning is raised here (an error)
    finally:
        if not serving.done():
            serving.cancel()
        with contextlib.suppress(ProcessLookupError, TypeError):
            os.kill(conn.pid, signal.SIGKILL)  # type: ignore[arg-type]
