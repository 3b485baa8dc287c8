"""indipydriver 3.x's module path for the events given to ``rxevent`` and ``snoopevent``
(``from indipydriver.events import newNumberVector``): every name of ``rxevents.py``, which
defines them."""

from .rxevents import *
