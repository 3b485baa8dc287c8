"""Issue 92 item 2 with real peers: flats by level. Our server hosts the imager agent
in-process beside our camera simulator's and focuser/wheel simulator's executables and
indilib's ``indi_simulator_lightpanel``; a plan asks for flats through Red and Luminance at
30000 ADU within 10 %, no exposure given. The first night finds each filter's exposure in a
few test exposures (counted from the journal's ``flat_test`` notes: at most 3 frames a
filter, the kept one counted), every flat kept is within the tolerance (numpy on the saved
FITS), the panel's light is off after; the next night starts from the exposures learnt (the
agent's state folder's ``flats.json``) and takes no test exposure."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from agentkit import night
from agentkit import target
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import FOCUS_PROGRAM
from nightkit import centre_median
from nightkit import fits_files
from nightkit import header
from nightkit import hosted
from nightkit import journal_notes
from nightkit import load_and_start
from nightkit import sequence_ends

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipysimulators.focus import WHEEL

PANEL = "Light Panel Simulator"
ADU = 30000.0


def flats_plan(name: str) -> Plan:
    """Two flats through Red and two through Luminance, binned 2, by level."""
    batches = (Batch(2, 1.0, "Red", 2, "Flat", adu=ADU, tolerance=0.1),
               Batch(2, 1.0, "Luminance", 2, "Flat", adu=ADU, tolerance=0.1))
    plan = night(name, target("Flats", *batches), folder=name.replace(" ", "_"), camera=CCD)
    return replace(plan, devices=Devices(camera=CCD, wheel=WHEEL, panel=PANEL))


def flat_tests_in(folder: Path) -> dict[str, int]:
    """The test exposures each filter took, from the night's journal notes."""
    counts: dict[str, int] = {}
    for data in journal_notes(folder, "flat_test"):
        label = data["step"].split("/")[2]
        counts[label] = counts.get(label, 0) + 1
    return counts




async def test_flats_reach_their_level_and_the_next_night_needs_no_test(tmp_path: Path) -> None:
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, "indi_simulator_lightpanel") as rig:
        client = rig.client
        first: dict[str, int] = {}
        for night_name in ("flats first", "flats next"):
            await load_and_start(client, tmp_path, flats_plan(night_name))
            state, message = await sequence_ends(client, 240)
            assert state == "Ok", message
            folder = rig.frames / night_name.replace(" ", "_")
            names = fits_files(folder)
            assert len(names) == 4, names
            for name in names:
                assert abs(centre_median(folder / name) - ADU) <= 0.1 * ADU, name
            taken = flat_tests_in(folder)
            light = client.devices.vector(PANEL, "FLAT_LIGHT_CONTROL")
            assert light is not None and light["FLAT_LIGHT_OFF"] == "On"
            if not first:
                first = taken
                # at most 3 frames a filter (the kept one counted): at most 2 tests each
                assert all(count <= 2 for count in taken.values()), taken
                book = json.loads((tmp_path / "state" / "flats.json").read_text())
                assert len(book) == 2, book
            else:
                assert taken == {}, taken
    print(f"test exposures: first night {first}, next night none")


async def test_a_panel_whose_light_never_reaches_the_camera_is_said(tmp_path: Path) -> None:
    """indilib's CCD simulator sees no panel (its flats stay at a few ADU whatever the
    exposure): the night pauses within 3 frames, Alert naming the panel and the levels
    measured, no flat kept, and the light turned off."""
    camera = "CCD Simulator"
    async with hosted(tmp_path, "indi_simulator_ccd", "indi_simulator_lightpanel") as rig:
        plan = night("dark panel", target("Flats", Batch(2, 0.5, None, 1, "Flat", adu=ADU)),
                     folder="dark", camera=camera)
        await load_and_start(rig.client, tmp_path,
                             replace(plan, devices=Devices(camera=camera, panel=PANEL)))
        state, message = await sequence_ends(rig.client, 120)
        assert state == "Alert", message
        assert PANEL in message and "does not light" in message, message
        assert "0.5 s:" in message and "10 s:" in message, message
        folder = rig.frames / "dark"
        assert fits_files(folder) == []
        assert sum(flat_tests_in(folder).values()) <= 3
        light = rig.client.devices.vector(PANEL, "FLAT_LIGHT_CONTROL")
        assert light is not None and light["FLAT_LIGHT_OFF"] == "On"


async def test_indilibs_ccd_takes_flats_at_the_exposure_given(tmp_path: Path) -> None:
    """Issue 92 item 8: flats by exposure (no ``adu``), as indilib's imager agent takes them,
    with indilib's CCD simulator: two flats of 0.5 s, no panel, no test exposure, saved in
    ``flats/`` with IMAGETYP Flat Frame and EXPTIME 0.5 (the camera's own cards)."""
    camera = "CCD Simulator"
    async with hosted(tmp_path, "indi_simulator_ccd") as rig:
        plan = night("fixed flats", target("Flats", Batch(2, 0.5, None, 1, "Flat")),
                     folder="fixed", camera=camera)
        await load_and_start(rig.client, tmp_path, replace(plan, devices=Devices(camera=camera)))
        state, message = await sequence_ends(rig.client, 120)
        assert state == "Ok", message
        folder = rig.frames / "fixed"
        names = fits_files(folder)
        assert len(names) == 2 and all(name.startswith("flats/") for name in names), names
        for name in names:
            cards = header(folder / name)
            assert str(cards["IMAGETYP"]).startswith("Flat"), cards
            assert float(str(cards["EXPTIME"])) == 0.5, cards
        assert journal_notes(folder, "flat_test") == []
