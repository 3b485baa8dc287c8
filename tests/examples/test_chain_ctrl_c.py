"""One Ctrl-C stops every IPyServer running in one event loop (examples/chain.py runs three).

`loop.add_signal_handler` replaces the previous handler, so each server registering its own
stopped only the last one; the root then kept reconnecting to a dead leaf.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import peers

CHAIN = Path(__file__).resolve().parents[2] / "examples" / "chain.py"


def test_one_ctrl_c_stops_all_three_servers_of_the_chain_example(tmp_path: Path) -> None:
    ports = [peers.free_port() for _ in range(3)]
    proc = subprocess.Popen([sys.executable, str(CHAIN), "--ports", *map(str, ports)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert peers.wait_listening(proc, ports[0], 15)
        time.sleep(0.5)
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
        _, err = proc.communicate(timeout=10)
    # The Ctrl-C is said once (it was said by each of the three servers before issue 28), and
    # each server says that it stopped.
    log = err.decode()
    assert log.count("SIGINT received: shutting down") == 1, log
    assert all(f"server on port {port} stopped" in log for port in ports), log
