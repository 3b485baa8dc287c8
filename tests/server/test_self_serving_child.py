"""An executable .py that starts a server of its own, run by ``indipyserver`` as a driver
(issue 58, 4f). It once served quietly on its own port while the parent had none of its
devices; now the child says why it exits and the parent drops it, not retried, saying so.
"""

from __future__ import annotations

import sys
from pathlib import Path

from peers import OurServer
from peers import free_port
from peers import getprop_holding
from peers import port_accepts
from waiting import wait_for

CHILD = """\
import indipydriver as ipd
from indipyserver import IPyServer

power = ipd.SwitchVector("POWER", "Power", "Main", "rw", "AtMostOne", "Ok",
                         [ipd.SwitchMember("ON", membervalue="Off")])
IPyServer(ipd.IPyDriver(ipd.Device("Lamp", [power])), port={port}).run()
"""


def self_serving(tmp_path: Path, port: int) -> Path:
    """``tmp_path/lamp.py``, executable, ending with its own ``IPyServer(...).run()``."""
    child = tmp_path / "lamp.py"
    child.write_text(f"#!{sys.executable}\n{CHILD.format(port=port)}")
    child.chmod(0o755)
    return child


def test_a_child_that_starts_its_own_server_is_told_and_dropped(tmp_path: Path) -> None:
    """The parent's log has the child's reason (which server, where it would have listened,
    what to do) and the parent's verdict, once (no restarts); the child never listened on its
    port, and the parent still serves (with none of the child's devices)."""
    child_port = free_port()
    child = self_serving(tmp_path, child_port)
    # --demo: the parent's own Thermostat, there to show that an answer came (see below).
    with OurServer("--demo", str(child), workdir=tmp_path / "server", verbosity=0) as server:
        verdict = "starts a server of its own instead of speaking INDI on stdin/stdout"
        wait_for(lambda: verdict in server.log_text(), 20,
                 lambda: f"the parent's verdict in its log:\n{server.log_tail()}")
        log = server.log_text()
        assert f"IPyServer on localhost:{child_port}" in log, log
        assert "chmod -x" in log and "asyncio.run(driver.asyncrun())" in log, log
        assert "dropped, not retried" in log and "restarting" not in log, log
        assert log.count(verdict) == 1, log
        assert not port_accepts(child_port)
        assert server.running
        # The child's device absent from an answer that holds the parent's Thermostat.
        served = getprop_holding(server.port, "*.*.*", "Thermostat.TARGET.TARGET")
        assert not any(key.startswith("Lamp.") for key in served), served.stdout
