"""ExDriverConnection against small Python scripts standing in for executable drivers.

A recording router replaces the real one, so these tests protect the connection's own duties:
pipes (not sockets) of 1 MiB, framing into the router, stderr logging, environment, restart with
backoff, giving up, and reaping children on shutdown.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import sys
import textwrap
from pathlib import Path

import pytest
from peers import pid_alive
from serverdoubles import RecordingDriverSide
from serverkit import stdio_driver
from waiting import until

from indipycore.retrypolicy import ExponentialBackoff
from indipyserver.drivers import stderrlog
from indipyserver.drivers.executable import ExDriverConnection

GET_PROPERTIES = b'<getProperties version="1.7"/>\n'

# Answers getProperties with a def that reports what the driver sees of its environment.
ECHO_DRIVER = stdio_driver(
    setup="""
    import fcntl, socket, stat
    def kind(fd):
        mode = os.fstat(fd).st_mode
        return "fifo" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "other"
    info = "%s %s %d %s" % (kind(0), kind(1), fcntl.fcntl(0, 1032), os.environ.get("INDIDEV", "-"))
    if kind(1) == "socket":
        info += " sndbuf=%d" % socket.socket(fileno=os.dup(1)).getsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF)
    sys.stderr.write("hello from stderr\\nsecond line\\n")
    sys.stderr.flush()
    """,
    on_get_properties="""
    out = ('<defTextVector device="Echo" name="INFO" state="Idle" perm="ro">'
           '<defText name="I">%s</defText></defTextVector>\\n' % info)
    os.write(1, out.encode())
    """,
)

CRASH_DRIVER = "import sys; sys.stdout.write('<message message=\"up\"/>'); sys.exit(3)"

STUBBORN_DRIVER = textwrap.dedent(
    """
    import signal, time, sys
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.stdin.close()
    print('<message message="ignoring SIGTERM"/>', flush=True)
    while True:
        time.sleep(1)  # the scenario: a driver that neither reads nor stops
    """
)


class RecordingRouter(RecordingDriverSide):
    """Records the calls a driver connection makes; answers driver_ready like the real one."""

    def __init__(self) -> None:
        super().__init__(GET_PROPERTIES, ident=lambda conn: conn.pid, timeout=10.0)

    def frames(self) -> list:  # type: ignore[type-arg]
        return [e[1] for e in self.events if e[0] == "frame"]


def script(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "driver.py"
    path.write_text(text)
    return [sys.executable, str(path)]


async def run_until_a_frame(conn: ExDriverConnection) -> RecordingRouter:
    """Run `conn` until the driver's first frame has reached the router, then stop it; what
    the router recorded."""
    router = RecordingRouter()
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        await router.wait_for(lambda ev: any(e[0] == "frame" for e in ev))
        task.cancel()
    return router


async def test_driver_gets_getproperties_and_its_frames_reach_the_router(tmp_path: Path) -> None:
    """The router's getProperties reaches stdin and the driver's def comes back as a Frame."""
    router = await run_until_a_frame(ExDriverConnection(*script(tmp_path, ECHO_DRIVER)))
    frame = router.frames()[0]
    assert frame.tag == "defTextVector" and frame.device == "Echo"
    assert router.events[0][0] == "ready"


@pytest.mark.parametrize(("shared", "stdout"), [(None, "socket"), (False, "fifo")])
async def test_driver_stdin_is_a_pipe_grown_to_one_mebibyte_and_indidev_is_set(
    tmp_path: Path, shared: bool | None, stdout: str
) -> None:
    """stdin a pipe of 1 MiB; stdout a socket, as indiserver gives every driver (indilib's then
    pass BLOBs as fds), or with ``shared_blobs=False`` a pipe; INDIDEV pinned."""
    router = await run_until_a_frame(ExDriverConnection(*script(tmp_path, ECHO_DRIVER),
                                                        name="My Echo", shared_blobs=shared))
    data = router.frames()[0].data.decode()
    expected = min(1 << 20, int(Path("/proc/sys/fs/pipe-max-size").read_text()))
    assert f">fifo {stdout} {expected} My Echo" in data


async def test_a_driver_writes_a_blob_into_a_socket_grown_as_its_pipe_would_be(
        tmp_path: Path) -> None:
    """The driver's stdout socket gets a send buffer past the kernel's default (as far as
    ``net.core.wmem_max`` allows): with the default a driver writing a BLOB blocks every
    100 KiB or so, and the server reads it in as many pieces (bench/RESULTS.md)."""
    router = await run_until_a_frame(ExDriverConnection(*script(tmp_path, ECHO_DRIVER)))
    data = router.frames()[0].data.decode()
    sndbuf = int(data.split("sndbuf=")[1].split("<")[0])
    default = int(Path("/proc/sys/net/core/wmem_default").read_text())
    wmem_max = int(Path("/proc/sys/net/core/wmem_max").read_text())
    assert sndbuf == 2 * min(1 << 20, wmem_max) > default  # Linux doubles what is asked


async def test_stderr_lines_are_logged_with_the_driver_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Each stderr line is one log record naming the driver, like indiserver's 'Driver x:'."""
    caplog.set_level(logging.INFO, logger="indipyserver.driver_stderr")
    router = RecordingRouter()
    conn = ExDriverConnection(*script(tmp_path, ECHO_DRIVER))
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        await router.wait_for(lambda ev: any(e[0] == "frame" for e in ev))
        await until(lambda: "second line" in caplog.text, what="the second stderr line")
        task.cancel()
    lines = [r.getMessage() for r in caplog.records if "from stderr" in r.getMessage()]
    assert conn.label.endswith("driver.py")  # `python driver.py` is named by its script too
    assert lines == [f"Driver {conn.label}: hello from stderr"]
    assert f"Driver {conn.label}: second line" in caplog.text


