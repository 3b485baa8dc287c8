"""What the router drops is logged, clearly and within a budget, and nothing else is lost.

The project's rule for bad input: a clear log line saying what was dropped, from which peer
and why, in INDI terms; the peer is kept and its (and everyone's) other traffic flows; and a
peer repeating the same bad element thousands of times writes a bounded number of lines. What
is routine -- a chained server's echo of a command, a snoop for a device that is not running,
Latin-1 text from KStars, a getProperties whatever its version -- stays quiet, so that real
peers (indilib's clients and drivers, recorded in tests/data/corpus) log no warning at all.
"""

from __future__ import annotations

import logging

import corpus
import pytest
from serverdoubles import frames
from serverdoubles import ready
from test_router import DEF_X_P
from test_router import DEF_X_Q
from test_router import NEW_X_P
from test_router import SET_X_P
from test_router import FakeClient
from test_router import FakeDriver
from test_router import client

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver.routing.router import Router

LOGGER = "indipyserver.router"
FLOOD = 2000  # repeats of one bad element, all within one budget period


@pytest.fixture
def router() -> Router:
    return Router()


def served(router: Router) -> tuple[FakeDriver, FakeClient]:
    """Driver d serving device X, and a client `watcher` that wants every device."""
    d = FakeDriver("d")
    ready(router, d)
    router.driver_frames(d, frames(DEF_X_P + DEF_X_Q))  # type: ignore[arg-type]
    watcher = client(router, "watcher")
    watcher.got.clear()
    return d, watcher


def warnings(caplog: pytest.LogCaptureFixture, text: str = "") -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and text in r.getMessage()]


def then_a_good_request_flows(router: Router, sender: FakeClient, d: FakeDriver,
                              watcher: FakeClient) -> None:
    d.got.clear()
    watcher.got.clear()
    router.client_frames(sender, frames(NEW_X_P))  # type: ignore[arg-type]
    assert d.text() == NEW_X_P and watcher.text() == NEW_X_P


def client_drop_is_warned_and_bounded(router: Router, caplog: pytest.LogCaptureFixture, bad: str,
                                      said: str, flood_key: str) -> tuple[FakeClient, FakeDriver,
                                                                          FakeClient]:
    """A client `sender` sends `bad` to d's router: exactly the warning `said`, nothing passed
    on, its next request still flows, and a flood of `bad` writes a bounded number of lines
    holding `flood_key`. Returns (sender, d, watcher) for more checks."""
    d, watcher = served(router)
    sender = client(router, "sender", None)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.client_frames(sender, frames(bad))  # type: ignore[arg-type]
    assert warnings(caplog) == [said]
    assert d.got == [] and watcher.got == []
    then_a_good_request_flows(router, sender, d, watcher)
    caplog.clear()
    d.got.clear()
    watcher.got.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.client_frames(sender, frames(bad * FLOOD))  # type: ignore[arg-type]
    assert 1 <= len(warnings(caplog, flood_key)) <= 20
    assert d.got == [] and watcher.got == []
    caplog.clear()
    return sender, d, watcher


# -- clients sending what only drivers send ------------------------------------------------


