"""The client's model equals a straightforward reference model after any sequence of def, set,
del and message elements (hypothesis), and says something changed exactly when the reference
did: what a script reads from ``client[device][vector]`` is what the server said."""

from __future__ import annotations

from collections import deque
from datetime import UTC
from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyclient.model.tree import DEFAULT_GROUP
from indipyclient.model.tree import MAX_MESSAGES
from indipyclient.model.tree import Model
from indipycore.protocol import events as pe
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import Rule
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.numbers import parse_number
from indipycore.protocol.timestamps import parse_timestamp

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DEVICES = ["Mount", "CCD"]
VECTORS = ["V1", "V2", "V3"]
MEMBERS = ["a", "b", "c"]
KINDS = ["Text", "Number", "Switch", "Light", "BLOB"]

states = st.sampled_from(list(State))
maybe_states = st.none() | states
stamps = st.none() | st.sampled_from(["2026-05-06T07:08:09.5", "2026-05-06 07:08:10",
                                      "not a time"])
timeouts = st.none() | st.sampled_from(["0", "5", "2.5", "x", "-1"])
messages_ = st.none() | st.sampled_from(["", "hello", "moved"])
number_texts = st.sampled_from(["1", "2.5", "-3", "12:30", "-0:30", "1e-06", "bad", ""])


def value_for(kind: str) -> st.SearchStrategy[Any]:
    if kind == "Text":
        return st.sampled_from(["", "x", " padded "]).map(str.strip)
    if kind == "Number":
        return number_texts
    if kind == "Switch":
        return st.sampled_from(list(SwitchState))
    if kind == "Light":
        return states
    return st.binary(max_size=8)


def member_for(kind: str, name: str, value: Any, define: bool) -> Any:
    if kind == "Text":
        return pe.Text(name, value)
    if kind == "Number":
        if define:
            return pe.Number(name, value, format="%.2f", min="0", max="10", step="1")
        return pe.Number(name, value)
    if kind == "Switch":
        return pe.Switch(name, value)
    if kind == "Light":
        return pe.Light(name, value)
    return pe.BLOB(name) if define else pe.BLOB(name, value, len(value), ".bin")


@st.composite
def definitions(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(KINDS))
    names = draw(st.lists(st.sampled_from(MEMBERS), min_size=0, max_size=3, unique=True))
    members = [member_for(kind, n, draw(value_for(kind)), True) for n in names]
    common = {"device": draw(st.sampled_from(DEVICES)), "name": draw(st.sampled_from(VECTORS)),
              "state": draw(states), "members": members,
              "label": draw(st.none() | st.just("Label")),
              "group": draw(st.none() | st.just("Main")),
              "timestamp": draw(stamps), "message": draw(messages_)}
    if kind == "Light":
        return pe.DefLightVector(**common)
    common["perm"] = draw(st.sampled_from(list(Perm)))
    common["timeout"] = draw(timeouts)
    if kind == "Switch":
        return pe.DefSwitchVector(rule=draw(st.sampled_from(list(Rule))), **common)
    cls = {"Text": pe.DefTextVector, "Number": pe.DefNumberVector, "BLOB": pe.DefBLOBVector}[kind]
    return cls(**common)


@st.composite
def updates(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(KINDS))
    names = draw(st.lists(st.sampled_from([*MEMBERS, "zz"]), max_size=4))
    members = [member_for(kind, n, draw(value_for(kind)), False) for n in names]
    common = {"device": draw(st.sampled_from(DEVICES)), "name": draw(st.sampled_from(VECTORS)),
              "state": draw(maybe_states), "members": members, "timestamp": draw(stamps),
              "message": draw(messages_)}
    if kind == "Light":
        return pe.SetLightVector(**common)
    common["timeout"] = draw(timeouts)
    cls = {"Text": pe.SetTextVector, "Number": pe.SetNumberVector, "Switch": pe.SetSwitchVector,
           "BLOB": pe.SetBLOBVector}[kind]
    return cls(**common)


deletes = st.builds(pe.DelProperty, st.sampled_from([*DEVICES, "Ghost"]),
                    st.none() | st.sampled_from(VECTORS), timestamp=stamps)
message_events = st.builds(pe.Message, st.none() | st.sampled_from([*DEVICES, "Ghost"]),
                           timestamp=stamps, message=messages_)
elements = st.one_of(definitions(), updates(), deletes, message_events)


# ------------------------------------------------------------------ the reference model


def stamp(text: str | None) -> datetime:
    """The event's own time; NOW where it has none or an unreadable one."""
    try:
        return parse_timestamp(text) if text else NOW
    except ValueError:
        return NOW