FLOODING_DRIVER = textwrap.dedent(
    """
    import os, sys
    os.write(2, b"x" * 300_000 + b"\\n")
    for i in range(5000):
        os.write(2, b"line %d\\n" % i)
        os.write(1, b"<oops %d>garbage</nope>\\n" % i)
    os.close(2)  # the end of the flood: the test waits for the server to read to it
    os.write(1, b'<message device="F" message="done"/>\\n')
    sys.stdin.read()
    """
)


async def test_a_driver_flooding_stderr_and_garbage_makes_a_bounded_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A driver printing in a loop must not flood the log (a chaos run saw 150 MB of its
    stderr and 217 MB of malformed-XML warnings in 10 s): at most STDERR_LINES stderr lines
    and 20 warnings per 10 s are logged, a line is cut to STDERR_LINE_SHOWN characters saying
    how long it was, and what the driver sends after its garbage still arrives."""
    caplog.set_level(logging.INFO, logger="indipyserver.driver_stderr")
    router = RecordingRouter()
    conn = ExDriverConnection(*script(tmp_path, FLOODING_DRIVER))
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        await router.wait_for(lambda ev: any(
            e[0] == "frame" and e[1].tag == "message" for e in ev))  # type: ignore[union-attr]
        # every stderr line read and dealt with (logged or dropped)
        await until(lambda: conn._process is not None and conn._process.stderr is not None
                    and conn._process.stderr.at_eof(), what="the end of the driver's stderr")
        task.cancel()
    stderr = [r.getMessage() for r in caplog.records if r.name == "indipyserver.driver_stderr"]
    malformed = [r.getMessage() for r in caplog.records if "sent malformed XML" in r.getMessage()]
    assert 150 <= len(stderr) <= stderrlog.STDERR_LINES
    assert stderr[0].endswith("... (300000 bytes)")
    assert len(stderr[0]) < stderrlog.STDERR_LINE_SHOWN + 200
    assert 1 <= len(malformed) <= 20
    assert sum(len(r.getMessage()) for r in caplog.records) < 600_000


async def test_a_dying_driver_is_lost_restarted_and_finally_given_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Each death calls driver_lost; restarts follow the backoff; the limit ends run() logged."""
    router = RecordingRouter()
    conn = ExDriverConnection(
        *script(tmp_path, CRASH_DRIVER),
        backoff=ExponentialBackoff(0.01, 0.05), max_restarts=2,
    )
    async with asyncio.timeout(10):
        await conn.run(router)  # type: ignore[arg-type]
    assert router.count("ready") == 3
    assert router.count("lost") == 3
    kinds = [e[0] for e in router.events if e[0] != "frame"]
    assert kinds == ["ready", "lost"] * 3
    assert conn.exited_for_good
    assert "exited for good" in caplog.text
    assert len({e[1] for e in router.events if e[0] == "ready"}) == 3  # three processes


