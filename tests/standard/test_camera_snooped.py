"""The camera's ACTIVE_DEVICES and the FITS cards it writes from snooped values (issue 58
item 2): the sexagesimal text indilib writes, which cards appear for what is known (and none
for what is not), the values kept from snooped def/set/delProperty of the named devices only,
and through `DriverHarness` the snoop requests the camera sends and an exposure's header."""

from __future__ import annotations

import logging
from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
from test_camera import DEV
from test_camera import SENSOR
from test_camera import FakeCamera
from test_camera import connected
from test_camera import expose
from test_camera import make

from indipycore.astro import precess_to_j2000
from indipycore.fits import read_header
from indipycore.protocol import events as pe
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipydriver.rxevents import SNOOP_EVENTS
from indipydriver.rxevents import delProperty
from indipydriver.rxevents import snooped_values
from indipydriver.standard.fitsheader import sexagesimal
from indipydriver.standard.fitsheader import snooped_cards
from indipydriver.standard.snooped import ActiveDevices
from indipydriver.standard.snooped import SnoopedValues
from indipydriver.testing import DriverHarness

WHEN = datetime(2026, 11, 26, 9, 14, 37, tzinfo=UTC)
SCOPE = "Telescope Simulator"


def numbers(device: str, name: str, **values: float) -> pe.SetNumberVector:
    return pe.SetNumberVector(device, name, tuple(pe.Number(k, str(v)) for k, v in values.items()))


def snooped(raw: Any) -> Any:
    """A protocol element as the driver's snoopevent receives it."""
    return SNOOP_EVENTS[type(raw)](raw, snooped_values(raw))


def known() -> SnoopedValues:
    return SnoopedValues(ra=14.2618278, dec=30.0, aperture=120.0, focal_length=900.0,
                         latitude=45.0, longitude=10.0, pier_side="EAST", focus_position=4321,
                         filter_slot=2, filter_names={"FILTER_SLOT_NAME_1": "Red",
                                                      "FILTER_SLOT_NAME_2": "Green"})


@pytest.mark.parametrize(("value", "text"), [
    (14.2423389, "14 14 32.42"),
    (5.5, " 5 30 00.00"),
    (-30.1242583, "-30 07 27.33"),
    (-0.5, "-0 30 00.00"),
    (1.999999999, " 2 00 00.00"),   # 59.999.. seconds carry into the minutes and hours
    (0.0, " 0 00 00.00"),
])
def test_sexagesimal_is_indilibs_fs_sexa_with_spaces(value: float, text: str) -> None:
    """OBJCTRA/OBJCTDEC text as indilib writes it (fs_sexa width 2, hundredths of a second,
    colons made spaces; seen in a header of indilib 1.9.9's CCD simulator)."""
    assert sexagesimal(value) == text


def test_nothing_known_gives_no_card() -> None:
    """No fake values: with nothing snooped there is no card at all, light frame or not."""
    assert snooped_cards(SnoopedValues(), when=WHEN, pixel_size=5.2) == []


