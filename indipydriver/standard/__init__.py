"""indilib's standard properties for Python drivers: roles a `Device` composes.

``Device(name, roles=[camera])`` gives a device CONNECTION, DRIVER_INFO (with the roles'
DRIVER_INTERFACE bits) and DEBUG, defines the roles' vectors while a client has it connected,
and sends its `logger`'s records to clients as INDI messages. The pieces:

- `Interface` (interface.py): the DRIVER_INTERFACE bits; the group names (groups.py);
- `Role`, `RoleTasks`, `Operation` (role.py): what a role is and the machinery it runs on;
- `DeviceProps` (deviceprops.py): CONNECTION, DRIVER_INFO, DEBUG and the connect sequence;
- `MessageHandler` (messages.py): Python logging -> INDI messages;
- `Camera` (camera.py, the CCD role) and `fits.py`, the FITS writer it uses.

Each name is imported from its module at first use (PEP 562).
"""

from __future__ import annotations

from .. import lazy_names

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .camera import Camera, Exposure, Image, Sensor
    from .deviceprops import DeviceProps
    from .interface import Interface
    from .messages import MessageHandler
    from .role import Operation, Role, RoleDevice, RoleTasks

_LAZY = {
    "Camera": "camera",
    "Exposure": "camera",
    "Image": "camera",
    "Sensor": "camera",
    "DeviceProps": "deviceprops",
    "Interface": "interface",
    "MessageHandler": "messages",
    "Operation": "role",
    "Role": "role",
    "RoleDevice": "role",
    "RoleTasks": "role",
}

__all__ = [
    "Camera",
    "DeviceProps",
    "Exposure",
    "Image",
    "Interface",
    "MessageHandler",
    "Operation",
    "Role",
    "RoleDevice",
    "RoleTasks",
    "Sensor",
]

__getattr__, __dir__ = lazy_names(__name__, _LAZY)
