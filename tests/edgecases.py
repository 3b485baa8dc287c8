"""The edge inputs every face must judge alike (issue 41 item 1), and the driver they go to.

`EDGES` is the table: a vector of `EdgeDriver`'s device, the values as a user or a program gives
them (text, as typed), and the expected message of the shared rule (None: accepted). Each face's
test sends every row its way: the client library, the terminal's input check, the web client
over HTTP, a driver receiving a client's new*Vector, and indiredis's publishers. A row a face
cannot express (a checkbox has no state "on") names that face in ``not_on`` with why.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import indipydriver as ipd

DEVICE = "Edge"


@dataclass(frozen=True)
class Edge:
    """One row: set `values` on `vector`; `message` the refusal expected, None if accepted."""

    id: str
    vector: str
    values: dict[str, str]
    message: str | None
    not_on: dict[str, str] = field(default_factory=dict)  # face -> why it cannot send this


CHECKBOX = "a checkbox is On or Off: it cannot say 'on'"
WIRE_SWITCH = "the parser refuses a oneSwitch that is not On or Off before any driver sees it"
WIRE_TEXT = "XML cannot carry U+0001: no client can send it to a driver"
RADIO = "the terminal toggles OneOfMany as radio buttons: never two On"

EDGES = [
    Edge("number-in-range", "NUM", {"RANGED": "50"}, None),
    Edge("number-between-steps", "NUM", {"RANGED": "55"}, None),
    Edge("number-at-max", "NUM", {"RANGED": "100"}, None),
    Edge("number-above-max", "NUM", {"RANGED": "101"},
         "Edge.NUM.RANGED: 101 is outside min 0 .. max 100"),
    Edge("number-below-min-sexagesimal", "NUM", {"RANGED": "-0:30"},
         "Edge.NUM.RANGED: -0.5 is outside min 0 .. max 100"),
    Edge("sexagesimal-colons", "NUM", {"SEXA": "12:30:00"}, None),
    Edge("sexagesimal-spaces", "NUM", {"SEXA": "12 30"}, None),
    Edge("sexagesimal-negative", "NUM", {"SEXA": "-0:30"}, None),
    Edge("min-equals-max-no-range", "NUM", {"FREE": "1e9"}, None),
    Edge("min-above-max-no-range", "NUM", {"INVERTED": "5"}, None),
    Edge("not-a-number", "NUM", {"RANGED": "12abc"},
         "Edge.NUM.RANGED: '12abc' is not a number (integer, real or sexagesimal like "
         "12:30:15)"),
    Edge("nan", "NUM", {"RANGED": "nan"},
         "Edge.NUM.RANGED: 'nan' is not a number (integer, real or sexagesimal like 12:30:15)"),
    Edge("inf", "NUM", {"RANGED": "inf"},
         "Edge.NUM.RANGED: 'inf' is not a number (integer, real or sexagesimal like 12:30:15)"),
    Edge("unknown-member", "NUM", {"NOPE": "1"}, "Edge.NUM.NOPE: unknown member"),
    Edge("read-only", "RO", {"V": "1"}, "Edge.RO: the NumberVector is read-only"),
    Edge("text-with-tab", "TXT", {"T": "tab\there"}, None),
    Edge("text-with-control-character", "TXT", {"T": "a\x01b"},
         "Edge.TXT.T: the text holds a character INDI cannot send: U+0001",
         not_on={"driver-wire": WIRE_TEXT}),
    Edge("one-of-many-one-on", "ONE", {"B": "On"}, None),
    Edge("one-of-many-two-on", "ONE", {"A": "On", "B": "On"},
         "Edge.ONE.B: OneOfMany allows one switch On, not A, B"),
    Edge("one-of-many-none-on", "ONE", {"A": "Off"},
         "Edge.ONE: OneOfMany needs one switch On: name the switch to turn On"),
    Edge("at-most-one-two-on", "ATMOST", {"X": "On", "Y": "On"},
         "Edge.ATMOST.Y: AtMostOne allows one switch On, not X, Y"),
    Edge("at-most-one-none-on", "ATMOST", {"X": "Off", "Y": "Off"}, None),
    Edge("switch-not-on-or-off", "ONE", {"B": "on"},
         "Edge.ONE.B: a switch is On or Off, not 'on'",
         not_on={"terminal": CHECKBOX, "driver-wire": WIRE_SWITCH}),
]


class EdgeDriver(ipd.IPyDriver):
    """Applies every accepted request and answers it Ok; records what reached `rxevent`."""

    async def rxevent(self, event: ipd.RxEvent) -> None:
        if not isinstance(event, ipd.newNumberVector | ipd.newSwitchVector | ipd.newTextVector):
            return
        received: list[tuple[str, dict[str, Any]]] = self.driverdata["received"]
        received.append((event.vectorname or "", dict(event)))
        vector = event.vector
        for name, value in event.items():
            vector[name] = value
        if isinstance(event, ipd.newSwitchVector) and vector.rule == "OneOfMany":
            for name in vector:
                vector[name] = "On" if event.get(name) == "On" else "Off"
        vector.state = "Ok"
        await vector.send_setVector()

    async def hardware(self) -> None:
        await asyncio.Event().wait()


def make_edge_driver() -> EdgeDriver:
    """The device the table is written for: a number vector with a range, a sexagesimal member,
    min == max and min > max; a read-only number, a text, a OneOfMany and an AtMostOne."""
    vectors = [
        ipd.NumberVector("NUM", "Numbers", "Main", "rw", "Idle", [
            ipd.NumberMember("RANGED", "Ranged", "%.1f", "0", "100", "10", membervalue=50),
            ipd.NumberMember("SEXA", "Declination", "%010.6m", "-90", "90", "0",
                             membervalue="10:00:00"),
            ipd.NumberMember("FREE", "Free", "%g", "0", "0", "0", membervalue=0),
            ipd.NumberMember("INVERTED", "Inverted", "%g", "10", "0", "0", membervalue=5),
        ]),
        ipd.NumberVector("RO", "Read only", "Main", "ro", "Ok", [
            ipd.NumberMember("V", "Value", "%g", "0", "10", "0", membervalue=1),
        ]),
        ipd.TextVector("TXT", "Text", "Main", "rw", "Idle", [
            ipd.TextMember("T", "Text", membervalue="hello"),
        ]),
        ipd.SwitchVector("ONE", "One of many", "Main", "rw", "OneOfMany", "Idle", [
            ipd.SwitchMember("A", "A", membervalue="On"),
            ipd.SwitchMember("B", "B", membervalue="Off"),
            ipd.SwitchMember("C", "C", membervalue="Off"),
        ]),
        ipd.SwitchVector("ATMOST", "At most one", "Main", "rw", "AtMostOne", "Idle", [
            ipd.SwitchMember("X", "X", membervalue="Off"),
            ipd.SwitchMember("Y", "Y", membervalue="Off"),
        ]),
    ]
    return EdgeDriver(ipd.Device(DEVICE, vectors), received=[])
