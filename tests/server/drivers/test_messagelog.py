"""indiserver's -l: drivers' messages appended to DIR/YYYY-MM-DD.islog (messagelog)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running

from indipyserver import IPyServer
from indipyserver.drivers.messagelog import DriverMessageLog


def test_a_message_becomes_a_line_in_the_file_of_its_day(tmp_path: Path) -> None:
    """`TIMESTAMP: DEVICE: MESSAGE` in the file named after the timestamp's date, appended."""
    log = DriverMessageLog(tmp_path)
    log({"device": "Dome", "message": "Shutter open", "timestamp": "2026-11-21T23:59:58"}, "Dome")
    log({"message": "Server says hi", "timestamp": "2026-11-22T00:00:01"}, "")
    log({"device": "Dome", "name": "P", "timestamp": "2026-11-22T00:00:02"}, "Dome")  # no message
    assert (tmp_path / "2026-11-21.islog").read_text() == "2026-11-21T23:59:58: Dome: Shutter open\n"
    assert (tmp_path / "2026-11-22.islog").read_text() == "2026-11-22T00:00:01: : Server says hi\n"


def test_control_characters_are_dropped_as_indiserver_drops_them(tmp_path: Path) -> None:
    """indiserver's XML parser (lilxml) drops every control character from attribute values
    (``iscntrl``), so in its .islog one message is one line: ``lit\nnewline`` is logged as
    ``litnewline`` (seen with indiserver 1.9.9, tests/interop/test_message_log.py). Ours wrote
    the newline, splitting the message over two lines for anyone reading the file by line."""
    log = DriverMessageLog(tmp_path)
    stamp = "2031-01-02T03:04:05"
    for message in ("lit\nnewline", "lit\r\ncrlf", "tab\tx", "bell\x07 and del\x7f", "end\n"):
        log({"device": "Dome", "message": message, "timestamp": stamp}, "Dome")
    log({"device": "Dome", "message": "\n\t", "timestamp": stamp}, "Dome")  # nothing left: no line
    log({"device": "Dome", "message": "stamp", "timestamp": "2031-01-02T03:04:06\n"}, "Do\tme")
    assert (tmp_path / "2031-01-02.islog").read_text() == (
        "2031-01-02T03:04:05: Dome: litnewline\n"
        "2031-01-02T03:04:05: Dome: litcrlf\n"
        "2031-01-02T03:04:05: Dome: tabx\n"
        "2031-01-02T03:04:05: Dome: bell and del\n"
        "2031-01-02T03:04:05: Dome: end\n"
        "2031-01-02T03:04:06: Dome: stamp\n"
    )
    # Not control characters for indiserver either: kept (é, a C1 character, a no-break space).
    log({"message": "caf\u00e9 \u0085 \u00a0x", "timestamp": stamp}, "")
    assert (tmp_path / "2031-01-02.islog").read_text().endswith(": : caf\u00e9 \u0085 \u00a0x\n")


def test_without_a_timestamp_the_time_is_now_in_utc(tmp_path: Path) -> None:
    DriverMessageLog(tmp_path)({"message": "m"}, "D")
    (path,) = tmp_path.iterdir()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d\.islog", path.name)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d: D: m\n", path.read_text())
    assert path.read_text().startswith(path.name[:10])


def test_a_timestamp_that_is_not_a_date_never_names_a_path(tmp_path: Path) -> None:
    """The file name comes from what a driver sent: `../x` must not leave the directory."""
    DriverMessageLog(tmp_path / "logs")  # (a directory that does not exist is not created)
    (tmp_path / "logs").mkdir()
    DriverMessageLog(tmp_path / "logs")({"message": "m", "timestamp": "../../etc/x"}, "D")
    (path,) = (tmp_path / "logs").iterdir()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d\.islog", path.name)


def test_a_directory_that_cannot_be_written_is_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = DriverMessageLog(tmp_path / "missing")
    with caplog.at_level(logging.WARNING, logger="indipyserver.messagelog"):
        for _ in range(3):
            log({"message": "m"}, "D")
    assert len([r for r in caplog.records if "cannot log driver messages" in r.getMessage()]) == 1


async def test_the_server_logs_what_its_drivers_say(tmp_path: Path) -> None:
    """End to end: an in-process driver's message reaches the file (and its clients)."""
    driver = make_gadget()
    async with running(IPyServer(driver, port=0, handle_signals=False, message_log_dir=str(tmp_path))) as srv:
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties/>")
        await c.wait_for("defTextVector", device="Gadget")
        await driver["Gadget"].send_message("Cooling to -10")
        await c.wait_for("message", device="Gadget")
    (path,) = tmp_path.iterdir()
    assert path.read_text().endswith(": Gadget: Cooling to -10\n")
