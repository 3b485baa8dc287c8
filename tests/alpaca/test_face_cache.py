"""The face keeps the devices' roles and its (type, number) index between requests, and
rebuilds them when the model changes: a device defined, deleted, or whose
DRIVER_INFO.DRIVER_INTERFACE changes is served (or not) at the next request."""

from __future__ import annotations

from types import SimpleNamespace

from indipyalpaca.face.indiside import IndiSide
from indipyalpaca.face.registry import Registry
from indipyalpaca.face.served import Served
from indipyalpaca.wire.devicetypes import DeviceType
from indipyclient.model.tree import Model
from indipycore import protocol as pe

FOCUSER_BIT, FILTER_BIT = 8, 16  # INDI's FOCUSER_INTERFACE and FILTER_INTERFACE


def define(device: str, interface: int) -> pe.Event:
    return pe.DefTextVector(device, "DRIVER_INFO", pe.State.IDLE, pe.Perm.RO,
                            (pe.Text("DRIVER_NAME", device),
                             pe.Text("DRIVER_INTERFACE", str(interface))))


def set_interface(device: str, interface: int) -> pe.Event:
    return pe.SetTextVector(device, "DRIVER_INFO", (pe.Text("DRIVER_INTERFACE", str(interface)),),
                            state=pe.State.IDLE)


def kinds(served: Served) -> list[tuple[str, DeviceType, int]]:
    return [(d.name, d.device_type, d.identity.number) for d in served.all()]


def test_roles_and_index_follow_the_model() -> None:
    """Cached between requests (the same list while nothing changed), yet a change of
    interface, a new device and a deleted one each show at the next lookup."""
    model = Model()
    indi = IndiSide(SimpleNamespace(model=model))  # type: ignore[arg-type]
    served = Served(indi, Registry(None))

    model.apply(define("Foc", FOCUSER_BIT))
    assert kinds(served) == [("Foc", DeviceType.FOCUSER, 0)]
    assert indi.devices() is indi.devices()
    assert served.find(DeviceType.FILTERWHEEL, 0) is None
    focuser = served.find(DeviceType.FOCUSER, 0)
    assert focuser is not None and focuser.name == "Foc"

    model.apply(set_interface("Foc", FOCUSER_BIT | FILTER_BIT))
    assert kinds(served) == [("Foc", DeviceType.FILTERWHEEL, 0), ("Foc", DeviceType.FOCUSER, 0)]
    assert served.find(DeviceType.FOCUSER, 0) is focuser  # the same Alpaca device object
    wheel = served.find(DeviceType.FILTERWHEEL, 0)
    assert wheel is not None and wheel.name == "Foc"

    model.apply(define("Foc2", FOCUSER_BIT))
    found = served.find(DeviceType.FOCUSER, 1)
    assert found is not None and found.name == "Foc2"

    model.apply(pe.DelProperty("Foc"))
    assert served.find(DeviceType.FOCUSER, 0) is None
    assert served.find(DeviceType.FILTERWHEEL, 0) is None
    assert kinds(served) == [("Foc2", DeviceType.FOCUSER, 1)]

    model.apply(set_interface("Foc2", 0))
    assert kinds(served) == []
    assert served.find(DeviceType.FOCUSER, 1) is None
