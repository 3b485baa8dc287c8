"""`open_rig`: the instruments a plan names, each device connected (CONNECTION.CONNECT, as
indilib's agent does when it is connected itself), built on one indipyclient connection.

The camera, the wheel and the dome are built here (and the read-only view of the domes a
watchdog guards, `IndiGuardedDomes`, and when a lost device is back, `IndiPresence`, which
every rig carries); the focuser, the mount and the
guider are built by the factories given (`IndiFocuser`, `IndiMount` of this folder once they exist), so this module does not
depend on them. `connect_device` lives in ``indiset.py`` (the instruments connect again a
device whose driver was restarted) and is named here too; they call it through
`keeper.use_device`, which leaves alone a device a client disconnected while the night runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from indipyclient import Client

from ..plan.model import Devices
from .camera import IndiCamera
from .dome import IndiDome
from .dome import IndiGuardedDomes
from .indiset import CONNECT_WAIT
from .indiset import connect_device
from .keeper import forget
from .keeper import use_device
from .panel import IndiPanel
from .presence import IndiPresence
from .protocols import DeviceLost
from .protocols import Focuser
from .protocols import Guider
from .protocols import Mount
from .protocols import Rig
from .protocols import RigError
from .wheel import IndiWheel

__all__ = ["CONNECT_WAIT", "LATER_WAIT", "connect_device", "open_rig"]

#: Seconds a device is waited for once another of the rig was waited for in vain.
LATER_WAIT = 1.0

FocuserFactory = Callable[[Client, str], Focuser]
MountFactory = Callable[[Client, str], Mount]
GuiderFactory = Callable[[Client, str], Guider]


async def open_rig(client: Client, devices: Devices, *,
                   focuser: FocuserFactory | None = None,
                   mount: MountFactory | None = None,
                   guider: GuiderFactory | None = None,
                   local: str | os.PathLike[str] | None = None) -> Rig:
    """The `Rig` of `devices`: each named device connected, the camera prepared (its BLOBs
    asked for, UPLOAD_MODE Client; or Local into the folder `local` of this machine, see
    `IndiCamera`), the wheel's FILTER_SLOT known, the dome's DOME_PARK or DOME_SHUTTER
    (`DeviceRefused` when it has neither: it is no dome). A focuser or mount named
    without its factory is refused (ValueError), not silently left out."""
    if not devices.camera:
        raise ValueError("a rig needs a camera")
    for kind, name, factory in (("focuser", devices.focuser, focuser),
                                ("mount", devices.mount, mount),
                                ("guider", devices.guider, guider)):
        if name and factory is None:
            raise ValueError(f"the plan names the {kind} {name!r}, but no {kind} factory "
                             "was given to open_rig")
    names = [name for name in (devices.camera, devices.wheel, devices.focuser,
                               devices.mount, devices.dome, devices.guider, devices.panel)
             if name]
    forget(client, names)  # a start connects them, whatever a client did before
    await _connect_all(client, names)
    guarded = IndiGuardedDomes(client)
    camera = IndiCamera(client, devices.camera, local=local, sky=guarded)
    await camera.prepare()
    wheel = None
    if devices.wheel:
        wheel = IndiWheel(client, devices.wheel)
        await wheel.prepare()
    panel = None
    if devices.panel:
        panel = IndiPanel(client, devices.panel)
        await panel.prepare()
    dome = None
    if devices.dome:
        dome = IndiDome(client, devices.dome)
        await dome.ready()
    return Rig(camera=camera, wheel=wheel,
               focuser=focuser(client, devices.focuser) if focuser and devices.focuser else None,
               mount=mount(client, devices.mount) if mount and devices.mount else None,
               dome=dome, guarded=guarded,
               guider=guider(client, devices.guider) if guider and devices.guider else None,
               presence=IndiPresence(client), panel=panel)


async def _connect_all(client: Client, names: list[str]) -> None:
    """Each of `names` connected in turn; one that fails does not stop the others being
    tried, and the error names every one that failed (a plan with two devices misnamed is
    said whole, not one START at a time), as the first's kind (`DeviceLost` is waited for
    by a resume). Once one was waited for in vain, the others had that wait too: each is
    then given `LATER_WAIT` to appear."""
    failed: list[RigError] = []
    for name in names:
        try:
            if any(isinstance(error, DeviceLost) for error in failed):
                await use_device(client, name, appear=LATER_WAIT)
            else:
                await use_device(client, name)
        except RigError as exc:
            failed.append(exc)
    if not failed:
        return
    first = failed[0]
    if len(failed) == 1:
        raise first
    reason = "; ".join([first.reason, *(str(error) for error in failed[1:])])
    raise type(first)(first.device, reason)
