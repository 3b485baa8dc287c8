"""Who receives what: the router and everything it decides with. No I/O.

The router and its tables, what one client asked for (`interests`), the latest def and set
per property (`propertycache`), commands a driver may not have read yet (`pendingcommands`),
the BLOB modes told to remotes (`remoteblobs`), whether an element may be passed on
(`admission`), what is said when something is dropped (`dropnotices`), the elements the
server writes itself (`serverelements`) and video stream BLOBs (`streamblobs`).

It talks to connections only through the protocols in `ports`, and imports nothing else of
the server: no asyncio, no sockets, no clients, drivers or shortcut.
"""
