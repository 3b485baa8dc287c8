"""The pure INDI 1.7 protocol core: bytes <-> events, no asyncio and no sockets."""

from . import events
from .enums import BLOBEnable, Perm, Rule, State, SwitchState
from .errors import LocalProtocolError, ProtocolError
from .events import *
from .framing import Frame, Framer
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
