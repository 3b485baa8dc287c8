"""Property vectors (indipydriver 3.x names and signatures) and how they are sent.

The six kinds are here; what they share is `propertyvector.PropertyVector` (re-exported).
A vector is a mapping of member name -> member value. Its `send_*` methods write the
element once to bytes and hand them to the driver. Things 3.x got wrong and this fixes:
a `message` goes with the one send it is given to (never repeated later), a BLOB's size applies
to one send only, and `send_setVectorMembers(members=[])` sends a valid empty (state-only) set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import Rule
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import BLOB
from indipycore.protocol.events import SetBLOBVector
from indipycore.protocol.serialiser import attribute
from indipycore.sharedblobs import attachable
from indipycore.sharedblobs import close_all
from indipycore.sharedblobs import memory_files

from .members import BLOBMember
from .members import LightMember
from .members import NumberMember
from .members import PropertyMember
from .members import SwitchMember
from .members import TextMember
from .ports import DriverPort
from .propertyvector import PropertyVector
from .propertyvector import _one_of
from .wire import timestamp_text
from .wire import write_attached
from .wire import write_element

# Payloads above this are base64-encoded in a worker thread so the event loop keeps answering.
_THREAD_ENCODE_SIZE = 1 << 20

__all__ = [
    "BLOBVector",
    "LightVector",
    "NumberVector",
    "PropertyVector",
    "SwitchVector",
    "TextVector",
]

logger = logging.getLogger(__name__)


class _PermVector(PropertyVector):
    """Vectors a client may write to (all but lights)."""

    def __init__(self, name: str, label: str | None, group: str | None, perm: str, state: str,
                 members: Iterable[PropertyMember]) -> None:
        self.name = name  # named in the error if perm is invalid
        self.perm = perm
        super().__init__(name, label, group, state, members)

    @property
    def perm(self) -> str:
        return self._perm_text

    @perm.setter
    def perm(self, value: str) -> None:
        perm = _one_of(self.name, "perm", value, Perm)
        self._perm_text = perm.value  # read back as declared
        self._perm = self._sent_perm(perm)

    def _sent_perm(self, perm: Perm) -> Perm:
        """The perm sent and enforced for the declared one (the same but for switches)."""
        return perm


class SwitchVector(_PermVector):
    """Switches with a rule; assigning 'On' in a OneOfMany or AtMostOne vector turns the others
    Off, so the vector always keeps its rule."""

    kind = "Switch"
    member_class = SwitchMember

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        perm: str,
        rule: str,
        state: str,
        switchmembers: Iterable[SwitchMember],
    ) -> None:
        self.name = name  # named in the error if rule is invalid
        self.rule = rule
        super().__init__(name, label, group, perm, state, switchmembers)
        # What 3.x accepted is put right, so that such drivers still run.
        on = [m for m in self._switches() if m._value is SwitchState.ON]
        if len(on) > 1 and self._rule is not Rule.ANY_OF_MANY:
            logger.warning("SwitchVector %r: %s allows one switch On, not %s: %r kept On",
                           name, self._rule.value, ", ".join(repr(m.name) for m in on),
                           on[0].name)
            for member in on[1:]:
                member.membervalue = "Off"
        if not on and self._rule is Rule.ONE_OF_MANY:
            logger.warning("SwitchVector %r: OneOfMany with no switch On; clients expect "
                           "exactly one", name)

    def _sent_perm(self, perm: Perm) -> Perm:
        if perm is Perm.WO:
            # SPEC p.3 allows switches ro or rw only; 3.x's documentation declares its LED
            # switch 'wo'. It reads back as declared and is sent, and accepted, as 'rw'
            # (logged at info: such a driver is right by the 3.x documentation).
            logger.info("SwitchVector %r: perm 'wo' is sent as 'rw' (SPEC p.3: switches are "
                        "ro or rw)", self.name)
            return Perm.RW
        return perm

    def _switches(self) -> list[SwitchMember]:
        return [m for m in self.data.values() if isinstance(m, SwitchMember)]

    @property
    def rule(self) -> str:
        return self._rule.value

    @rule.setter
    def rule(self, value: str) -> None:
        self._rule = _one_of(self.name, "rule", value, Rule)

    def __setitem__(self, membername: str, value: Any) -> None:
        try:
            member = self.data[membername]
        except KeyError:
            raise self._no_member(membername) from None
        member.membervalue = value
        if member.membervalue == "On" and self._rule is not Rule.ANY_OF_MANY:
            for other in self.data.values():
                if other is not member and other.membervalue == "On":
                    other.membervalue = "Off"

    def _extra_def_attrs(self) -> str:
        return attribute("perm", self._perm.value) + attribute("rule", self._rule.value)

    def _ordered(self, members: Collection[PropertyMember]) -> list[PropertyMember]:
        # SPEC pp.9-10: for OneOfMany the device reports the switch going Off before the one
        # going On, so a client never sees two On at once.
        return [m for m in members if m.membervalue == "Off"] + [
            m for m in members if m.membervalue == "On"
        ]

    def _set_members(self, allvalues: bool) -> list[PropertyMember]:
        """Off before On, as `_ordered` has them."""
        return self._ordered(super()._set_members(allvalues))


class LightVector(PropertyVector):
    """Read-only indicators; lights have no perm and no timeout (SPEC p.3)."""

    kind = "Light"
    member_class = LightMember
    has_perm = False

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        state: str,
        lightmembers: Iterable[LightMember],
    ) -> None:
        super().__init__(name, label, group, state, lightmembers)

    def _extra_def_attrs(self) -> str:
        return ""

    def _timeout_attr(self) -> str:
        return ""


class TextVector(_PermVector):
    """Text values."""

    kind = "Text"
    member_class = TextMember

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        perm: str,
        state: str,
        textmembers: Iterable[TextMember],
    ) -> None:
        super().__init__(name, label, group, perm, state, textmembers)


class NumberVector(_PermVector):
    """Numbers; values may be assigned as float, int or INDI text and read back as given."""

    kind = "Number"
    member_class = NumberMember

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        perm: str,
        state: str,
        numbermembers: Iterable[NumberMember],
    ) -> None:
        super().__init__(name, label, group, perm, state, numbermembers)

    def getfloatvalue(self, membername: str) -> float:
        """The member's value as a float, whatever form it was given in (a number, or text
        such as the sexagesimal ``"12:30:00"``, which gives 12.5). KeyError for no such
        member."""
        return self._member(membername, NumberMember).getfloatvalue()

    def getformattedvalue(self, membername: str) -> str:
        """The member's value as a client displays it, formatted with the member's
        ``format`` (printf style, or INDI's sexagesimal ``%<w>.<f>m``: ``" 12:30:00"`` for
        12.5 with ``%9.6m``). KeyError for no such member."""
        return self._member(membername, NumberMember).getformattedvalue()


def _close_made(making: asyncio.Future[list[int]]) -> None:
    """Close the memory files a thread made for a send cancelled meanwhile."""
    if not making.cancelled() and making.exception() is None:
        close_all(making.result())


class BLOBVector(_PermVector):
    """Binary large objects. Each send reads the member values, base64-encodes them once (or,
    when the driver's stdout is a Unix socket, puts each in a memory file sent beside the
    element, as libindi does: `IPyDriver.shared_blobs`) and, like indilib >= 1.9.7, follows
    each BLOB with a pingRequest so the next BLOB waits until the server has taken the previous
    one (back-pressure)."""

    kind = "BLOB"
    member_class = BLOBMember

    def __init__(
        self,
        name: str,
        label: str | None,
        group: str | None,
        perm: str,
        state: str,
        blobmembers: Iterable[BLOBMember],
    ) -> None:
        super().__init__(name, label, group, perm, state, blobmembers)

    def set_blobsize(self, membername: str, blobsize: int) -> None:
        """Size (before compression) to announce for this member on the next send only."""
        if not isinstance(blobsize, int):
            # 3.x API: a bad blobsize raises ValueError, whatever its type.
            raise ValueError(f"blobsize must be an int, not {blobsize!r}")  # noqa: TRY004
        self._member(membername, BLOBMember).blobsize = blobsize

    def set_blobformat(self, membername: str, blobformat: str) -> None:
        """Format (file suffix such as '.fits' or '.fits.z') of this member's BLOBs."""
        self._member(membername, BLOBMember).blobformat = blobformat

    def _set_members(self, allvalues: bool) -> list[PropertyMember]:
        """Only members that hold data: one never given any has nothing to send."""
        return [m for m in self.data.values()
                if m.membervalue is not None and (allvalues or m.changed)]

    async def _send_set(self, driver: DriverPort, members: Iterable[PropertyMember], message: str,
                        timestamp: datetime | None) -> None:
        # The chosen BLOB members with their current data; none makes a state-only set.
        blobs = [self._member(m.name, BLOBMember) for m in members]
        payloads = [(m, m.read_value()) for m in blobs]
        fds: list[int] = []
        if driver.attaches_blobs and attachable([(m.blobsize, raw) for m, raw in payloads]):
            fds = await self._memory_files(payloads)
        try:
            if fds:
                data = self._blob_bytes(payloads, message, timestamp, attached=True)
            else:
                data = await self._encode_blobs(payloads, message, timestamp)
            for member in blobs:
                # 3.x kept a size set once for every later send; here it is per send.
                member.blobsize = 0
                member.changed = False
            await driver._send_blob(data, fds)
        finally:
            close_all(fds)  # passed by now (the link sends duplicates of any it must hold)

    async def _memory_files(self, payloads: list[tuple[BLOBMember, bytes]]) -> list[int]:
        """A memory file for each member holding data, in order ([] if the system refuses:
        the BLOB then goes inline)."""
        datas = [raw for _, raw in payloads if raw]
        try:
            if sum(map(len, datas)) < _THREAD_ENCODE_SIZE:
                return memory_files(datas)
            # Written in a thread, which a cancelled send cannot stop: what it makes then is
            # closed when it ends, never left open.
            making = asyncio.ensure_future(asyncio.to_thread(memory_files, datas))
            try:
                return await asyncio.shield(making)
            except asyncio.CancelledError:
                making.add_done_callback(_close_made)
                raise
        except OSError as exc:
            logger.warning("BLOB %r sent inline: no memory file for it (%s)", self.name, exc)
            return []

    async def _encode_blobs(self, payloads: list[tuple[BLOBMember, bytes]],
                            message: str, timestamp: datetime | None) -> bytes:
        total = sum(len(raw) for _, raw in payloads)
        if total >= _THREAD_ENCODE_SIZE:
            return await asyncio.to_thread(self._blob_bytes, payloads, message, timestamp)
        return self._blob_bytes(payloads, message, timestamp)

    def _blob_bytes(
        self,
        payloads: list[tuple[BLOBMember, bytes]],
        message: str,
        timestamp: datetime | None,
        attached: bool = False,
    ) -> bytes:
        # One line of base64 and no `enclen` (enclen=None): indilib's lilxml takes `enclen` to
        # mean base64 wrapped at 72 columns and, with one line, swallows the closing tags of a
        # BLOB longer than one read (indiserver and libindiclient 1.9.9 then stall).
        # `attached`: no body, the data's length in `len` (`wire.write_attached`).
        members = tuple(BLOB(member.name, raw, member.blobsize or len(raw), member.sent_format())
                        for member, raw in payloads)
        assert self._devicename is not None
        event = SetBLOBVector(
            self._devicename, self.name, members, state=self._state,
            timeout=None if self._perm is Perm.RO else self._timeout,
            timestamp=timestamp_text(timestamp), message=message or None)
        return write_attached(event) if attached else write_element(event)
