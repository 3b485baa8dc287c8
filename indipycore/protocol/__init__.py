"""The pure INDI 1.7 protocol core: bytes <-> events, no asyncio and no sockets."""

from indipycore.protocol import events

from .enums import BLOBEnable
from .enums import Perm
from .enums import Rule
from .enums import State
from .enums import SwitchState
from .errors import LocalProtocolError
from .errors import ProtocolError
from .events import *
from .framing import Frame
from .framing import Framer
from .parser import parse_element
from .serialiser import serialise

__all__ = [
    "BLOBEnable",
    "Frame",
    "Framer",
    "LocalProtocolError",
    "Perm",
    "ProtocolError",
    "Rule",
    "State",
    "SwitchState",
    "parse_element",
    "serialise",
]
__all__ += events.__all__  # the events, each of which events.py lists once
