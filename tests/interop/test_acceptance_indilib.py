"""The shared rule for new values agrees with indilib's drivers where both judge (issue 41
item 1; docs/acceptance.rst).

indilib's ``IUUpdateSwitch`` resets a OneOfMany vector before applying a request and refuses it
unless exactly one switch is On afterwards; ``IUUpdateNumber`` refuses a value outside min..max.
Here the real telescope simulator (indi-bin) is sent, bypassing our clients' check, the requests
our rule refuses, and answers each with its error; a request our rule accepts it takes.
"""

from __future__ import annotations

from collections.abc import Callable

from serverkit import RawClient

from indipyclient.model.tree import Model
from indipycore.protocol import events as pe
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indipycore.protocol.acceptance import judge
from indipycore.protocol.enums import SwitchState

SCOPE = "Telescope Simulator"
ON, OFF = SwitchState.ON, SwitchState.OFF


async def test_indilib_refuses_what_the_shared_rule_refuses(
        indiserver_factory: Callable[..., object]) -> None:
    """OneOfMany with none On or two On, and a number below min: our rule refuses each with
    its message, and the simulator, sent them anyway, answers with its own error and keeps its
    values; a single switch On is accepted by both."""
    server = indiserver_factory("indi_simulator_telescope")
    client = await RawClient.connect(server.port)  # type: ignore[attr-defined]
    await client.send('<getProperties version="1.7"/>')
    await client.wait_for("defSwitchVector", name="CONNECTION", timeout=10)
    await client.send(serialise(pe.NewSwitchVector(SCOPE, "CONNECTION", (
        pe.Switch("CONNECT", ON),))))
    await client.wait_for("defSwitchVector", name="ON_COORD_SET", timeout=10)
    await client.wait_for("defNumberVector", name="TELESCOPE_INFO", timeout=10)  # all it judges
    model = Model()
    for frame in client.frames:
        event = parse_element(frame.data)
        if event is not None:
            model.apply(event)

    cases = [
        ("ON_COORD_SET", pe.NewSwitchVector, {"TRACK": OFF},
         f"{SCOPE}.ON_COORD_SET: OneOfMany needs one switch On", "No switch is on"),
        ("ON_COORD_SET", pe.NewSwitchVector, {"TRACK": ON, "SLEW": ON},
         f"{SCOPE}.ON_COORD_SET.SLEW: OneOfMany allows one switch On",
         "Too many switches are on"),
        ("TELESCOPE_INFO", pe.NewNumberVector, {"TELESCOPE_APERTURE": "1"},
         f"{SCOPE}.TELESCOPE_INFO.TELESCOPE_APERTURE: 1 is outside min 10",
         "Invalid range"),
    ]
    for name, kind, values, ours, theirs in cases:
        vector = model.vector(SCOPE, name)
        assert vector is not None, name
        verdict = judge(vector.shape, values)
        assert not verdict and verdict.message.startswith(ours), verdict
        client.frames.clear()
        await client.send(serialise(_request(kind, name, values)))
        answer = await client.read_until(lambda frames, n=name, t=theirs: any(
            f.attrs.get("name") == n and t in f.attrs.get("message", "") for f in frames))
        said = [f.attrs["message"] for f in answer if theirs in f.attrs.get("message", "")]
        assert said  # indilib said why, in its words

    vector = model.vector(SCOPE, "ON_COORD_SET")
    assert vector is not None
    assert judge(vector.shape, {"SLEW": ON})
    client.frames.clear()
    await client.send(serialise(_request(pe.NewSwitchVector, "ON_COORD_SET", {"SLEW": ON})))
    answer = await client.wait_for("setSwitchVector", name="ON_COORD_SET")
    accepted = parse_element(answer.data)
    assert isinstance(accepted, pe.SetSwitchVector)
    assert {m.name: m.value for m in accepted.members}["SLEW"] == ON
    assert accepted.state == "Ok" and not accepted.message
    await client.close()


def _request(kind: type, name: str, values: dict[str, object]) -> pe.Event:
    if kind is pe.NewSwitchVector:
        return pe.NewSwitchVector(SCOPE, name, tuple(
            pe.Switch(m, v) for m, v in values.items()))  # type: ignore[arg-type]
    return pe.NewNumberVector(SCOPE, name, tuple(
        pe.Number(m, str(v)) for m, v in values.items()))
