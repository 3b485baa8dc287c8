"""A short imaging session driven by role, not by property name (indipyclient.roles).

Point the mount, focus, pick a filter, take a few frames and save them: the script a user
writes for a night with any INDI camera, mount, focuser and filter wheel, ours or indilib's.
With indilib's simulators::

    indiserver indi_simulator_ccd indi_simulator_telescope indi_simulator_focus indi_simulator_wheel
    python examples/imaging_script.py --frames 3 --exposure 1 --out images

Each step waits until its device has finished (Ok) and stops with the driver's own message
when a device reports Alert.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

import indipyclient
from indipyclient.roles import Camera
from indipyclient.roles import FilterWheel
from indipyclient.roles import Focuser
from indipyclient.roles import Interface
from indipyclient.roles import Mount
from indipyclient.roles import devices

logger = logging.getLogger("imaging_script")


async def session(args: argparse.Namespace) -> list[Path]:
    """Slew, focus, choose the filter, expose; return the saved files."""
    async with indipyclient.connect(args.host, args.port) as client:
        await client.wait_for(args.camera, "DRIVER_INFO")
        logger.info("cameras on the server: %s", devices(client, Interface.CCD))

        mount = Mount(client, args.mount)
        ra, dec = await mount.goto(args.ra, args.dec)            # waits until the slew is Ok
        logger.info("%s at RA %.4f h, Dec %.3f deg", args.mount, ra, dec)

        position = await Focuser(client, args.focuser).move_to(args.focus)
        logger.info("%s at %d steps", args.focuser, position)

        slot = await FilterWheel(client, args.wheel).select(args.filter)
        logger.info("%s on slot %d", args.wheel, slot)

        camera = Camera(client, args.camera)
        args.out.mkdir(parents=True, exist_ok=True)
        saved = []
        for number in range(1, args.frames + 1):
            image = await camera.expose(args.exposure)           # the FITS the camera sent
            path = args.out / f"frame_{number:03d}{image.format}"
            path.write_bytes(image.data)
            logger.info("%s: %d x %d, %d bytes", path, image.header.get("NAXIS1", 0),
                        image.header.get("NAXIS2", 0), len(image.data))
            saved.append(path)
        await mount.park()
        return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=7624)
    parser.add_argument("--camera", default="CCD Simulator")
    parser.add_argument("--mount", default="Telescope Simulator")
    parser.add_argument("--focuser", default="Focuser Simulator")
    parser.add_argument("--wheel", default="Filter Simulator")
    parser.add_argument("--ra", type=float, default=5.5, help="hours (default 5.5)")
    parser.add_argument("--dec", type=float, default=-5.4, help="degrees (default -5.4)")
    parser.add_argument("--focus", type=int, default=40000, help="focuser steps")
    parser.add_argument("--filter", type=int, default=2, help="filter slot, from 1")
    parser.add_argument("--exposure", type=float, default=1.0, help="seconds")
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("images"))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(session(parser.parse_args()))


if __name__ == "__main__":
    main()
