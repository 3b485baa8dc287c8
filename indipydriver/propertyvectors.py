"""indipydriver 3.x's module path for the vectors (``from indipydriver.propertyvectors import
NumberVector``): every name of ``vectors.py``, which defines them (``PropertyVector`` re-exported
from ``propertyvector.py``)."""

from .vectors import *
