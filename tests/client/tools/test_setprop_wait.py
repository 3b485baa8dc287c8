"""``indipy-setprop -w`` waits until the vector leaves Busy, long enough for a real exposure.

Protects issue 43 item 7: ``-w`` used to give up after the 2 s definition timer, so a 3 s
exposure of indilib's CCD simulator "timed out" while the camera was still exposing. Without
``-t`` the answer is now waited for as `answer_timeout` says (at least 60 s, the vector's own
timeout + 10 s, an exposure's length + 60 s); ``-t`` still bounds it (exit 1, a message).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from peers import IndiServer
from peers import getprop
from toolkit import address
from toolkit import ours
from toolkit import run_tool
from toolkit import wait_defined

from indipyclient.frontends.tools.setprop import USAGE
from indipyclient.frontends.tools.setprop import answer_timeout

CCD = "CCD Simulator"


def test_default_answer_timeout_covers_the_vector_and_the_exposure() -> None:
    """The rule, as --help states it: 60 s at least, the vector's timeout + 10 s, and for an
    exposure the exposure asked for + 60 s; a value that is not a number changes nothing."""
    assert answer_timeout("TARGET", 0, [("TARGET", "21")]) == 60
    assert answer_timeout("TARGET", 120, [("TARGET", "21")]) == 130
    assert answer_timeout("CCD_EXPOSURE", 60, [("CCD_EXPOSURE_VALUE", "300")]) == 360
    assert answer_timeout("GUIDER_EXPOSURE", 0, [("GUIDER_EXPOSURE_VALUE", "2")]) == 62
    assert answer_timeout("CCD_EXPOSURE", 0, [("CCD_EXPOSURE_VALUE", "soon")]) == 60
    assert "60 s" in USAGE and "exposure + 60 s" in USAGE


@pytest.mark.interop
def test_wait_returns_after_a_real_exposure_and_minus_t_bounds_it(
        indiserver_factory: Callable[..., IndiServer]) -> None:
    """indilib's CCD simulator on indiserver: ``-w`` on a 3 s exposure exits 0 once the driver
    said Ok (the exposure ended, not merely started); ``-w -t 1`` exits 1 saying there was no
    answer within 1 s (still Busy)."""
    server = indiserver_factory("indi_simulator_ccd")
    wait_defined(server.port, f"{CCD}.CONNECTION.CONNECT")
    connected = run_tool([*ours("indi_setprop"), *address(server.port), "-w",
                          f"{CCD}.CONNECTION.CONNECT=On"])
    assert connected.returncode == 0, connected.describe()
    wait_defined(server.port, f"{CCD}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE")

    spec = f"{CCD}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=3"
    done = run_tool([*ours("indi_setprop"), *address(server.port), "-v", "-w", spec])
    assert done.returncode == 0, done.describe()
    assert f"{CCD}.CCD_EXPOSURE: Ok" in done.stderr, done.describe()
    state = getprop(server.port, f"{CCD}.CCD_EXPOSURE._STATE", timeout=5)
    assert dict(state) == {f"{CCD}.CCD_EXPOSURE._STATE": "Ok"}, state.result.describe()

    bounded = run_tool([*ours("indi_setprop"), *address(server.port), "-w", "-t", "1", spec])
    assert bounded.returncode == 1, bounded.describe()
    assert "no answer from the driver within 1 s (still Busy" in bounded.stderr, bounded.describe()