def test_everything_known_gives_indilibs_cards_in_its_order() -> None:
    """The cards, comments and order of indilib's addFITSKeywords; RA/Dec are the JNow
    position precessed to J2000 (OBJCTRA about 70 s of RA earlier than JNow in 2026)."""
    cards = snooped_cards(known(), when=WHEN, telescope=SCOPE, pixel_size=5.2, binning=2)
    by_name = {k: (v, c) for k, v, c in cards}
    assert [k for k, _, _ in cards] == [
        "TELESCOP", "FILTER", "FOCALLEN", "APTDIA", "FOCUSPOS", "SCALE", "SITELAT", "SITELONG",
        "AIRMASS", "OBJCTAZ", "OBJCTALT", "OBJCTRA", "OBJCTDEC", "RA", "DEC", "PIERSIDE",
        "EQUINOX"]
    assert by_name["TELESCOP"] == (SCOPE, "Telescope name")
    assert by_name["FILTER"] == ("Green", "Filter")
    assert by_name["FOCALLEN"] == (900.0, "Focal Length (mm)")
    assert by_name["APTDIA"] == (120.0, "Telescope diameter (mm)")
    assert by_name["FOCUSPOS"] == (4321, "Focus position in steps")
    assert by_name["SCALE"][0] == pytest.approx(5.2 / 900 * 206.265 * 2, rel=1e-4)
    assert by_name["SITELAT"] == (45.0, "Latitude of the imaging site in degrees")
    assert by_name["PIERSIDE"] == ("EAST", "East, looking West")
    assert by_name["EQUINOX"] == (2000, "Equinox")
    ra, dec = precess_to_j2000(14.2618278, 30.0, WHEN)
    assert by_name["OBJCTRA"] == (sexagesimal(ra), "Object J2000 RA in Hours")
    assert by_name["OBJCTDEC"] == (sexagesimal(dec), "Object J2000 DEC in Degrees")
    # indilib 1.9.9 wrote '14 14 32.42' / '30 07 27.33' for this pointing at this time:
    # libnova's reduction also takes out nutation and aberration (astro.py does precession
    # only), so ours is about a second of RA off it (15"), and within a second of arc in Dec.
    assert abs(ra - (14 + 14 / 60 + 32.42 / 3600)) * 3600 < 1.5
    assert abs(dec - (30 + 7 / 60 + 27.33 / 3600)) * 3600 < 20.0
    # The telescope on the meridian at latitude 45: altitude 75, azimuth 180 (south), and
    # indilib's airmass there was 1.035227.
    assert by_name["OBJCTALT"][0] == pytest.approx(75.0, abs=0.05)
    assert by_name["OBJCTAZ"][0] == pytest.approx(180.0, abs=0.5)
    assert by_name["AIRMASS"][0] == pytest.approx(1.0352, abs=0.001)


def test_a_dark_frame_gets_no_pointing() -> None:
    """Only light frames get the pointing, site and pier side (indilib does the same)."""
    names = [k for k, _, _ in snooped_cards(known(), when=WHEN, light=False)]
    assert names == ["FILTER", "FOCALLEN", "APTDIA", "FOCUSPOS"]


def test_site_longitude_east_of_180_is_written_negative() -> None:
    """INDI's LONG runs 0..360; SITELONG, as indilib writes it, -180..180."""
    values = known()
    values.longitude = 350.0
    cards = {k: v for k, v, _ in snooped_cards(values, when=WHEN)}
    assert cards["SITELONG"] == -10.0


def test_below_the_horizon_there_is_no_airmass_and_without_a_site_no_altitude() -> None:
    values = known()
    values.dec = -60.0  # on the meridian at latitude 45: altitude -15
    names = {k for k, _, _ in snooped_cards(values, when=WHEN)}
    assert "AIRMASS" not in names and "OBJCTALT" in names and "OBJCTRA" in names
    values.latitude = values.longitude = None
    names = {k for k, _, _ in snooped_cards(values, when=WHEN)}
    assert not names & {"AIRMASS", "OBJCTALT", "OBJCTAZ", "SITELAT", "SITELONG"}
    assert {"OBJCTRA", "OBJCTDEC", "EQUINOX"} <= names


def test_a_mount_sending_only_j2000_is_written_as_it_is() -> None:
    """EQUATORIAL_COORD (J2000) alone: OBJCTRA/OBJCTDEC are its values, not precessed."""
    values = SnoopedValues(j2000_ra=5.5, j2000_dec=-20.25)
    cards = {k: v for k, v, _ in snooped_cards(values, when=WHEN)}
    assert (cards["OBJCTRA"], cards["OBJCTDEC"]) == (" 5 30 00.00", "-20 15 00.00")


def test_values_are_taken_only_from_the_device_named_for_them() -> None:
    """A set from the named telescope is kept; the same property from another device, or a
    property the camera does not snoop, is not; partial sets keep the other members."""
    active = ActiveDevices()
    assert active.take(snooped(numbers(SCOPE, "EQUATORIAL_EOD_COORD", RA=5.5, DEC=20)))
    assert not active.take(snooped(numbers("Other Mount", "EQUATORIAL_EOD_COORD", RA=1, DEC=2)))
    assert not active.take(snooped(numbers(SCOPE, "TELESCOPE_TIMED_GUIDE_NS", TIMED_GUIDE_N=1)))
    assert active.take(snooped(numbers(SCOPE, "EQUATORIAL_EOD_COORD", DEC=21)))
    assert (active.values.ra, active.values.dec) == (5.5, 21.0)
    # TELESCOPE_INFO at 0 means not set (indilib's rule): no FOCALLEN from it.
    active.take(snooped(numbers(SCOPE, "TELESCOPE_INFO", TELESCOPE_APERTURE=0,
                                TELESCOPE_FOCAL_LENGTH=0)))
    assert active.values.focal_length is None and active.values.aperture is None
    side = pe.SetSwitchVector(SCOPE, "TELESCOPE_PIER_SIDE", (
        pe.Switch("PIER_WEST", SwitchState.ON), pe.Switch("PIER_EAST", SwitchState.OFF)))
    active.take(snooped(side))
    assert active.values.pier_side == "WEST"
    assert active.telescope_heard


