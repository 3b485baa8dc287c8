"""When an in-process driver's BLOBs are worth memory files (``RoutingTables.takes_attached``),
and what routing one from its start tag still does.

Only a client that takes memory files (on the Unix socket: ``shares_blobs``) and wants a BLOB
of one of the driver's devices makes the driver attach; anyone else gets base64, which the
driver makes at less cost than a memory file the server would read back to encode.
"""

from __future__ import annotations

import pytest
from serverdoubles import RecordingClient
from serverdoubles import RecordingDriver
from serverdoubles import frames
from serverdoubles import ready

from indipycore.protocol.framing import FrameHead
from indipyserver.routing.router import Router

DEF = ("<defBLOBVector device='Cam' name='IMAGE' state='Idle' perm='ro'>"
       "<defBLOB name='I'/></defBLOBVector>")


def camera() -> tuple[Router, RecordingDriver]:
    router = Router()
    driver = RecordingDriver("cam")
    ready(router, driver)
    router.driver_frames(driver, frames(DEF))
    return router, driver


def connect(router: Router, xml: str, shares_blobs: bool = True) -> RecordingClient:
    client = RecordingClient("client", shares_blobs=shares_blobs)
    router.add_client(client)
    router.client_frames(client, frames(xml))
    return client


@pytest.mark.parametrize("xml", [
    "<getProperties version='1.7'/><enableBLOB device='Cam'>Also</enableBLOB>",
    "<getProperties version='1.7'/><enableBLOB device='Cam'>Only</enableBLOB>",
    "<getProperties version='1.7' device='Cam'/><enableBLOB device='Cam' name='IMAGE'>Also"
    "</enableBLOB>",
    "<getProperties version='1.7'/><enableBLOB device='Cam'>Also</enableBLOB>"
    "<enableBLOB device='Cam' name='OTHER'>Never</enableBLOB>",
])
def test_a_unix_client_that_wants_its_blobs_makes_the_driver_attach(xml: str) -> None:
    """Also or Only, for the device or one of its properties."""
    router, driver = camera()
    connect(router, xml)
    assert router.takes_attached(driver)


@pytest.mark.parametrize(("xml", "shares"), [
    ("<getProperties version='1.7'/>", True),  # BLOBs Never, the default
    ("<getProperties version='1.7'/><enableBLOB device='Cam'>Never</enableBLOB>", True),
    ("<getProperties version='1.7'/><enableBLOB device='Cam' name='IMAGE'>Never</enableBLOB>",
     True),
    ("<getProperties version='1.7' device='Other'/><enableBLOB device='Other'>Also"
     "</enableBLOB>", True),  # not interested in the device
    ("<getProperties version='1.7'/><enableBLOB device='Other'>Also</enableBLOB>", True),
    ("<getProperties version='1.7'/><enableBLOB>Also</enableBLOB>"
     "<enableBLOB device='Cam'>Never</enableBLOB>", True),
    ("<getProperties version='1.7'/><enableBLOB device='Cam'>Also</enableBLOB>", False),  # TCP
])
def test_nobody_taking_memory_files_of_its_blobs_keeps_the_driver_inline(
    xml: str, shares: bool,
) -> None:
    router, driver = camera()
    connect(router, xml, shares_blobs=shares)
    assert not router.takes_attached(driver)


def test_a_driver_with_no_device_or_a_client_gone_attaches_nothing() -> None:
    """Before its first definition the driver owns nothing; after the client left, nobody
    takes its memory files."""
    router = Router()
    idle = RecordingDriver("idle")
    ready(router, idle)
    connect(router, "<getProperties version='1.7'/><enableBLOB>Also</enableBLOB>")
    assert not router.takes_attached(idle)
    router2, driver = camera()
    client = connect(router2, "<getProperties version='1.7'/><enableBLOB device='Cam'>Also"
                              "</enableBLOB>")
    router2.client_lost(client)
    assert not router2.takes_attached(driver)


def test_a_blob_routed_from_its_start_tag_still_has_its_message_logged() -> None:
    """A BLOB set passed on while it arrives (or attached: ``route_head``) logs its message
    in the server's message log (``-l``), as one routed whole does."""
    logged: list[tuple[str, str]] = []
    router = Router(message_log=lambda attrs, device: logged.append((device, attrs["message"])))
    driver = RecordingDriver("cam")
    ready(router, driver)
    router.driver_frames(driver, frames(DEF))
    attrs = {"device": "Cam", "name": "IMAGE", "message": "exposure done"}
    assert router.route_head(driver, FrameHead("setBLOBVector", attrs, b"")) == []
    assert logged == [("Cam", "exposure done")]
