"""``indipy-conform``: a conformance checker for any INDI device, as ConformU is for Alpaca.

``expected`` is the table of indilib's standard properties per role, ``shape`` the pure checks
of a device's vectors against it, ``lifecycle`` the CONNECT/DISCONNECT steps, ``livechecks``
the ``--live`` drive of each role, ``report`` the lines and JSON, ``cli`` the command.
"""
