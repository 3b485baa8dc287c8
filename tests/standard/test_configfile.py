"""indilib's saved configuration format (`standard.configfile`): a file indi_simulator_ccd
wrote after CONFIG_SAVE is read, ours is written in the same layout, and bad input (not XML,
unknown properties, another device's, wrong kinds, members or numbers) is named and skipped
with everything else kept (issue 47 item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipydriver import LightMember
from indipydriver import LightVector
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver.propertyvector import PropertyVector
from indipydriver.standard.configfile import ConfigEntry
from indipydriver.standard.configfile import ConfigError
from indipydriver.standard.configfile import config_path
from indipydriver.standard.configfile import read_config
from indipydriver.standard.configfile import write_config

DATA = Path(__file__).resolve().parents[1] / "data"
#: Written by indilib 1.9.9's indi_simulator_ccd under indiserver (HOME a temp folder) after
#: POLLING_PERIOD.PERIOD_MS=2000 and CONFIG_PROCESS.CONFIG_SAVE=On.
INDILIB_FILE = DATA / "indilib_ccd_simulator_config.xml"


def vectors() -> dict[str, PropertyVector]:
    polling = NumberVector("POLLING_PERIOD", "Polling", "Options", "rw", "Idle",
                           [NumberMember("PERIOD_MS", "Period (ms)", "%.f", 10, 600000, 1000,
                                         1000)])
    active = TextVector("ACTIVE_DEVICES", "Snoop devices", "Options", "rw", "Idle",
                        [TextMember("ACTIVE_TELESCOPE", "Telescope", ""),
                         TextMember("ACTIVE_FOCUSER", "Focuser", "")])
    debug = SwitchVector("DEBUG", "Debug", "Options", "rw", "OneOfMany", "Idle",
                         [SwitchMember("ENABLE", "Enable", "Off"),
                          SwitchMember("DISABLE", "Disable", "On")])
    light = LightVector("STATUS", "Status", "Main", "Idle", [LightMember("OK", "Ok", "Ok")])
    return {v.name: v for v in (polling, active, debug, light)}


def test_the_file_indilib_wrote_is_read() -> None:
    """indilib's own file: POLLING_PERIOD 2000 and DEBUG are taken; ACTIVE_DEVICES, naming a
    member ours lacks (ACTIVE_ROTATOR), is skipped whole; properties we do not have
    (LOGGING_LEVEL, CCD_*...) are each named in the problems."""
    read = read_config(INDILIB_FILE.read_bytes(), "CCD Simulator", vectors())
    entries = {entry.name: entry for entry in read.entries}
    assert entries["POLLING_PERIOD"] == ConfigEntry("Number", "POLLING_PERIOD",
                                                    {"PERIOD_MS": "2000"})
    assert entries["DEBUG"].values == {"ENABLE": "Off", "DISABLE": "On"}
    assert "ACTIVE_DEVICES" not in entries
    assert any(p.startswith("ACTIVE_DEVICES: member 'ACTIVE_ROTATOR'") for p in read.problems)
    assert "LOGGING_LEVEL: the device has no such property: skipped" in read.problems


def test_what_we_write_reads_back_and_is_laid_out_as_indilib_does() -> None:
    """write_config then read_config gives the values back; lights are not saved; the layout
    (root INDIDriver, the value on its own indented line) is the one in indilib's file; the
    attributes are in the serialiser's double quotes (indilib writes single, reads both)."""
    mine = vectors()
    mine["POLLING_PERIOD"]["PERIOD_MS"] = 2500
    mine["ACTIVE_DEVICES"]["ACTIVE_TELESCOPE"] = "Python <Mount> & 'Co'"
    data = write_config("Cam", mine.values())
    assert data.startswith(b'<INDIDriver>\n<newNumberVector device="Cam" name="POLLING_PERIOD">'
                           b'\n  <oneNumber name="PERIOD_MS">\n      2500\n  </oneNumber>\n')
    assert b"STATUS" not in data
    indilib = INDILIB_FILE.read_text()
    assert indilib.startswith("<INDIDriver>\n<newSwitchVector device='CCD Simulator' name=")
    read = read_config(data, "Cam", mine)
    assert read.problems == []
    assert [(e.name, e.values) for e in read.entries] == [
        ("POLLING_PERIOD", {"PERIOD_MS": "2500"}),
        ("ACTIVE_DEVICES", {"ACTIVE_TELESCOPE": "Python <Mount> & 'Co'", "ACTIVE_FOCUSER": ""}),
        ("DEBUG", {"ENABLE": "Off", "DISABLE": "On"})]


def test_a_broken_file_raises_config_error_naming_it() -> None:
    """Not XML (a file cut short, an empty one): ConfigError saying so, never a bare
    ParseError."""
    for data in (b"<INDIDriver><newNumberVector name='POLLING_PERIOD'>", b"", b"garbage"):
        with pytest.raises(ConfigError, match="not a config file"):
            read_config(data, "Cam", vectors())


def test_unknown_and_mismatched_entries_are_named_and_the_rest_kept() -> None:
    """Another device's entry, a kind that differs, an unknown member, a number that is not
    one or is out of limits, a bad switch value, a stray element: each named and skipped;
    the good entry in the same file is kept."""
    data = b"""<INDIDriver>
<newNumberVector device='Other' name='POLLING_PERIOD'><oneNumber name='PERIOD_MS'>5</oneNumber></newNumberVector>
<newTextVector device='Cam' name='POLLING_PERIOD'><oneText name='PERIOD_MS'>5</oneText></newTextVector>
<newNumberVector device='Cam' name='POLLING_PERIOD'><oneNumber name='NOPE'>5</oneNumber></newNumberVector>
<newNumberVector device='Cam' name='POLLING_PERIOD'><oneNumber name='PERIOD_MS'>fast</oneNumber></newNumberVector>
<newNumberVector device='Cam' name='POLLING_PERIOD'><oneNumber name='PERIOD_MS'>1</oneNumber></newNumberVector>
<newSwitchVector device='Cam' name='DEBUG'><oneSwitch name='ENABLE'>Maybe</oneSwitch></newSwitchVector>
<defNumberVector device='Cam' name='X'/>
<newNumberVector device='Cam' name='POLLING_PERIOD'><oneNumber name='PERIOD_MS'> 3000 </oneNumber></newNumberVector>
</INDIDriver>"""
    read = read_config(data, "Cam", vectors())
    assert read.entries == [ConfigEntry("Number", "POLLING_PERIOD", {"PERIOD_MS": "3000"})]
    assert read.problems == [
        "POLLING_PERIOD: saved for device 'Other', not 'Cam': skipped",
        "POLLING_PERIOD: saved as Text, the device's is Number: skipped",
        "POLLING_PERIOD: member 'NOPE' is not one of PERIOD_MS: skipped",
        "POLLING_PERIOD: number PERIOD_MS is 'fast', not a number: skipped",
        "POLLING_PERIOD: number PERIOD_MS = 1 is outside its limits: skipped",
        "DEBUG: switch ENABLE is 'Maybe', not On or Off: skipped",
        "<defNumberVector> is not a saved property: skipped"]


@given(st.binary(max_size=300))
def test_any_bytes_give_entries_or_config_error(data: bytes) -> None:
    """Whatever the file holds: entries and problems, or ConfigError; nothing else escapes."""
    try:
        read_config(data, "Cam", vectors())
    except ConfigError:
        pass


def test_the_path_is_indilibs() -> None:
    """~/.indi/<device>_config.xml, the name indilib gives it (spaces kept)."""
    assert config_path("CCD Simulator", Path("/h")) == Path("/h/.indi/CCD Simulator_config.xml")
