"""Large BLOBs on their way from a driver to the clients.

Passed on while they arrive (`cutthrough`), a C driver's BLOBs attached as shared memory
(`attached`, `sharedbuffers`), read buffers reused once no queued piece refers to them
(`readbuffers`) and a BLOB whose sender stalled (`stalled`). It may import `loop`, `routing`
and `clients`.
"""