def test_filter_and_focuser_values() -> None:
    """FILTER is the name of the slot FILTER_SLOT says, from FILTER_NAME; FOCUSPOS the
    focuser's absolute position."""
    active = ActiveDevices({"ACTIVE_FILTER": "Wheel", "ACTIVE_FOCUSER": "Focuser"})
    names = pe.DefTextVector("Wheel", "FILTER_NAME", State.IDLE, Perm.RW, (
        pe.Text("FILTER_SLOT_NAME_1", "L"), pe.Text("FILTER_SLOT_NAME_2", "Ha")))
    active.take(snooped(names))
    assert active.values.filter is None  # no slot heard yet
    active.take(snooped(numbers("Wheel", "FILTER_SLOT", FILTER_SLOT_VALUE=2)))
    assert active.values.filter == "Ha"
    active.take(snooped(numbers("Wheel", "FILTER_SLOT", FILTER_SLOT_VALUE=5)))
    assert active.values.filter is None  # a slot with no name
    active.take(snooped(numbers("Focuser", "ABS_FOCUS_POSITION", FOCUS_ABSOLUTE_POSITION=777)))
    assert active.values.focus_position == 777


def test_renaming_forgets_the_old_device_and_asks_the_new_one() -> None:
    """A client's new ACTIVE_TELESCOPE: the requests for its five properties, and what the
    old telescope said is gone (a header must not carry another telescope's pointing)."""
    active = ActiveDevices()
    active.take(snooped(numbers(SCOPE, "EQUATORIAL_EOD_COORD", RA=5.5, DEC=20)))
    requests = active.rename({"ACTIVE_TELESCOPE": "Mount 2", "ACTIVE_FOCUSER":
                              active.name("ACTIVE_FOCUSER")})
    assert requests == [("Mount 2", p) for p in (
        "EQUATORIAL_EOD_COORD", "EQUATORIAL_COORD", "TELESCOPE_INFO", "GEOGRAPHIC_COORD",
        "TELESCOPE_PIER_SIDE")]
    assert active.values.ra is None and not active.telescope_heard
    assert active.rename({"ACTIVE_TELESCOPE": ""}) == []
    assert active.requests(["ACTIVE_TELESCOPE"]) == []


def test_a_deleted_property_is_forgotten() -> None:
    """The telescope deletes its properties (it was disconnected): its last pointing is not
    written into later headers."""
    active = ActiveDevices()
    active.take(snooped(numbers(SCOPE, "EQUATORIAL_EOD_COORD", RA=5.5, DEC=20)))
    active.take(snooped(numbers(SCOPE, "GEOGRAPHIC_COORD", LAT=45, LONG=10, ELEV=0)))
    active.take(delProperty(pe.DelProperty(SCOPE, "EQUATORIAL_EOD_COORD")))
    assert active.values.ra is None and active.values.latitude == 45.0
    active.take(delProperty(pe.DelProperty(SCOPE)))
    assert active.values.latitude is None


def test_unknown_member_names_are_refused() -> None:
    with pytest.raises(ValueError, match="ACTIVE_DEVICES"):
        ActiveDevices({"ACTIVE_DOME": "Dome"})
    with pytest.raises(ValueError, match="ACTIVE_DEVICES"):
        ActiveDevices(extra={"ACTIVE_DOME": ("FWHM",)})


