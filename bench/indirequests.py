"""What the benchmarks' clients send, written by the protocol's serialiser (issue 41 item 6).

Each element is on one line, the newline after it included (`one_line`), as the harnesses have
always sent them: byte for byte the requests they spelt by hand before, so that no figure moves.
Only `serialise` and the events are used, which every checkout with the protocol core has: a
bench that measures another checkout (``--ours-root``) builds its input with that checkout's
library. The importer puts the library on ``sys.path``.
"""

from __future__ import annotations

from indipycore.protocol import BLOB
from indipycore.protocol import BLOBEnable
from indipycore.protocol import EnableBLOB
from indipycore.protocol import Event
from indipycore.protocol import GetProperties
from indipycore.protocol import NewBLOBVector
from indipycore.protocol import NewNumberVector
from indipycore.protocol import NewSwitchVector
from indipycore.protocol import NewTextVector
from indipycore.protocol import Number
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import Text
from indipycore.protocol import serialise


def one_line(event: Event) -> bytes:
    """`event` as the serialiser writes it, its lines joined: one line and its newline."""
    return serialise(event).replace(b">\n<", b"><")


def control(command: str, device: str = "Bench") -> bytes:
    """A command for the traffic driver (its BENCH_CONTROL text vector)."""
    return one_line(NewTextVector(device, "BENCH_CONTROL", (Text("cmd", command),)))


def new_number(device: str, vector: str, member: str, value: object) -> bytes:
    """A newNumberVector setting one member to `value` (written by str())."""
    return one_line(NewNumberVector(device, vector, (Number(member, str(value)),)))


def switch_on(device: str, vector: str, member: str) -> bytes:
    """A newSwitchVector turning `member` On."""
    return one_line(NewSwitchVector(device, vector, (Switch(member, SwitchState.ON),)))


def get_properties(device: str | None = None, name: str | None = None) -> bytes:
    """A client's getProperties (INDI 1.7), for everything or one device or property."""
    return one_line(GetProperties("1.7", device, name))


def enable_blob(device: str, mode: str) -> bytes:
    """An enableBLOB for a whole device."""
    return one_line(EnableBLOB(device, BLOBEnable(mode)))


def blob_around(vector: type[NewBLOBVector | SetBLOBVector], device: str, name: str,
                member: str, size: int, fmt: str) -> tuple[bytes, bytes]:
    """A `vector` (newBLOBVector, setBLOBVector) of one BLOB member of `size` bytes, cut where
    the member's base64 goes: what comes before it and what comes after it, for base64 laid out
    as a client or a C driver lays it out (the serialiser writes one line, or lines of 72
    columns with ``enclen``)."""
    event = vector(device, name, (BLOB(member, b"", size, fmt),))
    before, after = one_line(event).split(b"</oneBLOB>")
    return before, b"</oneBLOB>" + after
