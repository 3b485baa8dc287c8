"""attachedblobs: attached oneBLOBs inlined from real memfds; every descriptor closed."""

from __future__ import annotations

import base64
import logging
import os

import pytest

from indipydriver.protocol.framing import Frame, Framer
from indipyserver.attachedblobs import AttachedBlobs, SharedBuffers, inline_attached


def memfd(data: bytes, size: int = 1 << 20) -> int:
    """A memfd as indilib makes one: rounded up in size beyond the data."""
    fd = os.memfd_create("shm_anon", os.MFD_CLOEXEC)
    os.write(fd, data)
    os.ftruncate(fd, max(size, len(data)))
    return fd


def closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def frame(text: str) -> Frame:
    (f,) = Framer().feed(text.encode())
    assert isinstance(f, Frame)
    return f


def member(name: str, n: int, end: str = ">\n  </oneBLOB>") -> str:
    return (f"<oneBLOB\n    name='{name}'\n    size='{n}'\n    format='.fits'\n"
            f"    len='{n}'\n    attached='true'{end}")


def vector(*members: str) -> Frame:
    return frame("<setBLOBVector\n  device='CCD Simulator'\n  name='CCD1'\n  state='Ok'\n>\n  "
                 + "\n  ".join(members) + "\n</setBLOBVector>\n")


def blobs(f: Frame) -> list[tuple[dict[str, str], bytes]]:
    """Each oneBLOB of `f`: its attributes and its decoded value (asserting one line)."""
    out = []
    for item in f.data.split(b"<oneBLOB")[1:]:
        head, _, rest = item.partition(b">")
        body = rest.split(b"</oneBLOB>")[0]
        assert b"\n" not in body.strip()
        out.append((frame(f"<oneBLOB{head.decode()}/>").attrs, base64.b64decode(body)))
    return out


def test_one_member_inlined_and_fd_closed() -> None:
    payload = b"SIMPLE  = T" + os.urandom(3000)
    fd = memfd(payload)
    buffers = SharedBuffers()
    buffers.push([fd])
    f = vector(member("CCD1", len(payload)))
    out = inline_attached(f, buffers)
    assert out is not None and out is not f
    assert out.tag == "setBLOBVector" and out.attrs == f.attrs
    assert out.data.startswith(f.data[: f.data.index(b"<oneBLOB")])  # start tag unchanged
    ((attrs, value),) = blobs(out)
    assert attrs == {"name": "CCD1", "size": str(len(payload)), "format": ".fits",
                     "len": str(len(payload))}
    assert value == payload  # len bytes, not the memfd's 1 MiB
    assert b"enclen" not in out.data and b"attached" not in out.data
    assert out.data.endswith(b"</setBLOBVector>")
    assert closed(fd) and len(buffers) == 0


def test_two_members_take_fds_in_order() -> None:
    a, b = b"first" * 100, b"second" * 7
    fds = [memfd(a), memfd(b)]
    buffers = SharedBuffers()
    buffers.push(fds)
    out = inline_attached(vector(member("A", len(a)), member("B", len(b))), buffers)
    assert out is not None
    assert [(x["name"], v) for x, v in blobs(out)] == [("A", a), ("B", b)]
    assert all(closed(fd) for fd in fds)


def test_self_closing_member() -> None:
    fd = memfd(b"xyz")
    buffers = SharedBuffers()
    buffers.push([fd])
    out = inline_attached(vector(member("C", 3, end=" />")), buffers)
    assert out is not None
    assert blobs(out)[0][1] == b"xyz"
    assert closed(fd)


def test_non_attached_untouched() -> None:
    buffers = SharedBuffers()
    fd = memfd(b"spare")
    buffers.push([fd])
    inline = vector("<oneBLOB name='X' size='3' format='.b' enclen='4'>YWJj</oneBLOB>")
    assert inline_attached(inline, buffers) is inline
    other = frame("<setNumberVector device='d' name='n'/>")
    assert inline_attached(other, buffers) is other
    assert len(buffers) == 1 and not closed(fd)  # not claimed
    buffers.close_all()
    assert closed(fd)


def test_mixed_members_only_attached_converted() -> None:
    fd = memfd(b"data")
    buffers = SharedBuffers()
    buffers.push([fd])
    out = inline_attached(
        vector("<oneBLOB name='X' size='3' format='.b'>YWJj</oneBLOB>", member("Y", 4)), buffers
    )
    assert out is not None
    assert [v for _, v in blobs(out)] == [b"abc", b"data"]
    assert closed(fd)


def test_missing_fd_drops_element(caplog: pytest.LogCaptureFixture) -> None:
    fd = memfd(b"one")
    buffers = SharedBuffers()
    buffers.push([fd])  # one descriptor for two members
    before = len(os.listdir("/proc/self/fd"))
    with caplog.at_level(logging.ERROR):
        assert inline_attached(vector(member("A", 3), member("B", 3)), buffers) is None
    assert "missing shared buffer" in caplog.text
    assert closed(fd)
    assert len(os.listdir("/proc/self/fd")) == before - 1


@pytest.mark.parametrize(
    "attrs",
    ["name='A' size='5' attached='true'", "name='A' len='x' size='5' attached='true'",
     "name='A' len='5' attached='true'", "name='A' len='5000000' size='5' attached='true'"],
)
def test_bad_len_or_size_drops_element(attrs: str, caplog: pytest.LogCaptureFixture) -> None:
    fd = memfd(b"12345")  # 1 MiB memfd: len 5000000 is beyond it
    buffers = SharedBuffers()
    buffers.push([fd])
    with caplog.at_level(logging.ERROR):
        assert inline_attached(vector(f"<oneBLOB {attrs}></oneBLOB>"), buffers) is None
    assert "dropped" in caplog.text
    assert closed(fd)


def test_attached_member_with_body_dropped() -> None:
    fd = memfd(b"abc")
    buffers = SharedBuffers()
    buffers.push([fd])
    text = "<oneBLOB name='A' size='3' len='3' attached='true'>YWJj</oneBLOB>"
    assert inline_attached(vector(text), buffers) is None
    assert closed(fd)


def test_wrapper_keeps_order_and_identity() -> None:
    fd = memfd(b"img")
    buffers = SharedBuffers()
    buffers.push([fd])
    got: list[list[Frame]] = []
    wrap = AttachedBlobs(got.append, buffers, "drv")
    ping = frame("<pingRequest uid='SetBLOB/1' />")
    blob = vector(member("CCD1", 3))
    wrap([blob, ping])
    ((first, second),) = got
    assert first.tag == "setBLOBVector" and blobs(first)[0][1] == b"img"
    assert second is ping
    plain = [frame("<message device='d' message='hi'/>")]
    wrap(plain)
    assert got[1] is plain
    wrap([vector(member("CCD1", 3))])  # no fd: dropped, nothing routed
    assert len(got) == 2