def test_a_drivers_extra_snoop_is_asked_kept_from_the_named_device_and_forgotten() -> None:
    """`extra` (the CCD simulator's focuser FWHM): asked of the named focuser beside indilib's
    two, kept only from it, in no header card, forgotten when the focuser is renamed."""
    active = ActiveDevices({"ACTIVE_FOCUSER": "Focuser"}, extra={"ACTIVE_FOCUSER": ("FWHM",)})
    assert active.requests(["ACTIVE_FOCUSER"]) == [
        ("Focuser", "ABS_FOCUS_POSITION"), ("Focuser", "FOCUS_TEMPERATURE"),
        ("Focuser", "FWHM")]
    assert not active.take(snooped(numbers("Other", "FWHM", SIM_FWHM=9.0)))
    assert active.values.number("FWHM", "SIM_FWHM") is None
    assert active.take(snooped(numbers("Focuser", "FWHM", SIM_FWHM=4.5)))
    assert active.values.number("FWHM", "SIM_FWHM") == 4.5
    assert snooped_cards(active.values, when=WHEN) == []
    assert active.rename({"ACTIVE_FOCUSER": "Focuser 2"})[-1] == ("Focuser 2", "FWHM")
    assert active.values.number("FWHM", "SIM_FWHM") is None


async def test_the_camera_snoops_from_the_start_and_on_a_new_name_and_writes_the_header(
        ) -> None:
    """Through the driver: as soon as it is served, before any connect (as indilib's CCD
    from initProperties), ACTIVE_DEVICES (Options, rw, indilib's members) is defined and
    getProperties is sent for the named telescope's properties; after CONNECT a client's new
    name is answered Ok and snooped; the snooped pointing and site end up in the image's
    header."""
    driver, _, _ = make()
    async with DriverHarness(driver, timeout=5) as client:
        asked = set()
        while len(asked) < 5:
            asked.add((await client.expect(pe.GetProperties, device=SCOPE)).name)
        assert asked == {"EQUATORIAL_EOD_COORD", "EQUATORIAL_COORD", "TELESCOPE_INFO",
                         "GEOGRAPHIC_COORD", "TELESCOPE_PIER_SIDE"}
        assert not driver.devices[DEV].is_connected
        defs = {e.name: e for e in await client.get_properties()}
        assert "CCD_EXPOSURE" not in defs
        await connected(client)
        active = defs["ACTIVE_DEVICES"]
        assert (active.label, active.group, active.perm) == ("Snoop devices", "Options", Perm.RW)
        assert [(m.name, m.label) for m in active.members] == [
            ("ACTIVE_TELESCOPE", "Telescope"), ("ACTIVE_ROTATOR", "Rotator"),
            ("ACTIVE_FOCUSER", "Focuser"), ("ACTIVE_FILTER", "Filter"),
            ("ACTIVE_SKYQUALITY", "Sky Quality")]
        assert active["ACTIVE_TELESCOPE"].value == SCOPE

        await client.send(pe.NewTextVector(DEV, "ACTIVE_DEVICES",
                                           (pe.Text("ACTIVE_TELESCOPE", "Mount"),)))
        answer = await client.expect(pe.SetTextVector, name="ACTIVE_DEVICES")
        assert answer.state == State.OK and answer["ACTIVE_TELESCOPE"].value == "Mount"
        request = await client.expect(pe.GetProperties, device="Mount")
        assert request.name == "EQUATORIAL_EOD_COORD"
        await client.send(numbers("Mount", "EQUATORIAL_EOD_COORD", RA=14.2618278, DEC=30))
        # At latitude 75 Dec 30 never sets (its lowest is 15 degrees up), so the header has
        # an AIRMASS whatever the time of day the test runs.
        await client.send(numbers("Mount", "GEOGRAPHIC_COORD", LAT=75, LONG=10, ELEV=0))
        await client.send(numbers(SCOPE, "EQUATORIAL_EOD_COORD", RA=1, DEC=1))  # not named
        await client.round_trip()
        await client.send(expose(0.05))
        blob = await client.expect(pe.SetBLOBVector, name="CCD1")
    header = read_header(blob["CCD1"].data)
    ra, _ = precess_to_j2000(14.2618278, 30.0, datetime.now(UTC))
    assert header["TELESCOP"] == "Mount" and header["EQUINOX"] == 2000
    assert header["RA"] == pytest.approx(ra * 15, abs=1e-5)
    assert isinstance(header["OBJCTRA"], str) and header["OBJCTRA"].startswith("14 14 ")
    assert (header["SITELAT"], header["SITELONG"]) == (75.0, 10.0)
    assert 1.0 <= header["AIRMASS"] < 4.0 and "PIERSIDE" not in header.values


