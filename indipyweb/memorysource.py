"""`MemorySource`: a `DeviceSource` held in memory, for tests (ours and yours).

As httpx's ``MockTransport`` stands in for the network, this stands in for the INDI server:
hand it to ``make_app(source)`` and the pages, the SSE streams and the JSON API run exactly as
they do on a real connection, with no socket anywhere. Its state is the client library's own
model (``indipyclient``), so its snapshots have the very shape a `ClientSource` gives.

Feed it what a server would send, as INDI XML (`receive`) or as protocol events (`apply`);
every element that changes something becomes a `Change` for the app's hub. A `set` from the app
is recorded in `sent` (device, vector, values) and answered by `answer`, by default as a
driver that takes every value does: the values are applied with state Ok. Take the connection
away and give it back with `set_connected`. Use it from the event loop's thread (with
Starlette's ``TestClient``: ``client.portal.call(source.receive, xml)``)::

    source = MemorySource()
    source.receive('<defSwitchVector device="Lamp" name="POWER" perm="rw" rule="OneOfMany" '
                   'state="Idle"><defSwitch name="ON">Off</defSwitch>'
                   '<defSwitch name="OFF">On</defSwitch></defSwitchVector>')
    app = make_app(source, dbfolder=tmp_path)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Mapping
from types import TracebackType
from typing import Self

from indipyclient.model.changes import change_of
from indipyclient.model.events import ConnectionLost
from indipyclient.model.events import ConnectionMade
from indipyclient.model.events import Event as ClientEvent
from indipyclient.model.incoming import Incoming
from indipyclient.model.snapshot import take_snapshot
from indipyclient.model.tree import Model
from indipycore.protocol import ProtocolError
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import Event
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetBLOBVector
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.events import SetTextVector
from indipycore.protocol.events import Switch
from indipycore.protocol.events import Text

from .source import BlobUpload
from .source import Change
from .source import ChangeQueue
from .source import InvalidValue
from .source import SetResult
from .source import Snapshot
from .source import VectorDict
from .source import model_vector

__all__ = ["Answer", "MemorySource"]

logger = logging.getLogger(__name__)

#: How a `MemorySource` answers a set: given (device, vector, values), the driver's answer
#: (it may `receive` new values first); None answers as the default driver does.
Answer = Callable[[str, str, dict[str, object]], SetResult | None]

MAX_CHANGES = 20_000  # the hub reads at once; past this the oldest notices go (the model stays)


class MemorySource:
    """See the module docstring. `host` and `port` only label the snapshot and the pages."""

    def __init__(self, host: str = "memory", port: int = 0, *, answer: Answer | None = None,
                 max_changes: int = MAX_CHANGES) -> None:
        self.host = host
        self.port = port
        self.answer = answer
        self.model = Model()
        self.sent: list[tuple[str, str, dict[str, object]]] = []
        self._incoming = Incoming(self.model)
        self._connected = True
        self._changes = ChangeQueue(max_changes, "MemorySource")

    # -- the DeviceSource protocol ---------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    def snapshot(self) -> Snapshot:
        return take_snapshot(self.model, self.host, self.port, self._connected).dictdump()

    def vector(self, device: str, name: str) -> VectorDict | None:
        return model_vector(self.model, device, name)

    def changes(self) -> AsyncIterator[Change]:
        return self._changes.changes()

    async def set(self, device: str, vector: str, members: Mapping[str, object],
                  timeout: float = 10.0) -> SetResult:
        if not self._connected:
            raise ConnectionError("not connected to the INDI server")
        found = self.model.vector(device, vector)
        if found is None:
            raise InvalidValue(f"no vector {device}.{vector}")
        if found.perm == "ro":
            raise InvalidValue(f"{device}.{vector} is read-only")
        for name in members:
            if name not in found:
                raise InvalidValue(f"{device}.{vector} has no member {name!r}")
        values = dict(members)
        self.sent.append((device, vector, values))
        if self.answer is not None:
            result = self.answer(device, vector, values)
            if result is not None:
                return result
        self.apply(_echo(device, vector, found.vectortype, found.rule, list(found), values))
        return SetResult("Ok")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None

    # -- feeding it ------------------------------------------------------------------------

    def receive(self, xml: str | bytes) -> None:
        """Apply what a server sends: one or more INDI elements (a part of one waits for the
        rest). ValueError for malformed XML (a test's typo), nothing of that element applied."""
        data = xml.encode() if isinstance(xml, str) else xml
        errors = []
        for item in self._incoming.feed(data):
            if isinstance(item, ProtocolError):
                errors.append(str(item))
                continue
            change = change_of(item) if isinstance(item, ClientEvent) else None  # not pings
            if change is not None:
                self._notify(change)
        if errors:
            raise ValueError("; ".join(errors))

    def apply(self, event: Event) -> None:
        """Apply one protocol event (``indipycore.protocol.events``), as `receive` does."""
        client_event = self.model.apply(event)
        change = None if client_event is None else change_of(client_event)
        if change is not None:
            self._notify(change)

    def set_connected(self, connected: bool) -> None:
        """Lose the connection (every device is forgotten, as on a real loss) or regain it."""
        if connected == self._connected:
            return
        self._connected = connected
        if not connected:
            self.model.clear()
        change = change_of(ConnectionMade() if connected else ConnectionLost())
        if change is not None:
            self._notify(change)

    def _notify(self, change: Change) -> None:
        self._changes.put(change)


def _echo(device: str, vector: str, kind: str, rule: str | None, members: list[str],
          values: Mapping[str, object]) -> Event:
    """What a driver that takes every value sends back: the values, state Ok."""
    if kind == "NumberVector":
        return SetNumberVector(device, vector, tuple(
            Number(name, value=repr(float(str(value)))) for name, value in values.items()),
            state=State.OK)
    if kind == "SwitchVector":
        wanted = {name: SwitchState(str(value)) for name, value in values.items()}
        if rule == "OneOfMany":
            chosen = next((n for n, v in wanted.items() if v is SwitchState.ON), None)
            if chosen is not None:
                wanted = {name: SwitchState.ON if name == chosen else SwitchState.OFF
                          for name in members}
        return SetSwitchVector(device, vector, tuple(
            Switch(name, value=value) for name, value in wanted.items()), state=State.OK)
    if kind == "TextVector":
        return SetTextVector(device, vector, tuple(
            Text(name, value=str(value)) for name, value in values.items()), state=State.OK)
    files = sum(isinstance(value, BlobUpload) for value in values.values())
    return SetBLOBVector(device, vector, state=State.OK, message=f"got {files} file(s)")
