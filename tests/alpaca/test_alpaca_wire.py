"""The Alpaca wire (indipyalpaca.wire): the rules both directions of the bridge share.

Protects: the value parsers accept exactly what Alpaca clients send (invariant-culture numbers,
`true`/`false` in any casing) and refuse the rest that Python's own `int()`/`float()` would
take; GET keys match in any casing and PUT keys only exactly; ClientTransactionID is echoed,
0 when absent or mis-cased on PUT; ServerTransactionID counts from 1 without repeats; the
envelope never holds NaN; ImageBytes decodes what it encodes, in the element order the
reference prescribes (checked against numpy's transpose recipe).
"""

from __future__ import annotations

import math
import struct
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyalpaca.wire import AlpacaError
from indipyalpaca.wire import BadRequest
from indipyalpaca.wire import DeviceType
from indipyalpaca.wire import ErrorNumber
from indipyalpaca.wire import Params
from indipyalpaca.wire import ServerTransactionCounter
from indipyalpaca.wire import device_type_from_url
from indipyalpaca.wire import envelope
from indipyalpaca.wire import imagebytes
from indipyalpaca.wire import parse_bool
from indipyalpaca.wire import parse_float
from indipyalpaca.wire import parse_int
from indipyalpaca.wire import parse_uint32
from indipyalpaca.wire import reply_body


@given(st.booleans(), st.lists(st.sampled_from([str.upper, str.lower, str.title]), min_size=1))
def test_booleans_in_any_casing(value: bool, casings: list) -> None:
    text = "true" if value else "false"
    for casing in casings:
        assert parse_bool(casing(text)) is value


@pytest.mark.parametrize("text", ["", "1", "0", "yes", "123456", "asdqwe", "tru"])
def test_other_booleans_are_bad_requests(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_bool(text, "Connected")


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_int32_round_trip(number: int) -> None:
    assert parse_int(str(number)) == number


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_uint32_round_trip(number: int) -> None:
    assert parse_uint32(str(number)) == number


@pytest.mark.parametrize("text", ["", " ", "-1", "1_000", "4294967296", "1.0", "abc", "0x10"])
def test_bad_transaction_ids(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_uint32(text, "ClientTransactionID")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_round_trip(number: float) -> None:
    assert parse_float(repr(number)) == number


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1_0", "1,5", "", "asduio6fghZZ",
                                  "1e999"])
def test_floats_python_takes_but_alpaca_does_not(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_float(text, "Position")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1,
               max_size=20), st.text(max_size=10))
def test_get_keys_match_in_any_casing_put_keys_only_exactly(key: str, value: str) -> None:
    get = Params([(key.swapcase(), value)], exact=False)
    assert get.get(key) == value and get.get(key.upper()) == value
    put = Params([(key, value)], exact=True)
    assert put.required(key) == value
    if key.swapcase() != key:
        with pytest.raises(BadRequest, match="case-sensitive"):
            put.required(key.swapcase())


@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=0, max_value=2**32 - 1))
def test_transaction_ids_are_read_from_either_verb(client: int, transaction: int) -> None:
    items = [("ClientID", str(client)), ("ClientTransactionID", str(transaction))]
    assert Params(items, exact=True).ids() == (client, transaction)
    lowered = [(k.lower(), v) for k, v in items]
    assert Params(lowered, exact=False).ids() == (client, transaction)
    # A mis-cased key in a PUT body is an unknown key: ignored, echo 0.
    assert Params(lowered, exact=True).ids() == (0, 0)


def test_a_present_but_bad_transaction_id_is_a_bad_request() -> None:
    with pytest.raises(BadRequest):
        Params([("ClientTransactionID", "-5")], exact=False).ids()
    assert Params([("ClientTransactionID", "-5")], exact=False).client_transaction_id() == 0


def test_server_transaction_ids_count_from_one_and_never_repeat() -> None:
    counter = ServerTransactionCounter()
    seen: list[int] = []

    def take() -> None:
        seen.extend(counter.next() for _ in range(2000))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 8001))


def test_the_envelope_keeps_its_rules() -> None:
    ok = envelope(3, 4, value=1.5)
    assert ok == {"Value": 1.5, "ClientTransactionID": 3, "ServerTransactionID": 4,
                  "ErrorNumber": 0, "ErrorMessage": ""}
    with pytest.raises(ValueError):
        envelope(3, 4, error_number=ErrorNumber.NOT_IMPLEMENTED)
    with pytest.raises(ValueError):
        reply_body(envelope(1, 1, value=math.nan))
    assert b'"Value"' not in reply_body(envelope(1, 1))
    error = AlpacaError.not_implemented("Halt")
    assert error.number == 0x400 and "Halt" in error.message


def test_device_types_by_url_are_lower_case_only() -> None:
    assert device_type_from_url("filterwheel") is DeviceType.FILTERWHEEL
    assert device_type_from_url("FilterWheel") is None
    assert DeviceType.CAMERA.interface_version == 4
    assert DeviceType.OBSERVINGCONDITIONS.interface_version == 2


images = st.integers(1, 7).flatmap(lambda w: st.integers(1, 7).flatmap(
    lambda h: st.sampled_from([1, 3]).flatmap(lambda p: st.tuples(
        st.just(w), st.just(h), st.just(p),
        st.lists(st.integers(-(2**31), 2**31 - 1) | st.integers(0, 300),
                 min_size=w * h * p, max_size=w * h * p)))))


@given(images, st.integers(0, 2**32 - 1), st.integers(1, 2**32 - 1))
def test_imagebytes_round_trip(image: tuple, ctid: int, stid: int) -> None:
    width, height, planes, rows = image
    frame = imagebytes.from_rows(rows, width, height, planes, ctid, stid)
    wire = imagebytes.encode(frame)
    back = imagebytes.decode(wire)
    assert back == frame
    assert imagebytes.to_rows(back) == (width, height, planes, rows)
    # The element order is the reference's: numpy's recipe reads the same FITS-ordered image.
    header = struct.unpack_from("<11i", wire)
    assert header[:2] == (1, 0) and header[4] == 44 and header[5] == 2
    dtype = {6: "u1", 8: "<u2", 1: "<i2", 2: "<i4"}[header[6]]
    flat = np.frombuffer(wire, dtype=dtype, offset=header[4])
    expected = np.array(rows, dtype=np.int64).reshape(planes, height, width)
    if planes == 1:
        assert header[7] == 2
        assert (flat.reshape(width, height).T == expected[0]).all()
    else:
        assert header[7] == 3
        assert (flat.reshape(width, height, planes).transpose(2, 1, 0) == expected).all()


def test_imagebytes_picks_the_narrowest_type() -> None:
    assert imagebytes.narrowest_type([0, 255]) is imagebytes.ElementType.BYTE
    assert imagebytes.narrowest_type([0, 65535]) is imagebytes.ElementType.UINT16
    assert imagebytes.narrowest_type([-1, 3]) is imagebytes.ElementType.INT16
    assert imagebytes.narrowest_type([-1, 65535]) is imagebytes.ElementType.INT32


@given(st.integers(0x400, 0xFFF), st.text(min_size=1, max_size=40))
def test_imagebytes_error_frames(number: int, message: str) -> None:
    back = imagebytes.decode(imagebytes.error_frame(number, message, 7, 8))
    assert (back.error_number, back.message, back.client_transaction_id) == (number, message, 7)


@given(st.binary(max_size=120))
def test_garbage_is_a_clear_imagebytes_error(junk: bytes) -> None:
    try:
        imagebytes.decode(junk)
    except imagebytes.ImageBytesError:
        pass
