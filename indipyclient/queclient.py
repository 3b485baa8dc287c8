"""indipyclient 0.9.4's path of `QueClient`, `runqueclient` and `EventItem` (defined in the session,
`indipyclient.session.queclient`)."""

from .session.queclient import *