async def test_a_camera_snoops_a_mount_its_own_driver_holds(caplog: pytest.LogCaptureFixture,
                                                            ) -> None:
    """One driver holding the mount and the camera (as the Alpaca bridge's, ``alpaca://``, does
    with an Alpaca server's devices; issue 70 item 2): the camera's snoop of the mount is not
    refused with an error, no getProperties for it goes to the server (which never sends a
    driver its own traffic back), and the mount's pointing, as this driver sends it, reaches
    the image's header."""
    import indipydriver as ipd
    from indipydriver.standard.camera import Camera

    fake = FakeCamera()
    camera = ipd.Device(DEV, roles=[Camera(SENSOR, fake.expose, poll_seconds=0.05)])
    coords = ipd.NumberVector("EQUATORIAL_EOD_COORD", "Eq. Coordinates", "Main Control", "rw",
                              "Ok", [ipd.NumberMember("RA", membervalue=14.2618278),
                                     ipd.NumberMember("DEC", membervalue=30.0)])
    site = ipd.NumberVector("GEOGRAPHIC_COORD", "Location", "Site", "rw", "Ok",
                            [ipd.NumberMember("LAT", membervalue=75.0),
                             ipd.NumberMember("LONG", membervalue=10.0),
                             ipd.NumberMember("ELEV", membervalue=0.0)])
    mount = ipd.Device(SCOPE, [coords, site])
    driver = ipd.IPyDriver(mount, camera)
    with caplog.at_level(logging.ERROR):
        async with DriverHarness(driver, timeout=5) as client:
            await client.get_properties()
            await connected(client)
            await client.round_trip()
            assert not [e for e in client.pending()
                        if isinstance(e, pe.GetProperties) and e.device == SCOPE]
            coords["RA"] = 5.5  # the mount moves: its set reaches the camera too
            await coords.send_setVector()
            await client.round_trip()
            await client.send(expose(0.05))
            blob = await client.expect(pe.SetBLOBVector, name="CCD1")
    assert "belongs to this driver" not in caplog.text
    header = read_header(blob["CCD1"].data)
    ra, _ = precess_to_j2000(5.5, 30.0, datetime.now(UTC))
    assert header["TELESCOP"] == SCOPE and header["RA"] == pytest.approx(ra * 15, abs=1e-5)
    assert header["OBJCTRA"].startswith(" 5 ") and header["SITELAT"] == 75.0


def test_a_member_of_the_drivers_own_snoops_switches_and_stays_out_of_the_config() -> None:
    """`members` adds ACTIVE_LIGHTBOX after indilib's five: its snooped switch and number are
    kept (`text`, `number`), forgotten when it is renamed, and the config file leaves the
    member out (indilib's CCD refuses a saved ACTIVE_DEVICES naming a member it lacks)."""
    from indipydriver.standard.configfile import write_config

    active = ActiveDevices({"ACTIVE_LIGHTBOX": "Panel"},
                           {"ACTIVE_LIGHTBOX": ("FLAT_LIGHT_CONTROL", "FLAT_LIGHT_INTENSITY")},
                           (("ACTIVE_LIGHTBOX", "Light Box"),))
    assert list(active.vector)[-1] == "ACTIVE_LIGHTBOX"
    assert ("Panel", "FLAT_LIGHT_CONTROL") in active.requests()
    light = pe.SetSwitchVector("Panel", "FLAT_LIGHT_CONTROL", (
        pe.Switch("FLAT_LIGHT_ON", SwitchState.ON), pe.Switch("FLAT_LIGHT_OFF", SwitchState.OFF)))
    assert active.take(snooped(light))
    active.take(snooped(numbers("Panel", "FLAT_LIGHT_INTENSITY", FLAT_LIGHT_INTENSITY_VALUE=40)))
    assert active.values.text("FLAT_LIGHT_CONTROL", "FLAT_LIGHT_ON") == "On"
    assert active.values.number("FLAT_LIGHT_INTENSITY", "FLAT_LIGHT_INTENSITY_VALUE") == 40.0
    saved = write_config("CCD", [active.vector]).decode()
    assert "ACTIVE_TELESCOPE" in saved and "ACTIVE_LIGHTBOX" not in saved
    active.rename({"ACTIVE_LIGHTBOX": ""})
    assert active.values.text("FLAT_LIGHT_CONTROL", "FLAT_LIGHT_ON") is None
