"""indipyconform: ``indipy-conform``, a conformance checker for any INDI device (as ConformU is
for Alpaca) and, with ``--alpaca``, for any ASCOM Alpaca server.

A package of its own, above both the client library (its INDI half drives devices through
``indipyclient``) and the Alpaca wire (its Alpaca half reads replies with ``indipyalpaca.wire``),
so that neither of those imports the other. ``expected`` is the table of indilib's standard
properties per role, ``shape`` the pure checks of a device's vectors against it, ``lifecycle``
the CONNECT/DISCONNECT steps, ``livechecks`` the ``--live`` drive of each role; ``alpacawire``,
``alpacachecker``, ``alpacadevices`` and ``alpacachecks`` the Alpaca checks; ``report`` the
lines and JSON, ``cli`` the command.
"""
