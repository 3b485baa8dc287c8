"""What newcomers hand IPyServer instead of a driver object is refused where it is given, with
an error saying what to do: it was accepted, and the server then logged "serving INDI", an
internal traceback, and served nothing."""

from __future__ import annotations

import asyncio

import pytest

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import TextMember
from indipydriver import TextVector
from indipyserver import IPyServer


def device() -> Device:
    return Device("D", [TextVector("T", "T", "G", "ro", "Idle", [TextMember("t")])])


class Forgetful(IPyDriver):
    def __init__(self, dev: Device) -> None:  # no super().__init__
        self.dev = dev


@pytest.mark.parametrize(("given", "says"), [
    (lambda: device(), "IPyServer takes drivers, not devices: give device 'D' to your IPyDriver"),
    (lambda: IPyDriver, "IPyServer takes driver objects, not the class IPyDriver: create one"),
    (lambda: (IPyDriver(device()),), r"separate arguments: IPyServer\(\*drivers\)"),
    (lambda: Forgetful(device()), r"Forgetful.__init__ must call super\(\).__init__"),
    (lambda: "thermostat.py", "IPyServer serves IPyDriver objects, not str 'thermostat.py'"),
])
def test_what_is_not_a_driver_is_refused_with_what_to_do(given, says: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=says):
        IPyServer(given())
    with pytest.raises(TypeError, match=says):
        IPyServer().add_driver(given())


def test_one_list_of_drivers_is_served_as_indipydriver_3_0_took_it() -> None:
    """3.0 scripts wrote IPyServer([driver])."""
    driver = IPyDriver(device())
    assert IPyServer([driver]).drivers == [driver]


def test_run_inside_a_running_loop_points_to_asyncrun() -> None:
    async def main() -> None:
        IPyServer(IPyDriver(device()), port=0).run()

    with pytest.raises(RuntimeError, match=r"await server.asyncrun\(\)"):
        asyncio.run(main())
