"""indilib's saved configuration, both ways, with indilib 1.9.9's indi_simulator_ccd: a file
our `standard.configfile.write_config` wrote is loaded by indilib (its POLLING_PERIOD is what
we saved), and the file indilib writes on CONFIG_SAVE is read by `read_config`."""

from __future__ import annotations

from pathlib import Path

from peers import IndiServer
from peers import getprop
from peers import indi_eval
from peers import setprop
from waiting import wait_for

from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver.standard.configfile import config_path
from indipydriver.standard.configfile import read_config
from indipydriver.standard.configfile import write_config

DEV = "CCD Simulator"


def polling(value: float) -> NumberVector:
    vector = NumberVector("POLLING_PERIOD", "Polling", "Options", "rw", "Idle",
                          [NumberMember("PERIOD_MS", "Period (ms)", "%.f", 10, 600000, 1000,
                                        1000)])
    vector["PERIOD_MS"] = value
    return vector


def test_indilib_loads_the_file_we_write(tmp_path: Path) -> None:
    """Our file in HOME/.indi: indi_simulator_ccd comes to show our POLLING_PERIOD (3000, not
    its 1000 default) without any CONNECT: indilib 1.9.9 defines it with the default, then
    loads the saved value (so wait for it with indi_eval -w, not a first getprop)."""
    server = IndiServer("indi_simulator_ccd", workdir=tmp_path)
    path = config_path(DEV, server.home)
    path.parent.mkdir(parents=True)
    path.write_bytes(write_config(DEV, [polling(3000)]))
    server.start()
    try:
        loaded = indi_eval(server.port, f'"{DEV}.POLLING_PERIOD.PERIOD_MS"==3000', timeout=10)
        assert loaded.returncode == 0, loaded.describe()
        assert getprop(server.port, f"{DEV}.CONNECTION.CONNECT")[f"{DEV}.CONNECTION.CONNECT"] \
            == "Off"
    finally:
        server.stop()


def test_we_read_the_file_indilib_saves(tmp_path: Path) -> None:
    """CONNECT, POLLING_PERIOD 2500, CONFIG_SAVE on indi_simulator_ccd: read_config finds
    POLLING_PERIOD 2500 in the file it wrote, and names the properties we lack."""
    server = IndiServer("indi_simulator_ccd", workdir=tmp_path).start()
    try:
        setprop(server.port, f"{DEV}.CONNECTION.CONNECT=On")
        getprop(server.port, f"{DEV}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE", timeout=10)
        setprop(server.port, f"{DEV}.POLLING_PERIOD.PERIOD_MS=2500")
        setprop(server.port, f"{DEV}.CONFIG_PROCESS.CONFIG_SAVE=On")
        path = config_path(DEV, server.home)
        wait_for(lambda: b"2500" in (path.read_bytes() if path.exists() else b""), 10,
                 f"indilib to write {path} with 2500", interval=0.1)
    finally:
        server.stop()
    read = read_config(path.read_bytes(), DEV, {"POLLING_PERIOD": polling(1000)})
    assert [(e.name, e.values) for e in read.entries] == [
        ("POLLING_PERIOD", {"PERIOD_MS": "2500"})]
    assert "LOGGING_LEVEL: the device has no such property: skipped" in read.problems
