"""How many bytes a reader of a client, a driver or a remote asks for at once.

Reads start small and grow while they come back full; a BLOB is read 1 MiB at a time into
buffers kept for it, which the clients' queues may hold on to. The measurements behind each
size are in bench/RESULTS.md ("Figures behind choices in the code").
"""

from __future__ import annotations

#: Bytes per large read from a driver or a remote, while it sends large amounts of small
#: elements (definitions, bursts): few loop turns for them. The grown pipe's size
#: (drivers.stdio.PIPE_SIZE); asyncio's default is 256 KiB.
READ_SIZE = 1 << 20

#: Bytes per read while a BLOB streams (`Framer.streaming`): as large as other large reads.
#: Each read is a turn of the loop, a wake-up of the driver and a write to every client (and
#: a client's read), so fewer and larger ones cost less than a read still in the CPU's cache
#: when it is written on saves (160 KiB did, before the reads went into kept buffers). The
#: driver's pipe, or socket (`drivers.stdio.grow_socket`), holds 1 MiB, so that the
#: driver writes on while a read is passed on.
BLOB_READ_SIZE = READ_SIZE

#: Bytes of read buffers kept for reuse per peer (in buffers of BLOB_READ_SIZE): a BLOB's worth
#: of pieces held for a client that has stopped reading, plus what the clients that read have
#: queued.
POOLED_READS = (32 << 20) // BLOB_READ_SIZE

#: Seconds without a lent read before a peer's pools let their free buffers go (back to small
#: reads). Not at once: a driver waiting for the pingReply to its BLOB makes the read that ends
#: each BLOB partial, and freeing a BLOB's worth of buffers there had the next BLOB allocate as
#: many again (in fresh memory) whenever a client still held the last one's pieces: about 38
#: new buffers a BLOB beside a never-reading client, most of the server's page faults.
SHRINK_AFTER = 2.0

#: A full read whose last this many bytes hold no ``<`` ends inside a large element (base64
#: has none), most likely a BLOB that began in it: lent to the framer like the reads after it
#: (`InboundProtocol.buffer_updated`): copying that first read out would cost two copies per
#: BLOB into fresh memory (``bytes`` here, then the framer's slices of it), most of the
#: server's page faults while BLOBs stream. Reads of small elements have a ``<`` every few
#: hundred bytes and keep the copy, which `Framer.feed` scans fastest.
BLOB_TAIL_PROBE = 256

#: Bytes per read while the peer sends little. ``os.read(fd, n)``/``recv(n)`` allocate n bytes
#: before reading: for n past malloc's mmap threshold (128 KiB) that is an mmap + munmap per
#: read, on every small message. So reads start small and grow to READ_SIZE only while they
#: come back full (`adapt_read_size`).
SMALL_READ_SIZE = 1 << 16


def adapt_read_size(transport: object, got: int, current: int, large: int) -> int:
    """The next read size of `transport` after a read of `got` bytes with size `current`."""
    if got >= current:
        if current < large:
            transport.max_size = large  # type: ignore[attr-defined]
            return large
    elif got < SMALL_READ_SIZE and current > SMALL_READ_SIZE:
        transport.max_size = SMALL_READ_SIZE  # type: ignore[attr-defined]
        return SMALL_READ_SIZE
    return current
