"""One shape for the value rule (issue 57 item 5): every face judges a vector by an equal
`VectorShape`, built by the core's one `vector_shape`.

The drivers' definitions, as a driver sends them, are applied to the client library's model
and to the redis bridge's store; then the driver's own shape (`validation.shape_of`), the
model's (`PropertyVector.shape`), the terminal's (`VectorInfo.shape`), the web client's
(`VectorView.shape`, from the snapshot a `DeviceSource` hands out) and the redis tools' (from
the stored hashes, `toxml.stored_shape`) must be equal objects, for every kind of vector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from edgecases import DEVICE as EDGE_DEVICE
from edgecases import make_edge_driver
from webpeers import DEVICE as WEB_DEVICE
from webpeers import make_test_driver

import indipydriver as ipd
from indipyclient.model.snapshot import vector_dict
from indipyclient.model.tree import Model
from indipycore.protocol import events as pe
from indipycore.protocol.acceptance import MemberShape
from indipycore.protocol.acceptance import VectorShape
from indipycore.protocol.acceptance import judge
from indipydriver.testing import DriverHarness
from indipydriver.validation import shape_of
from indipyterm.vectorinfo import VectorInfo
from indipyweb.views import vector_view
from indiredis.fromxml import StoreWriter
from indiredis.keys import Keys
from indiredis.ops import HSet
from indiredis.toxml import stored_shape


async def _definitions(driver: ipd.IPyDriver) -> list[Any]:
    async with DriverHarness(driver, timeout=5.0) as harness:
        return await harness.get_properties()


def _faces(device: str, name: str, model: Model, store: StoreWriter,
           hashes: Mapping[str, Mapping[str, str]]) -> dict[str, VectorShape]:
    """The shape of ``device.name`` as each client face builds it."""
    vector = model.vector(device, name)
    assert vector is not None
    attributes = hashes[store.keys.full(Keys.attributes(name, device))]
    members = [hashes[store.keys.full(Keys.elementattributes(m, name, device))]
               for m in vector]
    return {
        "model": vector.shape,
        "terminal": VectorInfo.from_vector(vector).shape,
        "web": vector_view(vector_dict(vector)).shape,
        "redis": stored_shape(device, name, attributes, members),
    }


def _stored(store: StoreWriter, events: list[Any],
            hashes: dict[str, dict[str, str]]) -> None:
    for event in events:
        for op in store.apply(event):
            if isinstance(op, HSet):
                hashes.setdefault(op.key, {}).update(op.mapping)


def test_every_face_builds_an_equal_shape() -> None:
    """For every vector of the edge driver and of the web test driver (numbers with ranges,
    min == max, min > max, sexagesimal limits and a step; texts; every switch rule; a light;
    a BLOB; read-only vectors), the faces' shapes equal the driver's."""
    seen = set()
    for driver, device in ((make_edge_driver(), EDGE_DEVICE), (make_test_driver(), WEB_DEVICE)):
        defs = asyncio.run(_definitions(driver))
        model, store = Model(), StoreWriter()
        hashes: dict[str, dict[str, str]] = {}
        for event in defs:
            model.apply(event)
        _stored(store, defs, hashes)
        assert len(model.devices[device]) >= 5
        for name in model.devices[device]:  # what the driver defined (standard vectors too)
            want = shape_of(driver.devices[device][name])
            seen.add(want.kind)
            for face, shape in _faces(device, name, model, store, hashes).items():
                assert shape == want, (face, device, name, shape, want)
    assert seen == {"Number", "Text", "Switch", "Light", "BLOB"}


def test_the_shapes_follow_new_limits() -> None:
    """A set that carries new limits (indilib's IUUpdateMinMax) changes the model's shape, and
    the faces' shapes with it: the cached shape is not kept past it."""
    defs = asyncio.run(_definitions(make_edge_driver()))
    model, store = Model(), StoreWriter()
    hashes: dict[str, dict[str, str]] = {}
    for event in defs:
        model.apply(event)
    _stored(store, defs, hashes)
    vector = model.vector(EDGE_DEVICE, "NUM")
    assert vector is not None
    before = vector.shape
    assert not judge(before, {"RANGED": 150})
    change = pe.SetNumberVector(EDGE_DEVICE, "NUM", (
        pe.Number("RANGED", "50", min="-1:30", max="200", step="0"),))
    model.apply(change)
    _stored(store, [change], hashes)
    after = vector.shape
    assert after is not before
    assert after.members["RANGED"] == MemberShape("RANGED", -1.5, 200.0, 0.0)
    assert judge(after, {"RANGED": 150})
    for face, shape in _faces(EDGE_DEVICE, "NUM", model, store, hashes).items():
        assert shape == after, face
    assert vector.shape is after  # kept until the next change of limits
