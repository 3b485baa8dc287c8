"""The README's camera snippet ("A camera Ekos can capture with") works as it says: taken from
README.md itself, its device is a camera (DRIVER_INTERFACE 2) that, once connected, returns a
FITS of the binned frame for an exposure."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from indipycore.fits import read_header
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import NewSwitchVector
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetBLOBVector
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.events import Switch
from indipydriver.testing import DriverHarness

README = Path(__file__).resolve().parents[2] / "README.md"


def _snippet() -> str:
    section = README.read_text().split("## A camera Ekos can capture with", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README has no python block under 'A camera Ekos can capture with'"
    return match.group(1)


async def test_readme_camera_exposes_a_fits_of_the_binned_frame() -> None:
    source = _snippet()
    assert "asyncio.run(driver.asyncrun())" in source
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(source.replace("asyncio.run(driver.asyncrun())", "pass"), str(README), "exec"),  # noqa: S102 - the README's own code
         namespace)
    driver = namespace["driver"]
    async with DriverHarness(driver) as client:
        defs = {d.name: d for d in await client.get_properties()}
        assert defs["DRIVER_INFO"]["DRIVER_INTERFACE"].value == "2"
        await client.send(NewSwitchVector("My Camera", "CONNECTION",
                                          (Switch("CONNECT", SwitchState.ON),)))
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)
        await client.send(NewNumberVector("My Camera", "CCD_BINNING", (
            Number("HOR_BIN", "2"), Number("VER_BIN", "2"))))
        await client.send(NewNumberVector("My Camera", "CCD_EXPOSURE",
                                          (Number("CCD_EXPOSURE_VALUE", "0.01"),)))
        blob = await client.expect(SetBLOBVector, name="CCD1")
    header = read_header(blob["CCD1"].data)
    assert (header["NAXIS1"], header["NAXIS2"], header["BITPIX"]) == (640, 512, 16)
