"""indipydriver 3.x's module path for the members (``from indipydriver.propertymembers import
NumberMember``); they are defined in ``members.py``."""

from .members import (
    BLOBMember,
    LightMember,
    NumberMember,
    PropertyMember,
    SwitchMember,
    TextMember,
    getfloat,
)

__all__ = ["BLOBMember", "LightMember", "NumberMember", "PropertyMember", "SwitchMember",
           "TextMember", "getfloat"]
