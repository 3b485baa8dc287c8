"""indilib's standard properties for Python drivers: roles a `Device` composes.

``Device(name, roles=[camera])`` gives a device CONNECTION, DRIVER_INFO (with the roles'
DRIVER_INTERFACE bits) and DEBUG, defines the roles' vectors while a client has it connected,
and sends its `logger`'s records to clients as INDI messages. The pieces:

- `Interface` (interface.py): the DRIVER_INTERFACE bits; the group names (groups.py);
- `Role`, `RoleTasks`, `Operation`, `RepeatedRead` (role.py): what a role is and the machinery it runs on;
- `DeviceProps` (deviceprops.py): CONNECTION, DRIVER_INFO, DEBUG and the connect sequence;
- `MessageHandler` (messages.py): Python logging -> INDI messages;
- `Camera` (camera.py, the CCD role) and `fits.py`, the FITS writer it uses;
- `Mount` (mount.py), `Focuser` (focuser.py), `FilterWheel` (filterwheel.py), `Weather`
  (weather.py): the other roles, each driving the user's hardware `Protocol`;
- `EquatorialMotion`, `LinearMotion` (motion.py) and astro.py: pure motion for simulators.

Each name is imported from its module at first use (PEP 562).
"""

from __future__ import annotations

from .. import lazy_names

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .camera import Camera, Exposure, Image, Sensor
    from .deviceprops import DeviceProps
    from .filterwheel import FilterWheel, FilterWheelHardware
    from .focuser import Focuser, FocuserHardware
    from .interface import Interface
    from .messages import MessageHandler
    from .motion import EquatorialMotion, LinearMotion
    from .mount import Mount, MountHardware, MountLimits, SlewRate
    from .role import Operation, RepeatedRead, Role, RoleDevice, RoleTasks
    from .weather import Weather, WeatherHardware, WeatherParameter

_LAZY = {
    "Camera": "camera",
    "DeviceProps": "deviceprops",
    "EquatorialMotion": "motion",
    "Exposure": "camera",
    "FilterWheel": "filterwheel",
    "FilterWheelHardware": "filterwheel",
    "Focuser": "focuser",
    "FocuserHardware": "focuser",
    "Image": "camera",
    "Interface": "interface",
    "LinearMotion": "motion",
    "MessageHandler": "messages",
    "Mount": "mount",
    "MountHardware": "mount",
    "MountLimits": "mount",
    "Operation": "role",
    "RepeatedRead": "role",
    "Role": "role",
    "RoleDevice": "role",
    "RoleTasks": "role",
    "Sensor": "camera",
    "SlewRate": "mount",
    "Weather": "weather",
    "WeatherHardware": "weather",
    "WeatherParameter": "weather",
}

__all__ = [
    "Camera",
    "DeviceProps",
    "EquatorialMotion",
    "Exposure",
    "FilterWheel",
    "FilterWheelHardware",
    "Focuser",
    "FocuserHardware",
    "Image",
    "Interface",
    "LinearMotion",
    "MessageHandler",
    "Mount",
    "MountHardware",
    "MountLimits",
    "Operation",
    "RepeatedRead",
    "Role",
    "RoleDevice",
    "RoleTasks",
    "Sensor",
    "SlewRate",
    "Weather",
    "WeatherHardware",
    "WeatherParameter",
]

__getattr__, __dir__ = lazy_names(__name__, _LAZY)
