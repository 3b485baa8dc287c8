"""A Python driver snooping the CCD simulator's images under indilib's own `indiserver` 1.9.9,
which passes a snooped BLOB to a driver as a memfd on its socketpair (indilib issue #1822) and
under `indipyserver`, which sends it inline: the driver gets the same image bytes either way.

The snooper asks with `send_getProperties` and `send_enableBLOB("Also", ...)` and publishes the
size, format and first bytes of each image it receives; the test reads them with indi_getprop."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import IndiServer
from peers import OurServer
from peers import getprop
from peers import setprop
from waiting import wait_for

CCD = "CCD Simulator"
REPO = Path(__file__).resolve().parents[2]

SNOOPER = textwrap.dedent(f"""\
    #!{sys.executable}
    import asyncio, sys
    sys.path.insert(0, {str(REPO)!r})
    import indipydriver as ipd

    class Snooper(ipd.IPyDriver):
        async def hardware(self):
            await self.send_getProperties({CCD!r}, "CCD1")
            await self.send_enableBLOB("Also", {CCD!r}, "CCD1")
            seen = self["Snooper"]["SEEN"]
            seen["HEAD"] = "asked"  # after the requests on stdout: the test waits for it
            await seen.send_setVector()

        async def snoopevent(self, event):
            if isinstance(event, ipd.setBLOBVector) and "CCD1" in event:
                seen = self["Snooper"]["SEEN"]
                data = event["CCD1"]
                seen["SIZE"] = str(len(data))
                seen["FORMAT"] = event.sizeformat["CCD1"][1]
                seen["HEAD"] = data[:9].decode("ascii", "replace")
                await seen.send_setVector(state="Ok")

    seen = ipd.TextVector("SEEN", "Seen", "Main", "ro", "Idle", [
        ipd.TextMember("SIZE", membervalue="0"), ipd.TextMember("FORMAT", membervalue=""),
        ipd.TextMember("HEAD", membervalue="")])
    asyncio.run(Snooper(ipd.Device("Snooper", [seen])).asyncrun())
    """)


@pytest.mark.parametrize("kind", ["indiserver", "ours"])
def test_a_python_driver_snoops_the_ccd_simulators_images(
    kind: str, tmp_path: Path, indiserver_factory: Callable[..., IndiServer],
    our_server: Callable[..., OurServer],
) -> None:
    script = tmp_path / "indi_py_snooper"
    script.write_text(SNOOPER)
    script.chmod(0o755)
    if kind == "indiserver":
        port = indiserver_factory("indi_simulator_ccd", str(script)).port
    else:
        port = our_server("indi_simulator_ccd", str(script)).port
    # the server has dealt with the snooper's getProperties and enableBLOB, sent before this
    wait_for(lambda: getprop(port, "Snooper.SEEN.HEAD", timeout=10).get("Snooper.SEEN.HEAD")
             == "asked", what="the snooper's requests")
    sent = setprop(port, f"{CCD}.CONNECTION.CONNECT=On", timeout=5)
    assert sent.returncode == 0, sent.describe()
    exposure = f"{CCD}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE"
    wait_for(lambda: getprop(port, exposure, timeout=5).returncode == 0,
             what="the exposure vector, defined once connected")
    sent = setprop(port, f"{exposure}=0.1", timeout=5)
    assert sent.returncode == 0, sent.describe()
    seen = getprop(port, "Snooper.SEEN.*")

    def saw_image() -> bool:
        nonlocal seen
        seen = getprop(port, "Snooper.SEEN.*")
        return seen.get("Snooper.SEEN.SIZE", "0") != "0"

    wait_for(saw_image, timeout=20, what=lambda: f"the snooper to see an image: {dict(seen)}")
    assert int(seen["Snooper.SEEN.SIZE"]) > 1_000_000, dict(seen)  # a whole FITS image
    assert seen["Snooper.SEEN.FORMAT"] == ".fits"
    assert seen["Snooper.SEEN.HEAD"] == "SIMPLE  ="
