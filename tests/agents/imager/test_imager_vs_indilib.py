"""Issue 71 item 2: our imager agent beside indilib's, driven by the same indi_setprop commands,
each beside indilib's CCD and wheel simulators: the same files, FITS headers and order of
property states, but for the one difference on purpose (the FILTER card of the second group).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from imagerkit import Watcher
from imagerkit import headers
from imagerkit import port_7624
from imagerkit import run_comparison_batch
from peers import IndiServer
from peers import OurServer
from peers import driver_path
from peers import free_port

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]

SIMULATORS = ("indi_simulator_ccd", "indi_simulator_wheel")
NAMES = ["IMG_1_001.fits", "IMG_1_002.fits", "IMG_2_001.fits"]


Cards = dict[str, tuple[object, ...]]
#: A client's setting of the camera before START: flats, for indilib's agent's groups have no
#: frame type (issue 92 item 8).
FLAT = ("CCD Simulator.CCD_FRAME_TYPE.FRAME_FLAT=On",)


def _batch(port: int, folder: Path, before_start: tuple[str, ...] = (),
           keys: tuple[str, ...] = ("FILTER", "EXPTIME", "XBINNING")
           ) -> tuple[Cards, list[tuple[str, str]]]:
    folder.mkdir()
    watcher = Watcher(port)
    try:
        order = run_comparison_batch(port, folder, watcher, before_start)
    finally:
        watcher.close()
    return headers(folder, keys), order


def _indilib(tmp_path: Path, indiserver_factory: Callable[..., IndiServer],
             before_start: tuple[str, ...] = (),
             keys: tuple[str, ...] = ("FILTER", "EXPTIME", "XBINNING")
             ) -> tuple[Cards, list[tuple[str, str]]]:
    with port_7624() as port:
        server = indiserver_factory("indi_imager_agent", *SIMULATORS, port=port)
        try:
            return _batch(port, tmp_path / "indilib", before_start, keys)
        finally:
            server.stop()


def test_ours_in_process_as_indilibs(tmp_path: Path,
                                     indiserver_factory: Callable[..., IndiServer],
                                     our_server: Callable[..., OurServer]) -> None:
    """`indipyserver indipyagents.imager` (the agent in-process, finding its server's port
    itself) makes the files indilib's agent makes, with the same EXPTIME and XBINNING, through
    the same order of BATCH/PROGRESS/STATUS states; its second group's FILTER is the wheel's
    Green, where indilib's says Red (its CCD simulator reads its own built-in wheel)."""
    theirs, their_order = _indilib(tmp_path, indiserver_factory)
    server = our_server("indipyagents.imager", *SIMULATORS, port=free_port())
    ours, our_order = _batch(server.port, tmp_path / "ours")
    assert sorted(theirs) == sorted(ours) == NAMES
    assert theirs == {"IMG_1_001.fits": ("Red", 1.0, 1), "IMG_1_002.fits": ("Red", 1.0, 1),
                      "IMG_2_001.fits": ("Red", 1.0, 2)}
    assert ours == {"IMG_1_001.fits": ("Red", 1.0, 1), "IMG_1_002.fits": ("Red", 1.0, 1),
                    "IMG_2_001.fits": ("Green", 1.0, 2)}
    assert our_order == their_order, (our_order, their_order)


def test_ours_executable_under_indiserver(tmp_path: Path,
                                          indiserver_factory: Callable[..., IndiServer]) -> None:
    """``indipy_agent_imager`` run by indilib's indiserver on a port other than 7624
    (INDIPY_AGENT_SERVER says which) runs the comparison's batch as indilib's agent does: the
    same files and headers but the second group's FILTER, which is the wheel's."""
    port = free_port()
    env = {"PATH": driver_path(), "INDIPY_AGENT_SERVER": f"127.0.0.1:{port}",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    indiserver_factory("indipy_agent_imager", *SIMULATORS, port=port, env=env)
    ours, order = _batch(port, tmp_path / "ours")
    assert ours == {"IMG_1_001.fits": ("Red", 1.0, 1), "IMG_1_002.fits": ("Red", 1.0, 1),
                    "IMG_2_001.fits": ("Green", 1.0, 2)}
    assert order[0] == ("PROGRESS", "Busy") and order[-1] == ("PROGRESS", "Ok"), order


def test_a_batch_with_the_camera_on_flat_takes_flats_as_indilibs(
        tmp_path: Path, indiserver_factory: Callable[..., IndiServer],
        our_server: Callable[..., OurServer]) -> None:
    """Issue 92 item 8 through indilib's face: with the CCD simulator's CCD_FRAME_TYPE set to
    FRAME_FLAT by a client before START, both agents take the batch's frames as flats at the
    groups' fixed exposure (IMAGETYP "Flat Frame", EXPTIME 1): indilib's agent sets no frame
    type, and ours took Light frames over the client's setting before."""
    keys = ("IMAGETYP", "EXPTIME")
    theirs, _ = _indilib(tmp_path, indiserver_factory, FLAT, keys)
    server = our_server("indipyagents.imager", *SIMULATORS, port=free_port())
    ours, _ = _batch(server.port, tmp_path / "ours", FLAT, keys)
    assert theirs == ours == dict.fromkeys(NAMES, ("Flat Frame", 1.0))
