"""The Alpaca wire: the rules a server and a client of ASCOM Alpaca both keep.

Pure and standard library only (no asyncio, no sockets), so both directions -- serving INDI
devices as Alpaca (``indipyalpaca.face``) and bringing Alpaca devices into INDI
(``indipyalpaca.devices``) -- share one tested copy: error numbers (``errors``), the request
rules (``requests``), the JSON replies (``replies``), ImageBytes (``imagebytes``) and the
device types with their interface versions (``devicetypes``).
"""

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.devicetypes import device_type_from_url
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.errors import ErrorNumber
from indipyalpaca.wire.imagebytes import ImageBytes
from indipyalpaca.wire.imagebytes import ImageBytesError
from indipyalpaca.wire.imagebytes import decode
from indipyalpaca.wire.imagebytes import encode
from indipyalpaca.wire.replies import envelope
from indipyalpaca.wire.replies import reply_body
from indipyalpaca.wire.requests import BadRequest
from indipyalpaca.wire.requests import Params
from indipyalpaca.wire.requests import ServerTransactionCounter
from indipyalpaca.wire.requests import parse_bool
from indipyalpaca.wire.requests import parse_float
from indipyalpaca.wire.requests import parse_int
from indipyalpaca.wire.requests import parse_uint32

__all__ = [
    "AlpacaError", "BadRequest", "DeviceType", "ErrorNumber", "ImageBytes", "ImageBytesError",
    "Params", "ServerTransactionCounter", "decode", "device_type_from_url", "encode",
    "envelope", "parse_bool", "parse_float", "parse_int", "parse_uint32", "reply_body",
]
