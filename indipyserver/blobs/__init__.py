"""Large BLOBs on their way from a driver to the clients.

Passed on while they arrive (`cutthrough`), a C driver's BLOBs attached as shared memory
(`attached`, `sharedbuffers`) and a BLOB whose sender stalled (`stalled`); the read buffers
reused once no queued piece refers to them are the driver package's (``indipydriver.readbuffers``,
shared with the client). It may import `loop`, `routing` and `clients`.
"""
