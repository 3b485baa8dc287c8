"""indilib's standard properties for Python drivers: roles a `Device` composes.

``Device(name, roles=[camera])`` gives a device CONNECTION, DRIVER_INFO (with the roles'
DRIVER_INTERFACE bits) and DEBUG, defines the roles' vectors while a client has it connected,
and sends its `logger`'s records to clients as INDI messages. The pieces:

- `Interface` (interface.py): the DRIVER_INTERFACE bits; the group names (groups.py);
- `Role`, `RoleTasks`, `Operation`, `RepeatedRead`, `PollingRole` (role.py): what a role is and the machinery it runs on;
- `DeviceProps` (deviceprops.py): CONNECTION, DRIVER_INFO, DEBUG and the connect sequence;
- `SavedConfig` (config.py): CONFIG_PROCESS and POLLING_PERIOD, the saved configuration;
- `MessageHandler` (messages.py): Python logging -> INDI messages;
- `Camera` (camera.py, the CCD role) and `fits.py`, the FITS writer it uses; snooped.py
  (its ACTIVE_DEVICES and what they said) and fitsheader.py (the header cards from them);
- `Mount` (mount.py), `Focuser` (focuser.py), `FilterWheel` (filterwheel.py), `Weather`
  (weather.py), `Dome` (dome.py), `Rotator` (rotator.py): the other roles, each driving the
  user's hardware `Protocol` (the dome and the rotator share positioner.py); `TimedGuide`
  (guide.py), timed guide pulses (the GUIDER bit) on a hook, the mount's and Alpaca devices';
- `EquatorialMotion`, `LinearMotion` (motion.py): pure motion for simulators; astro.py holds
  `indipycore.astro`'s names (sidereal time, alt/az, precession) at their 3.x-era path.

Each name is imported from its module at first use (PEP 562).
"""

from __future__ import annotations

from indipycore.lazynames import lazy_package

TYPE_CHECKING = False
if TYPE_CHECKING:
    from indipycore.interface import Interface as Interface

    from .camera import Camera as Camera
    from .camera import Exposure as Exposure
    from .camera import Image as Image
    from .camera import Sensor as Sensor
    from .config import SavedConfig as SavedConfig
    from .deviceprops import DeviceProps as DeviceProps
    from .dome import Dome as Dome
    from .dome import DomeHardware as DomeHardware
    from .filterwheel import FilterWheel as FilterWheel
    from .filterwheel import FilterWheelHardware as FilterWheelHardware
    from .focuser import Focuser as Focuser
    from .focuser import FocuserHardware as FocuserHardware
    from .guide import TimedGuide as TimedGuide
    from .messages import MessageHandler as MessageHandler
    from .motion import EquatorialMotion as EquatorialMotion
    from .motion import LinearMotion as LinearMotion
    from .mount import Mount as Mount
    from .mount import MountGuider as MountGuider
    from .mount import MountHardware as MountHardware
    from .mount import MountLimits as MountLimits
    from .mount import SlewRate as SlewRate
    from .role import Operation as Operation
    from .role import PollingRole as PollingRole
    from .role import RepeatedRead as RepeatedRead
    from .role import Role as Role
    from .role import RoleDevice as RoleDevice
    from .role import RoleTasks as RoleTasks
    from .role import Stoppable as Stoppable
    from .rotator import Rotator as Rotator
    from .rotator import RotatorHardware as RotatorHardware
    from .weather import Weather as Weather
    from .weather import WeatherHardware as WeatherHardware
    from .weather import WeatherParameter as WeatherParameter

_LAZY = {
    "Camera": "camera",
    "DeviceProps": "deviceprops",
    "Dome": "dome",
    "DomeHardware": "dome",
    "EquatorialMotion": "motion",
    "Exposure": "camera",
    "FilterWheel": "filterwheel",
    "FilterWheelHardware": "filterwheel",
    "Focuser": "focuser",
    "FocuserHardware": "focuser",
    "Image": "camera",
    "Interface": "indipycore.interface",
    "LinearMotion": "motion",
    "MessageHandler": "messages",
    "Mount": "mount",
    "MountGuider": "mount",
    "MountHardware": "mount",
    "MountLimits": "mount",
    "Operation": "role",
    "PollingRole": "role",
    "SavedConfig": "config",
    "RepeatedRead": "role",
    "Role": "role",
    "RoleDevice": "role",
    "RoleTasks": "role",
    "Stoppable": "role",
    "Rotator": "rotator",
    "RotatorHardware": "rotator",
    "Sensor": "camera",
    "SlewRate": "mount",
    "TimedGuide": "guide",
    "Weather": "weather",
    "WeatherHardware": "weather",
    "WeatherParameter": "weather",
}

# __all__ is the table's names (the imports under TYPE_CHECKING re-export them for mypy).
__all__, __getattr__, __dir__ = lazy_package(__name__, _LAZY)
