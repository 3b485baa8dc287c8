"""indipydriver 3.x's module path for the members (``from indipydriver.propertymembers import
NumberMember``): every name of ``members.py``, which defines them."""

from .members import *
