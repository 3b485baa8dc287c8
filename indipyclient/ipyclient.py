"""indipyclient 0.9.4's path of `IPyClient` (defined in the session, `indipyclient.session.ipyclient`)."""

from .session.ipyclient import *
