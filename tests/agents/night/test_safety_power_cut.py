"""Issue 72 item 4 through a power cut, with indilib's ``indi_setprop``/``indi_getprop`` as
the only client (the watchdog's commands, typed): a night held unsafe on our server (a child
process: the imager agent and our simulators), the whole server killed with SIGKILL and
started again with the same command, is still held (AGENT_SAFETY UNSAFE with its cause, no
frame taken), and SAFE then finishes the plan with exactly its frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from agentkit import AGENT
from peers import getprop
from powercutkit import LONG
from powercutkit import Rig
from powercutkit import check_night
from powercutkit import frames_on_disk
from powercutkit import long_night_at_first_frame
from powercutkit import planned_files
from waiting import wait_for


@pytest.mark.timeout(240)
def test_a_night_held_unsafe_stays_held_through_a_kill_then_safe_finishes_it(
        tmp_path: Path) -> None:
    """indi_setprop sets the cause and UNSAFE during the second frame, the agent holds;
    SIGKILL to the server's process group and the same command again: the agent resumes the
    night held (its log says the journal is unsafe, SEQUENCE_STATE Busy, AGENT_SAFETY UNSAFE
    and AGENT_SAFETY_CAUSE "rain" as indi_getprop shows them, no frame added); indi_setprop's
    SAFE then ends it Ok with exactly the four planned frames, each whole, each journalled
    once."""
    rig = Rig(tmp_path)
    try:
        _, folder = long_night_at_first_frame(rig)
        rig.set(f"{AGENT}.AGENT_SAFETY_CAUSE.CAUSE=rain")
        rig.set(f"{AGENT}.AGENT_SAFETY.UNSAFE=On")
        assert rig.server.wait_for_log("held: unsafe (rain)", 30), rig.log_tail()
        kept = frames_on_disk(folder)
        rig.kill_all()
        rig.start()
        assert rig.server.wait_for_log("the journal says unsafe (rain)", 60), rig.log_tail()
        rig.wait_seen("Busy")
        rig.wait_state("AGENT_SAFETY", ("Ok",))
        wanted = {f"{AGENT}.AGENT_SAFETY.UNSAFE": "On",
                  f"{AGENT}.AGENT_SAFETY_CAUSE.CAUSE": "rain"}
        found = getprop(rig.port, *wanted, timeout=5)
        assert {spec: found.get(spec) for spec in wanted} == wanted, found
        # The resumed run shows Busy and UNSAFE before it prepares the rig (the camera's
        # driver started again, connected); it holds, and says so, only after that: waited.
        wait_for(lambda: rig.server.log_text().count("held: unsafe (rain)") >= 2, 60,
                 lambda: f"the resumed night held: {rig.log_tail()}")
        assert frames_on_disk(folder) == kept
        rig.set(f"{AGENT}.AGENT_SAFETY.SAFE=On")
        rig.wait_seen("Ok", at_least=4, timeout=120)
        check_night(folder, planned_files(2), exposure=LONG)
    finally:
        rig.stop()
