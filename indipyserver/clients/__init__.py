"""One client's connection: its socket, its queue, its writer, and a client that falls behind.

`clientconnection` (the `asyncio.Protocol`), `queue` (bounded, BLOB dropping, set coalescing),
`writer` (write(2) straight from the queue), `fallingbehind` (paused, congested, slow) and
`unixsocket` (the local socket indilib's clients use). It may import `loop`, `routing` and
`fastpath`.
"""
