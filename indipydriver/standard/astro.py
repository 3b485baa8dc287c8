"""The astronomy of the standard roles, at its 3.x-era import path: the one copy lives in
`indipycore.astro` (the Alpaca face needs it too); these are its names, the same objects."""

from indipycore import astro as _core
from indipycore.astro import *

__all__ = _core.__all__
