"""SPEC.md 4.1: the codes are normative; the features conform within a tolerance of a float64
formula, which the hash check and ftm-conformance apply when only the features MD5 differs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ftm import _core
from ftm.codecs.options import DecodeOptions
from ftm.errors import StreamVerificationError
from ftm.stream.coding import RecordDecoder, check_hash
from ftm.stream.conformance import check_stream
from ftm.stream.tolerance import features_deviation

# SPEC.md 4.1's tolerance is of the dequantization formulas; a learned record's float output is a
# network's, checked against reference arrays instead (SPEC.md 3.12-3.14, test_conformance).
STREAMS = sorted(p for p in (Path(__file__).resolve().parents[1] / "conformance" / "streams").glob("*.ftm")
                 if not p.name.startswith("learned_"))  # fmt: skip


def decoded(path):
    records = _core.parse_stream(path.read_bytes()).tensors
    return [(r, RecordDecoder(DecodeOptions()).decode(r)) for r in records]


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.stem)
def test_every_conformance_stream_decodes_within_the_tolerance(path):
    for record, d in decoded(path):
        assert features_deviation(record, d.codes, d.features) is None


@pytest.mark.parametrize("name", ["log8_channel_odd_shape", "minmax8_tiled_per_channel_n3", "vector_l2_floor", "vector_scale_midpoint"])
def test_a_unit_in_the_last_place_conforms_and_a_real_error_does_not(name):
    [(record, d)] = decoded(Path(STREAMS[0]).parent / f"{name}.ftm")
    flat = d.features.reshape(-1)
    i = int(np.argmax(np.abs(flat)))
    ulp = d.features.copy()
    ulp.reshape(-1)[i] = np.nextafter(flat[i], np.float32(np.inf))
    assert features_deviation(record, d.codes, ulp) is None
    check_hash(record, d.codes, ulp)  # the features MD5 differs, the codes match: it conforms
    wrong = d.features.copy()
    wrong.reshape(-1)[i] = flat[i] * np.float32(1.0001)
    assert "element" in features_deviation(record, d.codes, wrong)
    with pytest.raises(StreamVerificationError, match="not within the tolerance"):
        check_hash(record, d.codes, wrong)


def test_conformance_accepts_features_within_tolerance_and_says_so(monkeypatch):
    import json

    path = Path(STREAMS[0]).parent / "log8_channel_odd_shape.ftm"
    expected = json.loads((path.parents[1] / "expected.json").read_text())["streams"][path.name]
    tensor = expected["tensors"]["features"]
    check = check_stream(str(path), {"tensors": {"features": {**tensor, "features_md5": "0" * 32}}})
    assert check.passed and any("within the tolerance" in n for n in check.notes), check
    check = check_stream(str(path), {"tensors": {"features": {**tensor, "codes_md5": "0" * 32}}})
    assert not check.passed
