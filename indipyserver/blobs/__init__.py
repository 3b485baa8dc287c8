"""Large BLOBs on their way from a driver to the clients.

Passed on while they arrive (`cutthrough`), a driver's BLOBs attached as shared memory (a C
or Python executable's, an in-process driver's: `attached`, `sharedbuffers`) and a BLOB whose sender stalled (`stalled`); the read buffers
reused once no queued piece refers to them are the driver package's (``indipycore.readbuffers``,
shared with the client). It may import `loop`, `routing` and `clients`.
"""