@pytest.mark.parametrize("bad", [
    '<message message="hello everyone"/>',
    '<delProperty name="P"/>',
    SET_X_P.replace(' device="X"', ""),
    DEF_X_P.replace(' device="X"', ""),
])
def test_a_client_s_device_less_driver_element_is_warned_dropped_and_bounded(
    router: Router, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A client's message, delProperty or def/set vector naming no device was dropped with a
    debug line only: a client that thinks it told everyone something never learns why nothing
    happened. It is dropped with a warning naming the element, the client and the reason,
    reaches no driver or client, the client's next request still goes through, and a flood of
    it writes at most the clients' warning budget of lines."""
    tag = Framer().feed(bad.encode())[0].tag  # type: ignore[union-attr]
    client_drop_is_warned_and_bounded(
        router, caplog, bad, f"client sender sent <{tag}> without a device: dropped (only "
        "drivers send it; from a client it is passed on only to the drivers snooping the device "
        "it names)", f"<{tag}> without a device")


def test_a_client_s_unknown_element_is_warned_dropped_and_bounded(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """An element INDI does not have (a typo, another protocol) was dropped with a debug line
    only. It is dropped with a warning saying so, and a flood is bounded."""
    bad = '<newNumberVectr device="X" name="P"><oneNumber name="a">5</oneNumber></newNumberVectr>'
    client_drop_is_warned_and_bounded(
        router, caplog, bad, "client sender sent <newNumberVectr>, which is not an INDI element "
        "a client sends: dropped", "<newNumberVectr>")


def owned_here(label: str) -> str:
    return (f"client {label} sent <setNumberVector> for device 'X', which d provides: dropped "
            "(only a device's own driver sends that; a client asks for a change with a "
            "new*Vector, and a chained server sending it means two sources for one device "
            "name, or a loop of servers). Later ones for that device from this client are "
            "dropped unlogged")


def test_a_client_s_set_vector_for_a_device_owned_here_is_warned_once_per_device(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """A client's setNumberVector for a device a driver here provides is dropped (only the
    owner speaks for its device: the loop guard), which was a debug line: a client that sent a
    set*Vector where it meant a new*Vector saw its command do nothing. It is dropped with a
    warning naming the client, the element, the device and its owner; once per client and
    device, as a chained server relaying a device of the same name does it with every update;
    and the owner's own traffic still reaches the clients."""
    d, watcher = served(router)
    sender = client(router, "sender", None)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.client_frames(sender, frames(SET_X_P))  # type: ignore[arg-type]
    assert warnings(caplog) == [owned_here("sender")]
    assert d.got == [] and watcher.got == [] and sender.got == []
    then_a_good_request_flows(router, sender, d, watcher)
    watcher.got.clear()
    router.driver_frames(d, frames(SET_X_P))  # type: ignore[arg-type]
    assert watcher.text() == SET_X_P
    caplog.clear()
    d.got.clear()
    watcher.got.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.client_frames(sender, frames(SET_X_P * FLOOD))  # type: ignore[arg-type]
        other = client(router, "other", None)
        router.client_frames(other, frames(SET_X_P * FLOOD))  # type: ignore[arg-type]
    assert warnings(caplog) == [owned_here("other")]  # the sender's are already told
    assert d.got == [] and watcher.got == []


def test_a_plain_client_s_set_vector_that_reaches_nobody_is_warned_and_bounded(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """A client's set*Vector for a device nothing here serves goes to the drivers snooping
    that device (a chained server below relays them: notes 1.5.4). With none, from a client
    that is not a chained server, it reached nobody without a word; now a warning says so,
    bounded by the budget. A chained server's relay (device="*") stays quiet: its snooper may
    just have gone."""
    bad = SET_X_P.replace('"X"', '"Mount"')
    sender, _, _ = client_drop_is_warned_and_bounded(
        router, caplog, bad, "client sender sent <setNumberVector> for device 'Mount': dropped, "
        "nothing here serves or snoops that device (only drivers send <setNumberVector>; a "
        "client asks for a change with a new*Vector)", "'Mount'")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        up = client(router, "up", '<getProperties device="*" version="1.7"/>')
        router.client_frames(up, frames(bad))  # type: ignore[arg-type]
        assert warnings(caplog) == []
        # ... and with a driver snooping the device, a plain client's copy reaches it.
        snooper = FakeDriver("snooper")
        ready(router, snooper)
        router.driver_frames(snooper, frames('<getProperties device="Mount" version="1.7"/>'))  # type: ignore[arg-type]
        snooper.got.clear()
        router.client_frames(sender, frames(bad))  # type: ignore[arg-type]
    assert snooper.text() == bad
    assert warnings(caplog) == []


def driver_drop_is_warned_and_bounded(
    router: Router, caplog: pytest.LogCaptureFixture, driver: FakeDriver, bad: str, said: str,
    quiet: list[FakeDriver | FakeClient], good: str, gets_good: FakeDriver | FakeClient,
    flood_key: str,
) -> None:
    """`driver` sends `bad`: exactly the warning `said`, nothing reaches `quiet`, its next
    element `good` still reaches `gets_good`, and a flood of `bad` writes a bounded number of
    lines holding `flood_key`."""
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.driver_frames(driver, frames(bad))  # type: ignore[arg-type]
    assert warnings(caplog) == [said]
    assert all(peer.got == [] for peer in quiet)
    router.driver_frames(driver, frames(good))  # type: ignore[arg-type]
    assert gets_good.text() == good
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.driver_frames(driver, frames(bad * FLOOD))  # type: ignore[arg-type]
    assert 1 <= len(warnings(caplog, flood_key)) <= 20
    assert gets_good.text() == good


# -- drivers' commands that reach nobody ---------------------------------------------------


@pytest.mark.parametrize(("bad", "why"), [
    (NEW_X_P.replace('"X"', '"Nope"'),
     "for device 'Nope', which nothing here serves (its driver not started?)"),
    (NEW_X_P.replace('"X"', '"Y"'),
     "for its own device 'Y' (a driver sends its own changes as a set*Vector; a new*Vector goes "
     "to another device's driver)"),
    (NEW_X_P.replace(' device="X"', ""), "without a device"),
])
def test_a_driver_s_command_that_reaches_nobody_is_warned_and_bounded(
    router: Router, bad: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A driver's new*Vector is passed to the driver of its device. For a device nothing here
    serves, for the driver's own device, or naming none, it was dropped with a debug line (or
    nothing at all): the driver's command did nothing and nobody could tell. It is dropped
    with a warning naming the driver, the element and why, from the drivers' budget, and the
    driver's next command still reaches its device."""
    d, watcher = served(router)
    dy = FakeDriver("dy")
    ready(router, dy)
    router.driver_frames(dy, frames(DEF_X_P.replace('"X"', '"Y"')))  # type: ignore[arg-type]
    watcher.got.clear()
    driver_drop_is_warned_and_bounded(
        router, caplog, dy, bad, f"driver dy sent <newNumberVector> {why}: dropped",
        [d, dy, watcher], NEW_X_P, d, "driver dy sent <newNumberVector>")
    assert dy.got == []


@pytest.mark.parametrize(("bad", "said"), [
    ('<newLightVector device="X" name="L"><oneLight name="l">Ok</oneLight></newLightVector>',
     "driver d sent <newLightVector>, which is not an INDI element a driver sends: dropped"),
    ("<hello/>", "driver d sent <hello>, which is not an INDI element a driver sends: dropped"),
    ('<enableBLOB device="X">Sometimes</enableBLOB>',
     """driver d sent <enableBLOB> with '<enableBLOB device="X">Sometimes</enableBLOB>', not """
     "Never, Also or Only: ignored"),
])
def test_a_driver_s_unknown_element_or_blob_mode_is_warned_and_bounded(
    router: Router, bad: str, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An element a driver has no business sending (or an enableBLOB with no INDI mode) was
    dropped with a debug line, or ignored without one: the driver's author never learnt why
    nothing happened. It is a warning from the drivers' budget; the driver's next set still
    reaches the clients, and a flood of it writes a bounded number of lines."""
    d, watcher = served(router)
    driver_drop_is_warned_and_bounded(router, caplog, d, bad, said, [d, watcher], SET_X_P,
                                      watcher, "driver d sent")


def test_a_chained_server_s_echo_of_a_command_for_a_device_not_its_own_stays_quiet(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """A chained server echoes every new*Vector its other clients send (notes 1.5.3), also
    for devices it does not provide (ours, in a two-way chain): routine, with every command,
    and the command reached its driver the other way. Dropped at debug level only."""
    d, watcher = served(router)
    r = FakeDriver("r", is_remote=True)
    ready(router, r)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        router.driver_frames(r, frames(NEW_X_P * FLOOD))  # type: ignore[arg-type]
    assert warnings(caplog) == [] and d.got == [] and watcher.got == []


# -- what is not dropped: getProperties whatever its version, Latin-1 text --------------------


@pytest.mark.parametrize("request_", [
    '<getProperties device="X"/>',
    '<getProperties version="2.0" switch="2.0" device="X"/>',
    '<getProperties version="banana" device="X"/>',
])
def test_a_client_s_getproperties_is_answered_whatever_its_version(
    router: Router, request_: str, caplog: pytest.LogCaptureFixture
) -> None:
    """indiserver ignores a client's version (notes 2.8) and so do we: INDIGO clients send
    version="2.0", the SPEC's own snoop form has none. Not dropped, so nothing to warn about:
    the client gets the device, and its driver never sees the client's version (a C driver
    exits on one it does not take)."""
    d, _ = served(router)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        c = client(router, "c", request_)
    assert [f.tag for f in Framer().feed(b"".join(c.got))  # type: ignore[union-attr]
            ] == ["defNumberVector", "defTextVector"]
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
    assert d.got == []


def test_latin1_text_passes_and_a_flood_of_malformed_new_vectors_is_bounded(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """A newTextVector whose text is not UTF-8 (KStars sends Latin-1, and drivers take it) is
    passed on without a word. One that is not well-formed XML is dropped with a warning naming
    the client, the element and expat's reason (``routing.admission``); thousands of them write at most
    the budget's lines, and the client's next request goes through."""
    d, watcher = served(router)
    sender = client(router, "sender", None)
    latin1 = ('<newTextVector device="X" name="Q"><oneText name="t">Z\xfcrich</oneText>'
              "</newTextVector>").encode("latin-1")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.client_frames(sender, Framer().feed(latin1))  # type: ignore[arg-type]
    assert d.got == [latin1] and watcher.got == [latin1] and warnings(caplog) == []
    bad = NEW_X_P.replace(">5<", ">5 &nbsp;<")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.client_frames(sender, frames(bad * FLOOD))  # type: ignore[arg-type]
    lines = warnings(caplog)
    assert 1 <= len(lines) <= 20
    assert lines[0] == ("client sender sent a malformed <newNumberVector> (undefined entity: "
                        "line 1, column 59): dropped")
    assert d.got == [latin1] and watcher.got == [latin1]
    then_a_good_request_flows(router, sender, d, watcher)


# -- real peers ----------------------------------------------------------------------------


def test_real_indilib_traffic_logs_no_warning(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """What indilib 1.9.9's simulators and command-line clients really send (tests/data/corpus)
    must not trip any of these warnings: a warning in every normal session is noise nobody
    reads. The CCD snoops a telescope that is not running and pings after each BLOB; the
    clients ask for devices and send partial, sexagesimal requests."""
    ccd, telescope = FakeDriver("indi_simulator_ccd"), FakeDriver("indi_simulator_telescope")
    ready(router, ccd, telescope)
    kstars = client(router, "kstars")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for driver, capture in ((telescope, "telescope-traffic.xml"), (ccd, "ccd-traffic.xml")):
            items = Framer().feed(corpus.read(capture))
            assert all(type(f) is Frame for f in items)
            router.driver_frames(driver, items)  # type: ignore[arg-type]
        for label in ("indi_getprop", "indi_setprop", "indi_eval"):
            tool = client(router, label, None)
            items = Framer().feed(corpus.read("indilib-clients-send.xml"))
            router.client_frames(tool, items)  # type: ignore[arg-type]
            router.client_frames(tool, frames("<pingReply uid='1'/>"))  # answering a ping
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []
    assert kstars.got and any(b"newNumberVector" in data for data in telescope.got)


def test_a_driver_s_device_less_vector_is_warned_within_the_budget(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    """A driver's def/set vector or delProperty naming no device is dropped with a warning,
    which had no budget: a driver sending its every update without a device wrote a line per
    update. It is within the drivers' warning budget now, and the driver's next update with a
    device still reaches the clients."""
    d, watcher = served(router)
    bad = SET_X_P.replace(' device="X"', "")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.driver_frames(d, frames(bad))  # type: ignore[arg-type]
    assert warnings(caplog) == ["driver d sent <setNumberVector> without device: dropped"]
    assert watcher.got == []
    router.driver_frames(d, frames(SET_X_P))  # type: ignore[arg-type]
    assert watcher.text() == SET_X_P
    caplog.clear()
    watcher.got.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        router.driver_frames(d, frames(bad * FLOOD + SET_X_P))  # type: ignore[arg-type]
    assert 1 <= len(warnings(caplog, "without device")) <= 20
    assert watcher.text() == SET_X_P
