"""The .ftm container through Python: round trips, errors, and fuzzing."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftm import _core
from ftm.errors import BitstreamError


def map_record(name="features"):
    r = _core.TensorRecord()
    r.name = name
    r.kind = _core.FeatureKind.MAP
    r.dims = [2, 3, 5, 7]
    q = _core.LogQuantBox()
    q.bit_depth, q.offset, q.max_log = 10, -0.25, 3.5
    r.log_quant = q
    p = _core.PackBox()
    p.mode, p.grid_rows, p.grid_cols, p.permutation = _core.PackMode.TILED, 2, 2, [1, 2, 0]
    r.pack = p
    h = _core.HevcBox()
    h.coded_bit_depth, h.qp, h.encoder_id, h.payload = 10, -3, 1, b"\x00\x00\x00\x01\x40\x01"
    r.hevc = h
    return r


def vector_record(n=4):
    r = _core.TensorRecord()
    r.name = "emb"
    r.kind = _core.FeatureKind.VECTOR
    r.dims = [n, 16]
    q = _core.ScalarQuantBox()
    q.qp, q.normalization = 30, 1
    r.scalar_quant = q
    r.norms = np.linspace(0, 2, n).astype(np.float32)
    r.cabac = b"\x05\x06"
    return r


def stream_bytes(*records):
    s = _core.Stream()
    s.tensors = list(records)
    return _core.write_stream(s)


VALID = stream_bytes(map_record(), vector_record())


def test_round_trip_through_python():
    s = _core.parse_stream(VALID)
    m, v = s.tensors
    assert (m.name, m.dims, m.log_quant.bit_depth, m.log_quant.max_log) == ("features", [2, 3, 5, 7], 10, 3.5)
    assert (m.pack.grid_rows, m.pack.permutation, m.hevc.qp, m.hevc.payload) == (2, [1, 2, 0], -3, b"\x00\x00\x00\x01\x40\x01")
    np.testing.assert_array_equal(v.norms, np.linspace(0, 2, 4).astype(np.float32))
    assert v.cabac == b"\x05\x06"
    assert _core.write_stream(s) == VALID


def test_error_is_a_value_error_naming_the_element():
    assert issubclass(BitstreamError, ValueError)
    r = map_record()
    h = r.hevc  # a copy: assigned back below
    h.qp = 60
    r.hevc = h
    with pytest.raises(BitstreamError, match="box HEVC, qp: 60 outside"):
        stream_bytes(r)


def test_trace_lists_syntax_elements():
    _, trace = _core.parse_stream(VALID, trace=True)
    names = {(box, name) for _, box, name, _ in trace}
    assert ("QLOG", "max_log") in names and ("NORM", "norm") in names and ("stream header", "magic") in names
    offsets = [off for off, *_ in trace]
    assert offsets == sorted(offsets)


@pytest.mark.parametrize("cut", range(0, len(VALID), 7))
def test_truncations_are_rejected(cut):
    with pytest.raises(BitstreamError):
        _core.parse_stream(VALID[:cut])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=256))
def test_random_bytes_never_crash(data):
    try:
        _core.parse_stream(data)
    except BitstreamError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=4))
def test_mutated_streams_parse_or_fail_cleanly(edits):
    data = bytearray(VALID)
    for i, v in edits:
        data[i] = v
    try:
        _core.parse_stream(bytes(data))
    except BitstreamError:
        pass


def test_huge_claimed_sizes_do_not_allocate():
    # A PACK box claiming 2^32-1 channels, or a box size far past the end.
    data = bytearray(VALID)
    data[8:12] = (0xFFFFFFF0).to_bytes(4, "little")
    with pytest.raises(BitstreamError, match="exceeds"):
        _core.parse_stream(bytes(data))
