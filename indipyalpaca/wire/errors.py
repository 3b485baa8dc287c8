"""Alpaca error numbers and the exception that carries one to the reply.

A member that fails answers HTTP 200 with an ErrorNumber and a message (the Alpaca reference,
section 2.8); the number tells the client which ASCOM exception to raise, so each has one name
here and the code never writes a bare 0x4xx.
"""

from __future__ import annotations

import enum
from collections.abc import Callable


class ErrorNumber(enum.IntEnum):
    """The ASCOM error numbers an Alpaca reply may carry (0 is success)."""

    OK = 0
    NOT_IMPLEMENTED = 0x400
    INVALID_VALUE = 0x401
    VALUE_NOT_SET = 0x402
    NOT_CONNECTED = 0x407
    INVALID_WHILE_PARKED = 0x408
    INVALID_WHILE_SLAVED = 0x409
    INVALID_OPERATION = 0x40B
    ACTION_NOT_IMPLEMENTED = 0x40C
    OPERATION_CANCELLED = 0x40E
    UNSPECIFIED = 0x4FF
    # 0x500..0xFFF are free for drivers: an INDI property that went Alert is one of ours.
    INDI_ALERT = 0x500


class _Named:
    """A named constructor of `AlpacaError` for one number, read as a class attribute:
    ``AlpacaError.invalid_value(text)`` is ``AlpacaError(ErrorNumber.INVALID_VALUE, text)``,
    the text put into `template`."""

    def __init__(self, number: ErrorNumber, template: str = "{}") -> None:
        self.number = number
        self.template = template

    def __get__(self, instance: object, owner: type[AlpacaError]) -> Callable[[str], AlpacaError]:
        return lambda text: owner(self.number, self.template.format(text))


class AlpacaError(Exception):
    """A member could not do what was asked: the reply is HTTP 200 with this number and text."""

    def __init__(self, number: int, message: str) -> None:
        if not number:
            raise ValueError("an AlpacaError needs a non-zero error number")
        if not message:
            message = f"Alpaca error 0x{number:X}"
        super().__init__(message)
        self.number = int(number)
        self.message = message

    # The named constructors, one per number the code raises most (`_Named`).
    #: The INDI device has nothing behind this member (never a made-up value instead).
    not_implemented = _Named(ErrorNumber.NOT_IMPLEMENTED, "{} is not implemented by this device")
    invalid_value = _Named(ErrorNumber.INVALID_VALUE)
    not_connected = _Named(ErrorNumber.NOT_CONNECTED, "{} is not connected")
    invalid_operation = _Named(ErrorNumber.INVALID_OPERATION)