async def test_a_missing_executable_is_logged_and_dropped_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A driver that cannot be started is no reason to stop the server, and one that never
    ran is not retried: one error, no backoff (it was retried for minutes; indiserver spends
    its restarts on it within a second)."""
    router = RecordingRouter()
    conn = ExDriverConnection(
        "/nonexistent/indi_driver", backoff=ExponentialBackoff(30, 30), max_restarts=10
    )
    async with asyncio.timeout(5):
        await conn.run(router)  # type: ignore[arg-type]
    assert router.events == []
    assert conn.unrunnable and conn.exited_for_good
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1, errors
    assert "cannot start driver /nonexistent/indi_driver" in errors[0]
    assert errors[0].endswith(": dropped, not retried")


async def test_a_driver_that_ran_keeps_its_restarts_when_its_program_is_gone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a program that never ran is dropped at once: one that ran and died is restarted
    with backoff even when its file has gone meanwhile (an upgrade may be putting it back)."""
    driver = tmp_path / "flaky_driver"
    driver.write_text(f"#!{sys.executable}\nimport os, sys\nos.unlink(sys.argv[0])\n")
    driver.chmod(0o755)
    router = RecordingRouter()
    conn = ExDriverConnection(str(driver), backoff=ExponentialBackoff(0.01, 30.0),
                               max_restarts=2)
    async with asyncio.timeout(10):
        await conn.run(router)  # type: ignore[arg-type]
    assert router.count("ready") == 1
    assert not conn.unrunnable and conn.exited_for_good
    assert caplog.text.count("restarting driver") == 2
    assert caplog.text.count("cannot start driver") == 2
    assert "exited for good after 2 restarts" in caplog.text


async def test_cancel_reaps_a_driver_that_ignores_sigterm(tmp_path: Path) -> None:
    """Shutdown escalates stdin EOF -> SIGTERM -> SIGKILL and always reaps the child."""
    router = RecordingRouter()
    conn = ExDriverConnection(*script(tmp_path, STUBBORN_DRIVER), grace=0.4)
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        await router.wait_for(lambda ev: any(e[0] == "frame" for e in ev))  # SIGTERM ignored
        pid = conn.pid
        assert pid is not None and pid_alive(pid)
        task.cancel()
    assert not pid_alive(pid)  # reaped: not even a zombie is left
    assert router.events[-1][0] == "lost"


async def _stop_once_it_speaks(conn: ExDriverConnection, router: RecordingRouter,
                               caplog: pytest.LogCaptureFixture) -> int | None:
    """Run `conn` until its first element, `stop()` it and wait for `run` to return; its pid."""
    with caplog.at_level(logging.DEBUG, logger="indipyserver.exdriver"):
        async with asyncio.timeout(10), asyncio.TaskGroup() as tg:
            tg.create_task(conn.run(router))  # type: ignore[arg-type]
            await router.wait_for(lambda ev: any(e[0] == "frame" for e in ev))
            pid = conn.pid
            conn.stop()
    return pid


async def test_stop_ends_run_without_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """FIFO 'stop': the driver is stopped and not restarted. Its stdin is closed first, so a
    driver that exits on EOF (indilib's and ours do) ends by itself: no SIGTERM, no warning
    (a deliberate stop was logged as "killed by SIGTERM")."""
    router = RecordingRouter()
    conn = ExDriverConnection(*script(tmp_path, ECHO_DRIVER))
    pid = await _stop_once_it_speaks(conn, router, caplog)
    assert router.count("ready") == 1 and router.count("lost") == 1
    assert pid is not None and not pid_alive(pid)
    assert not conn.exited_for_good
    assert f"(pid {pid}) stopped, status 0" in caplog.text
    assert "SIGTERM" not in caplog.text
    # Asked for: one INFO line says so; the exit itself is no news (DEBUG).
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == [
        f"started driver {conn.label} (pid {pid})", f"driver {conn.label} stopped"]


