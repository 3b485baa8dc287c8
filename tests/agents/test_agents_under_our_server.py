"""Issue 89 item 6: every agent run as an executable by ``indipyserver -p PORT`` drives that
server, told its address by INDIPY_AGENT_SERVER, as the guide says a server hands it to the
drivers it starts (before, each connected to localhost:7624: "could not connect to
localhost:7624"). The proof is each agent's own process holding a connection to PORT once
asked to work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from agentkit import executable_folder
from peers import OurServer
from peers import free_port
from peers import tcp_socket_fds
from waiting import until

import indipyclient

#: pyproject.toml's console scripts of the agents, the modules they run, their devices and
#: what sets each to work (its link opened): the watchdog watches from its start.
AGENTS = {
    "indipy_agent_imager": ("indipyagents.imageragent.main", "Imager Agent",
                            ("CONNECTION", {"CONNECT": "On"})),
    "indipy_agent_guider": ("indipyagents.guider.main", "Guider Agent",
                            ("AGENT_START_PROCESS", {"CALIBRATION": "On"})),
    "indipy_agent_astrometry": ("indipyagents.astrometry.main", "Astrometry Agent",
                                ("AGENT_START_PROCESS", {"SOLVE": "On"})),
    "indipy_agent_watchdog": ("indipyagents.watchdog.main", "WatchDog", None),
}
ESTABLISHED = "01"


def children(pid: int) -> dict[str, int]:
    """The processes whose parent is `pid` (from /proc), by their command's last word."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                for word in command:
                    name = os.path.basename(word.decode())
                    if name in AGENTS:
                        found[name] = int(entry)
    return found


def connected_to(pid: int, port: int) -> bool:
    """Whether process `pid` holds an established TCP connection to `port`."""
    try:
        return bool(tcp_socket_fds(pid, lambda _local, remote, state:
                                   remote == port and state == ESTABLISHED))
    except OSError:  # it ended between the listing and the look
        return False


@pytest.mark.timeout(120)
async def test_each_agent_started_by_our_server_drives_that_servers_port(
        tmp_path: Path) -> None:
    """The four agents as executables under ``indipyserver -p PORT`` (PORT not 7624,
    INDIPY_AGENT_SERVER not set for them) each connect to PORT."""
    folders = [executable_folder(tmp_path, name, module) for name, (module, *_) in AGENTS.items()]
    port = free_port()
    assert port != 7624
    env = {"PATH": os.pathsep.join([*dict.fromkeys(folders), os.environ.get("PATH", "")]),
           "INDIPY_PHD2_PORT": str(free_port())}
    server = OurServer(*AGENTS, workdir=tmp_path, port=port, env=env,
                       extra_args=["--no-announce"])
    with server:
        assert server.process is not None
        async with indipyclient.connect("127.0.0.1", port) as client:
            for device, work in (agent[1:] for agent in AGENTS.values()):
                if work is not None:
                    await client.wait_for(device, work[0], timeout=30)
                    await client.set(device, work[0], work[1], wait=False)
            pids = children(server.process.pid)
            assert set(pids) == set(AGENTS), server.log_tail()
            await until(lambda: all(connected_to(pid, port) for pid in pids.values()), 30,
                        lambda: f"{[n for n, p in pids.items() if not connected_to(p, port)]}"
                                f" connected to {port}:\n{server.log_tail()}")
