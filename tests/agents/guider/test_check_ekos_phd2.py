"""Issue 81 item 3: scripts/check-ekos --guider phd2's own judgement, which the Ekos run cannot
show failing: the guide field it slews to (rich in the stars the guide camera draws, high at
any hour), and what its PHD2 client takes as the end of hope (a failed calibration or settle,
guiding stopped), on which every wait of the PHD2 steps fails at once."""

from __future__ import annotations

import importlib.util
import json
import socket
import time
from datetime import UTC
from datetime import datetime
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest
from waiting import wait_for

from indipysimulators.starcatalogue import default_catalogue
from indipysimulators.starcatalogue import jnow_to_j2000

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "check-ekos"


@pytest.fixture
def check_ekos() -> ModuleType:
    loader = SourceFileLoader("check_ekos", str(SCRIPT))
    spec = importlib.util.spec_from_loader("check_ekos", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_guide_field_is_high_and_rich_at_any_hour(check_ekos: ModuleType) -> None:
    catalogue = default_catalogue()
    for longitude in (0.0, 90.0, 180.0, 270.0):  # four hours of the day at Greenwich's latitude
        check_ekos._guide_field = None
        said = check_ekos.choose_guide_field(51.4769, longitude)
        ra, dec = check_ekos.SLEW_RA, check_ekos.SLEW_DEC
        assert 50 <= dec <= 80 and check_ekos._hours_apart(
            ra, check_ekos.sidereal_time(longitude)) <= 2.01
        # counted as the camera draws it: the mount's JNow pointing in the catalogue's J2000
        # (26 years of precession move a field at DEC 65 by more than the cone)
        drawn = catalogue.cone(*jnow_to_j2000(ra, dec, datetime.now(UTC)), check_ekos.GUIDE_CONE,
                               mag_limit=check_ekos.GUIDE_MAG)
        assert len(drawn) >= check_ekos.GUIDE_STARS, said
        assert f"RA {ra} DEC {dec}" in said
        # chosen once a run: both servers slew alike, whatever the hour or site later
        check_ekos.choose_guide_field(-30.0, longitude + 45.0)
        assert (check_ekos.SLEW_RA, check_ekos.SLEW_DEC) == (ra, dec)
    check_ekos._guide_field = None
    check_ekos.choose_guide_field(-33.9, 18.4)  # south: the fields about the south pole
    assert -80 <= check_ekos.SLEW_DEC <= -50


def test_the_phd2_client_sees_the_end_of_hope(check_ekos: ModuleType) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        watcher = check_ekos.Phd2Watcher(listener.getsockname()[1])
        agent, _ = listener.accept()
        watcher.start()
        try:
            t0 = time.monotonic()

            def say(**event: object) -> None:
                agent.sendall(json.dumps(event).encode() + b"\r\n")

            say(Event="Version", MsgVersion=1)
            say(Event="SettleDone", Status=0)
            say(Event="StarLost", Status=-1)  # guiding goes on: not the end
            wait_for(lambda: len(watcher.events()) == 3, 5, "three events")
            assert watcher.trouble(t0) is None and watcher.quiet(t0) < 5
            say(Event="SettleDone", Status=1, Error="timed-out waiting for guider to settle")
            assert "timed-out" in wait_for(lambda: watcher.trouble(t0), 5, "a failed settle")
            t1 = time.monotonic()
            say(Event="CalibrationFailed", Reason="no usable guide star")
            assert "no usable guide star" in wait_for(lambda: watcher.trouble(t1), 5,
                                                       "a failed calibration")
            agent.close()
            wait_for(lambda: watcher.error, 5, "the watcher seeing the agent gone")
        finally:
            agent.close()
            watcher.stop()
        assert watcher.error == "the agent closed the connection"
        assert "closed" in watcher.trouble(time.monotonic())