async def test_stop_terminates_a_driver_that_ignores_eof_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A driver still running half the grace period after EOF gets SIGTERM, and that is logged
    as the stop it is, not as a driver killed."""
    router = RecordingRouter()
    deaf = "import sys, time\nsys.stdin.close()\nprint('<message message=\"up\"/>', flush=True)\ntime.sleep(60)\n"
    conn = ExDriverConnection(*script(tmp_path, deaf), grace=0.4)
    pid = await _stop_once_it_speaks(conn, router, caplog)
    assert pid is not None and not pid_alive(pid)
    assert f"(pid {pid}) stopped" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_large_output_arrives_whole(tmp_path: Path) -> None:
    """A multi-megabyte element (a BLOB) crosses the pipe intact as one frame."""
    big = textwrap.dedent(
        """
        import os, sys
        sys.stdin.buffer.read(10)
        body = b"A" * (5 * 1024 * 1024)
        os.write(1, b'<setBLOBVector device="D" name="B"><oneBLOB name="b" size="1" format=".x">'
                 + body + b'</oneBLOB></setBLOBVector>')
        sys.stdin.buffer.read()
        """
    )
    router = await run_until_a_frame(ExDriverConnection(*script(tmp_path, big)))
    (frame,) = router.frames()
    assert frame.tag == "setBLOBVector" and len(frame.data) > 5 * 1024 * 1024


async def test_a_driver_that_cannot_start_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """'Exec format error' for an executable .py without a '#!' line says what to do about it
    (the command line runs an executable .py as a program, a plain one in-process); a bare
    name that is not found says it was looked for on PATH."""
    from indipyserver.drivers.programs import start_hint

    driver = tmp_path / "focuser.py"
    driver.write_text("import indipydriver\n")
    driver.chmod(0o755)
    conn = ExDriverConnection(str(driver), backoff=ExponentialBackoff(0.01, 30.0),
                               max_restarts=0)
    async with asyncio.timeout(5):
        await conn.run(RecordingRouter())  # type: ignore[arg-type]
    assert "Exec format error" in caplog.text and "#!/usr/bin/env python3" in caplog.text
    hint = start_hint("./focuser.py", OSError(errno.ENOEXEC, "Exec format error"))
    assert "'#!/usr/bin/env python3'" in hint and "in-process" in hint
    assert "no '#!' line" in start_hint("./drv", OSError(errno.ENOEXEC, "Exec format error"))
    assert start_hint("indi_nothing", FileNotFoundError(errno.ENOENT, "No such file")) == (
        " (not found on PATH)")
    assert start_hint("./missing.py", FileNotFoundError(errno.ENOENT, "No such file")) == ""
    plain = tmp_path / "plain.py"
    plain.write_text("#!/usr/bin/env python3\n")
    plain.chmod(0o644)  # no exec bit: refused even to root
    caplog.clear()
    conn = ExDriverConnection(str(plain), backoff=ExponentialBackoff(0.01, 30.0),
                               max_restarts=0)
    async with asyncio.timeout(5):
        await conn.run(RecordingRouter())  # type: ignore[arg-type]
    assert "Permission denied" in caplog.text and "'chmod +x' it" in caplog.text
    assert "serve it in-process: indipyserver FILE.py" in caplog.text


async def test_a_print_to_stdout_is_named_as_the_likely_cause_of_stray_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A Python driver's print() lands between INDI elements on its stdout: the warning about
    text outside any element says so, and the element after it still arrives."""
    printer = ("import os, sys\nsys.stdin.buffer.read1(1000)\nprint('debug: starting')\n"
               "sys.stdout.flush()\nos.write(1, b'<message message=\"after\"/>')\n"
               "sys.stdin.buffer.read()\n")
    router = RecordingRouter()
    conn = ExDriverConnection(*script(tmp_path, printer))
    async with asyncio.timeout(10), asyncio.TaskGroup() as tg:
        task = tg.create_task(conn.run(router))  # type: ignore[arg-type]
        await router.wait_for(lambda ev: any(e[0] == "frame" for e in ev))
        task.cancel()
    assert [f.attrs.get("message") for f in router.frames()] == ["after"]
    assert "text outside any element" in caplog.text
    assert "a print() to stdout? An executable driver's stdout carries INDI XML only" in caplog.text
