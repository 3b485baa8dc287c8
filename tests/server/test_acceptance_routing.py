"""Acceptance (issue 3): forwarding and getProperties rules through real connections.

The router's unit tests check these rules with fake connections; these run them end to end,
through an executable driver on pipes and TCP clients, so the connection layers cannot undo them:

* "Messages are forwarded as the original bytes": an executable driver's odd but valid XML
  (single quotes, padded values, attribute order) reaches clients byte for byte, and a client's
  request reaches the executable driver byte for byte.
* "an in-process driver's message is serialised once and the same bytes go to every client".
* "Every getProperties sent to an executable driver carries version="1.7"; the first one names
  no device": whatever version (none, 2.0) clients and snooping drivers use.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import running
from serverkit import server
from waiting import until

from indipydriver import IPyDriver
from indipyserver.clients.clientconnection import ClientConnection

# Announces device "Rec" in indilib's own style and appends everything it reads to argv[1].
RECORDER = f"#!{sys.executable}\n" + textwrap.dedent(
    """
    import os, sys
    DEF = (b"<defNumberVector device='Rec' name='N' state='Idle' perm='rw' label='N'>\\n"
           b"  <defNumber name='x' format='%g' min='0' max='10' step='1'>\\n      3\\n"
           b"  </defNumber>\\n</defNumberVector>\\n")
    os.write(1, DEF)
    with open(sys.argv[1], "ab", buffering=0) as log:
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            log.write(data)
            if b"<getProperties" in data:
                os.write(1, DEF)
    """
)

ODD_DEF = (
    b"<defNumberVector device='Rec' name='N' state='Idle' perm='rw' label='N'>\n"
    b"  <defNumber name='x' format='%g' min='0' max='10' step='1'>\n      3\n"
    b"  </defNumber>\n</defNumberVector>"
)



@pytest.fixture
def recorder(tmp_path: Path) -> tuple[Path, Path]:
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    script.chmod(0o755)
    return script, tmp_path / "stdin.log"


async def _wait_file(path: Path, needle: bytes, timeout: float = 10.0) -> bytes:
    def read() -> bytes:
        return path.read_bytes() if path.exists() else b""

    data: bytes = await until(lambda: needle in read() and read(), timeout,
                              lambda: f"{needle!r} to reach the driver; it got {read()!r}")
    return data


async def test_original_bytes_are_forwarded_both_ways_through_an_executable_driver(
    recorder: tuple[Path, Path],
) -> None:
    script, log = recorder
    srv = server()
    srv.add_exdriver(str(script), str(log), max_restarts=0)
    async with running(srv):
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties version='1.7'/>")
        d = await c.wait_for("defNumberVector", device="Rec")
        assert d.data == ODD_DEF  # not re-serialised: quotes, padding and order kept
        new = (b"<newNumberVector  name='N' device='Rec'>\n <oneNumber name='x'>"
               b"  7 </oneNumber>\n</newNumberVector>")
        await c.send(new)
        await _wait_file(log, new)


async def test_a_malformed_request_reaches_neither_the_executable_driver_nor_other_clients(
    recorder: tuple[Path, Path],
) -> None:
    """Alone in a read (the round trip's shortcut) or not: a newNumberVector whose member is
    closed by the wrong end tag, carrying a version-less getProperties on to the next
    </newNumberVector>, is dropped; before, its bytes reached the driver (a C driver exits on
    that getProperties) and the other client (whose parser fails). The next request passes."""
    script, log = recorder
    srv = server()
    srv.add_exdriver(str(script), str(log), max_restarts=0)
    async with running(srv):
        sender, watcher = [await RawClient.connect(srv.port) for _ in range(2)]
        for c in (sender, watcher):
            await c.send("<getProperties version='1.7'/>")
            await c.wait_for("defNumberVector", device="Rec")
        bad = (b"<newNumberVector device='Rec' name='N'><oneNumber name='x'>1</oneText>"
               b"<getProperties/></newNumberVector>")
        await sender.send(bad)  # alone in its read: dealt with before the next is sent
        await sender.round_trip()
        await sender.send(bad + b"<pingRequest uid='p'/>")  # with another element
        await sender.wait_for("pingReply")
        good = b"<newNumberVector device='Rec' name='N'><oneNumber name='x'>2</oneNumber></newNumberVector>"
        await sender.send(good)
        got = await _wait_file(log, good)
        echoed = await watcher.wait_for("newNumberVector")
    assert b"oneText" not in got and b"<getProperties/>" not in got, got  # only the server's own
    assert echoed.data == good


async def test_an_in_process_drivers_message_is_serialised_once_for_every_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, list[bytes]] = {}
    original = ClientConnection.send_frame

    def recording(self: ClientConnection, frame):  # type: ignore[no-untyped-def]
        if frame.tag == "setNumberVector":
            seen.setdefault(self.label, []).append(frame.data)
        return original(self, frame)

    monkeypatch.setattr(ClientConnection, "send_frame", recording)
    driver = make_gadget()
    async with running(server(driver)) as srv:
        clients = [await RawClient.connect(srv.port) for _ in range(3)]
        for c in clients:
            await c.send("<getProperties/>")
            await c.wait_for("defBLOBVector")
        await driver["Gadget"]["VALUE"].send_setVector()
        for c in clients:
            await c.wait_for("setNumberVector")
    assert len(seen) == 3
    first = next(iter(seen.values()))[0]
    assert all(len(got) == 1 and got[0] is first for got in seen.values())


class Snooper(IPyDriver):
    async def hardware(self) -> None:
        # Rec.N is answered from the server's cache; Rec.LATER, not defined yet, is asked of
        # its driver.
        await self.send_getProperties("Rec", "LATER")
        await self.send_getProperties("Rec")


async def test_every_getproperties_to_an_executable_driver_says_version_17_and_the_first_no_device(
    recorder: tuple[Path, Path],
) -> None:
    from indipydriver import Device
    from indipydriver import TextMember
    from indipydriver import TextVector

    script, log = recorder
    snooper = Snooper(Device("Snoop", [TextVector("T", "T", "G", "ro", "Idle",
                                                  [TextMember("t", membervalue="x")])]))
    srv = server()
    srv.add_exdriver(str(script), str(log), max_restarts=0)
    async with running(srv):
        c = await RawClient.connect(srv.port)
        await c.send("<getProperties/>")
        await c.wait_for("defNumberVector", device="Rec")
        srv.add_driver(snooper)
        for request in ('<getProperties version="2.0" switch="2.0" device="Rec" name="Z"/>',
                        "<getProperties device='Rec' name='ZZ'/>",
                        '<getProperties version="1.5" device="Rec"/>'):
            late = await RawClient.connect(srv.port)
            await late.send(request)
            await late.round_trip()  # dealt with: anything forwarded is queued to the driver
        await _wait_file(log, b'name="LATER"')
        # behind every request forwarded before it on the driver's stdin
        await c.send(b"<newNumberVector device='Rec' name='N'><oneNumber name='x'>4</oneNumber>"
                     b"</newNumberVector>")
        await _wait_file(log, b"<oneNumber name='x'>4</oneNumber>")
    requests = re.findall(rb"<getProperties[^>]*>", log.read_bytes())
    assert requests, log.read_bytes()
    assert b"device" not in requests[0]
    assert any(b'name="LATER"' in r for r in requests)  # the snooping driver's request
    assert any(b'name="Z"' in r for r in requests)  # the client's version="2.0" request
    assert all(b'version="1.7"' in r and b"2.0" not in r and b"1.5" not in r for r in requests), (
        requests)
