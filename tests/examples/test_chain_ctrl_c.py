"""One Ctrl-C stops every IPyServer running in one event loop (examples/chain.py runs three).

`loop.add_signal_handler` replaces the previous handler, so each server registering its own
stopped only the last one; the root then kept reconnecting to a dead leaf.
"""

import signal
import subprocess
import sys
import threading
from pathlib import Path

import peers
from waiting import wait_for

CHAIN = Path(__file__).resolve().parents[2] / "examples" / "chain.py"


def test_one_ctrl_c_stops_all_three_servers_of_the_chain_example(tmp_path: Path) -> None:
    """The Ctrl-C comes once each server has said it serves (logged after its signal handler is
    in place); every one of them stops, and says so."""
    ports = [peers.free_port() for _ in range(3)]
    proc = subprocess.Popen([sys.executable, str(CHAIN), "--ports", *map(str, ports)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines: list[bytes] = []

    def read() -> None:
        assert proc.stderr is not None
        with proc.stderr:
            lines.extend(proc.stderr)  # line by line: the test looks meanwhile

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(lambda: sum(b"serving INDI on" in line for line in lines) == 3
                 or proc.poll() is not None, timeout=15, what="three servers serving")
        assert proc.poll() is None, b"".join(lines).decode()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            still = [p for p in ports if peers.port_accepts(p)]
            raise AssertionError(f"one Ctrl-C left ports {still} of {ports} serving") from None
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        reader.join(10)
    # The Ctrl-C is said once (it was said by each of the three servers before issue 28), and
    # each server says that it stopped.
    log = b"".join(lines).decode()
    assert log.count("SIGINT received: shutting down") == 1, log
    assert all(f"server on port {port} stopped" in log for port in ports), log
