"""Small streams that ask for a lot (issue 17): each class is refused with a clear error, or
decoded, within bounded memory and time. Streams are made here; the memory-bound cases run in a
child process under an address-space cap, so a regression fails instead of exhausting the machine."""

from __future__ import annotations

import resource
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ftm
from ftm import _core
from ftm.errors import BitstreamError, DecodeLimitError
from ftm.stream.coding import tensor_names

GIB = 1 << 30


def vector_stream(n: int, d: int, payload: bytes) -> bytes:
    record = _core.TensorRecord()
    record.name, record.kind, record.dims = "v", _core.FeatureKind.VECTOR, [n, d]
    q = _core.ScalarQuantBox()
    q.qp = 22
    record.scalar_quant, record.cabac = q, payload
    stream = _core.Stream()
    stream.tensors = [record]
    return _core.write_stream(stream)


def zeros_stream(n: int, d: int) -> bytes:
    return vector_stream(n, d, ftm.encode_levels(np.zeros((n, d), np.int32)))


def run_capped(code: str, data: bytes, address_space: int, seconds: float) -> subprocess.CompletedProcess:
    """Run ``code`` (with ``data`` as the bytes DATA) in a child limited to ``address_space`` bytes."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    script = "import sys, ftm, numpy as np\nDATA = sys.stdin.buffer.read()\n" + textwrap.dedent(code)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], input=data, capture_output=True, preexec_fn=cap, timeout=120)
    assert time.perf_counter() - start < seconds, done.stderr.decode()[-2000:]
    return done


# --- memory amplification in the level decoder -------------------------------------------------


def test_one_vector_of_many_dimensions_keeps_no_state_per_dimension():
    # 2^24 dimensions: 872 MB of per-dimension state before (twice, in the binding); now
    # the decoded output (64 MB of levels, 64 MB of features) and nothing per dimension.
    data = zeros_stream(1, 1 << 24)
    assert len(data) < 200
    done = run_capped("x = ftm.decode(DATA); assert x.shape == (1, 1 << 24) and not x.any()", data, 1 * GIB, 20)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_per_dimension_state_past_its_share_of_memory_is_refused_before_allocating():
    data = zeros_stream(2, 1 << 23)  # 2 x 2^23 levels: 436 MB of state, above 2 GiB / 16
    done = run_capped(
        """
        try:
            ftm.decode(DATA)
        except ftm.errors.DecodeLimitError as e:
            print(e)
        """,
        data, 400 << 20, 10,
    )  # fmt: skip
    message = done.stdout.decode()
    assert done.returncode == 0 and "max_memory" in message and "decoder state" in message, done.stderr.decode()
    assert "--max-memory 0" in message and "max_memory=None" in message
    levels = ftm.decode(data, max_memory=8 * GIB)  # raised: it decodes
    assert levels.shape == (2, 1 << 23)


def test_core_refuses_what_its_own_limits_forbid():
    data = ftm.encode_levels(np.zeros((2, 1000), np.int32))
    with pytest.raises(DecodeLimitError, match="1999"):
        ftm.decode_levels(data, 2, 1000, max_levels=1999)
    with pytest.raises(DecodeLimitError, match="decoder state"):
        ftm.decode_levels(data, 2, 1000, max_state_bytes=1000)
    assert ftm.decode_levels(data, 2, 1000, max_levels=None, max_state_bytes=None).shape == (2, 1000)


# --- zero bombs --------------------------------------------------------------------------------


def test_a_zero_bomb_past_max_elements_is_refused_at_once_with_how_to_lift_it(tmp_path):
    # 2^28 + 2^18 levels fit a 1,030-byte body (2^18 levels a byte); the bytes are never decoded.
    data = vector_stream(1, (1 << 28) + (1 << 18), b"\x59\x0d" + bytes(1030))
    start = time.perf_counter()
    with pytest.raises(DecodeLimitError, match=r"max_elements = 268435456.*ftm-decode --max-elements 0"):
        ftm.decode(data)
    assert time.perf_counter() - start < 2  # refused before the bytes are looked at
    path = tmp_path / "bomb.ftm"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-m", "ftm.cli.decode", "-b", str(path)], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "max_elements" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_limits_are_the_callers_to_set():
    data = zeros_stream(4, 300)
    with pytest.raises(DecodeLimitError, match="1200 decoded elements exceed the limit max_elements = 1000"):
        ftm.decode(data, max_elements=1000)
    with pytest.raises(DecodeLimitError, match="max_memory = 100"):
        ftm.decode(data, max_memory=100)
    assert ftm.decode(data, max_elements=1200, max_memory=None).shape == (4, 300)
    with pytest.raises(ValueError, match="max_elements must be a positive integer"):
        ftm.decode(data, max_elements=0)


# --- quadratic parsing -------------------------------------------------------------------------


def with_boxes(stream: bytes, boxes: bytes) -> bytes:
    """``boxes`` inserted just before the FEND box."""
    return stream[:-8] + boxes + stream[-8:]


def distinct_types(count: int):
    letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    for i in range(count):
        yield bytes([letters[26 + i % 26], letters[i // 26 % 52], letters[i // (26 * 52) % 52], letters[i // (26 * 52 * 52)]])


def test_many_distinct_ancillary_boxes_parse_in_linear_time():
    base = zeros_stream(1, 4)
    boxes = b"".join(struct.pack("<I", 0) + t for t in distinct_types(200_000))  # 1.6 MB; 67 s before
    start = time.perf_counter()
    stream = _core.parse_stream(with_boxes(base, boxes))
    assert time.perf_counter() - start < 15  # about 1 s linear, on a loaded machine a few
    assert len(stream.tensors[0].ancillary_types) == 200_000
    with pytest.raises(BitstreamError, match="appears twice"):
        _core.parse_stream(with_boxes(base, boxes + boxes[:8]))


def records(count: int) -> bytes:
    record = zeros_stream(1, 1)[8:-8]
    name_at = record.index(b"\x01\x00v") + 2  # name_length 1, name "v"
    size = struct.unpack_from("<I", record, 0)[0] + 3  # the TENS box grows by 3 bytes
    body = [struct.pack("<I", size) + record[4 : name_at - 2] + struct.pack("<H", 4) + b"%04x" % i + record[name_at + 1 :] for i in range(count)]
    return zeros_stream(1, 1)[:8] + b"".join(body) + b"\x00\x00\x00\x00FEND"


def parse_seconds(data: bytes) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        names = tensor_names(data)
        best = min(best, time.perf_counter() - start)
    assert len(set(names)) == len(names)
    return best


def test_the_largest_number_of_records_parses_in_linear_time():
    # 65535 records took 5.2 s through an O(T^2) name check; a quarter of them then took 1/16 the
    # time, now a quarter (ratios, not seconds: the machine may be loaded)
    full, quarter = parse_seconds(records(65535)), parse_seconds(records(65535 // 4))
    assert full < 8 * quarter + 0.05, (full, quarter)
