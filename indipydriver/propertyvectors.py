"""indipydriver 3.x's module path for the vectors (``from indipydriver.propertyvectors import
NumberVector``); they are defined in ``vectors.py`` and ``propertyvector.py``."""

from .vectors import (
    BLOBVector,
    LightVector,
    NumberVector,
    PropertyVector,
    SwitchVector,
    TextVector,
)

__all__ = ["BLOBVector", "LightVector", "NumberVector", "PropertyVector", "SwitchVector",
           "TextVector"]
