"""Consuming Alpaca: an Alpaca server's devices as INDI devices with indilib's standard
properties (the driver side of the ``[alpaca]`` extra, on httpx).

- spec.py: ``alpaca://HOST:PORT[/type/n,...]`` parsed (standard library only);
- client.py: `AlpacaClient`, the device API over HTTP, Alpaca errors as exceptions (the
  error numbers and the ImageBytes decoder are `indipyalpaca.wire`'s);
- part.py: `AlpacaPart`, one Alpaca device and its INDI `Device`;
- focuser.py, filterwheel.py, telescope.py, camera.py, weather.py, dome.py, rotator.py,
  safetymonitor.py: each type on its role;
- driver.py: `make_driver`, `AlpacaDriver` (the devices, the watch on the server) and
  `AlpacaPeer` (what `IPyServer.add_alpaca` serves).

Each name is imported from its module at first use (PEP 562), so importing the package
needs no httpx.
"""

from __future__ import annotations

from indipycore.lazynames import lazy_package

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .client import AlpacaClient as AlpacaClient
    from .client import AlpacaError as AlpacaError
    from .client import AlpacaProtocolError as AlpacaProtocolError
    from .client import AlpacaUnreachable as AlpacaUnreachable
    from .driver import AlpacaDriver as AlpacaDriver
    from .driver import AlpacaPeer as AlpacaPeer
    from .driver import make_driver as make_driver
    from .spec import AlpacaSpec as AlpacaSpec
    from .spec import parse_alpaca_url as parse_alpaca_url

_LAZY = {
    "AlpacaClient": "client",
    "AlpacaDriver": "driver",
    "AlpacaError": "client",
    "AlpacaPeer": "driver",
    "AlpacaProtocolError": "client",
    "AlpacaSpec": "spec",
    "AlpacaUnreachable": "client",
    "make_driver": "driver",
    "parse_alpaca_url": "spec",
}

__all__, __getattr__, __dir__ = lazy_package(__name__, _LAZY)