def seconds(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None


def numbers_ok(members: Any) -> bool:
    try:
        for m in members:
            parse_number(m.value)
    except ValueError:
        return False
    return True


KIND_OF = {pe.DefTextVector: "Text", pe.DefNumberVector: "Number", pe.DefSwitchVector: "Switch",
           pe.DefLightVector: "Light", pe.DefBLOBVector: "BLOB", pe.SetTextVector: "Text",
           pe.SetNumberVector: "Number", pe.SetSwitchVector: "Switch", pe.SetLightVector: "Light",
           pe.SetBLOBVector: "BLOB"}


class Reference:
    """Plain dicts, written from the INDI 1.7 rules without looking at the model."""

    def __init__(self) -> None:
        self.devices: dict[str, dict[str, Any]] = {}
        self.messages: deque[tuple[datetime, str]] = deque(maxlen=MAX_MESSAGES)
        self.device_messages: dict[str, deque[tuple[datetime, str]]] = {}

    def apply(self, ev: Any) -> bool:
        kind = KIND_OF.get(type(ev))
        if type(ev).__name__.startswith("Def"):
            if not ev.members or (kind == "Number" and not numbers_ok(ev.members)):
                return False
            if ev.device not in self.devices:
                self.devices[ev.device] = {}
                self.device_messages[ev.device] = deque(maxlen=MAX_MESSAGES)
            t = stamp(ev.timestamp)
            self.devices[ev.device][ev.name] = {
                "kind": kind, "state": ev.state, "label": ev.label or ev.name,
                "group": ev.group or DEFAULT_GROUP,
                "perm": "ro" if kind == "Light" else ev.perm,
                "rule": getattr(ev, "rule", None),
                "timeout": seconds(getattr(ev, "timeout", None)) or 0.0,
                "timestamp": t, "message": ev.message or "", "message_timestamp": t,
                "values": {m.name: (None if kind == "BLOB" else m.value) for m in ev.members},
            }
            return True
        if kind is not None:
            vector = self.devices.get(ev.device, {}).get(ev.name)
            if vector is None or vector["kind"] != kind:
                return False
            if kind == "Number" and not numbers_ok(ev.members):
                return False
            t = stamp(ev.timestamp)
            vector["timestamp"] = t
            if ev.state is not None:
                vector["state"] = ev.state
            timeout = seconds(getattr(ev, "timeout", None))
            if timeout is not None:
                vector["timeout"] = timeout
            if ev.message is not None:
                vector["message"] = ev.message
                vector["message_timestamp"] = t
            for m in ev.members:
                if m.name in vector["values"] and kind != "BLOB":
                    vector["values"][m.name] = m.value
            return True
        if isinstance(ev, pe.DelProperty):
            device = self.devices.get(ev.device)
            if device is None or (ev.name is not None and ev.name not in device):
                return False
            if ev.name is not None:
                del device[ev.name]
            if ev.name is None or not device:
                del self.devices[ev.device]
                del self.device_messages[ev.device]
            return True
        assert isinstance(ev, pe.Message)
        entry = (stamp(ev.timestamp), ev.message or "")
        if ev.device in self.devices:
            self.device_messages[ev.device].appendleft(entry)
        else:
            self.messages.appendleft(entry)
        return True

    def view(self) -> Any:
        return ({d: {v: dict(vec, values=dict(vec["values"])) for v, vec in vecs.items()}
                 for d, vecs in self.devices.items()},
                {d: list(m) for d, m in self.device_messages.items()}, list(self.messages))


def model_view(model: Model) -> Any:
    devices = {}
    for d, device in model.items():
        devices[d] = {v: {
            "kind": vec.vectortype.removesuffix("Vector"), "state": vec.state,
            "label": vec.label, "group": vec.group, "perm": vec.perm, "rule": vec.rule,
            "timeout": vec.timeout, "timestamp": vec.timestamp, "message": vec.message,
            "message_timestamp": vec.message_timestamp, "values": dict(vec)}
            for v, vec in device.items()}
    return (devices, {d: list(device.messages) for d, device in model.items()},
            list(model.messages))


@settings(max_examples=400)
@given(st.lists(elements, max_size=40))
def test_model_matches_the_reference_after_any_elements(sequence: list[Any]) -> None:
    model = Model(now=lambda: NOW)
    reference = Reference()
    for element in sequence:
        changed = model.apply(element)
        assert (changed is not None) == reference.apply(element), element
        assert model_view(model) == reference.view(), element
    assert model.vector_count == sum(len(v) for v in model.values())


@settings(max_examples=100)
@given(st.lists(elements, max_size=30))
def test_events_name_the_vector_and_carry_the_values_sent(sequence: list[Any]) -> None:
    """A set event maps exactly the known members it carried to their new values."""
    model = Model(now=lambda: NOW)
    for element in sequence:
        event = model.apply(element)
        if event is None or not isinstance(element, pe.SetTextVector | pe.SetNumberVector
                                           | pe.SetSwitchVector | pe.SetLightVector):
            continue
        assert (event.devicename, event.vectorname) == (element.device, element.name)
        vector = model[element.device][element.name]
        expected = {m.name: m.value for m in element.members if m.name in vector}
        assert dict(event) == expected
