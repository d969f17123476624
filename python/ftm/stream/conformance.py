"""Conformance checking of .ftm streams against conformance/SPEC.md.

A conformance folder holds ``expected.json`` and two sets of streams:

- ``streams/*.ftm``: valid streams. Each must parse (every syntax element is
  read and every constraint of the spec checked), decode, and give the
  expected MD5 of the decoded integer tensor (normative) of each of its
  tensors, and the expected MD5 of the dequantized float32 tensor or,
  where that differs, features within the tolerance of SPEC.md 4.1; the
  checksums the stream itself carries are checked the same way.
- ``malformed/*.ftm``: streams that break the spec. Each must be rejected
  with an error whose message contains the expected text.

A stream whose video payloads the chosen decoder does not decode (VVC with
``hm``, HEVC with ``vtm``) is skipped, not failed, once it has parsed.

A learned stream names the model file that decodes it (``models/``, a
``model`` entry). Its integer codes are checked by MD5 like any other; its
float32 features, a network's output that depends on the platform's
arithmetic, against a reference array (``reference/*.npy``) within the
entry's ``features_tolerance`` (``|decoded - reference| <= atol + rtol *
|reference|``), and its own hash box for the codes only (SPEC.md 3.10).

``expected.json`` is written only by ``scripts/make_conformance.py``; tests
and ``ftm-conformance`` only read it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from ftm._core import bitstream as container
from ftm.codecs.options import DecodeOptions
from ftm.codecs.video import CODECS, DECODERS
from ftm.codecs.video_maps import payload_of
from ftm.errors import BitstreamError, CodecError, ModelError, StreamVerificationError
from ftm.stream.coding import RecordDecoder
from ftm.stream.records import md5
from ftm.stream.tolerance import features_deviation

__all__ = ["StreamCheck", "check_folder", "check_stream", "check_malformed", "MANIFEST"]

MANIFEST = "expected.json"
REJECTIONS = (BitstreamError, CodecError, StreamVerificationError, ModelError)


@dataclass
class StreamCheck:
    name: str
    passed: bool
    elements: int = 0  # syntax elements parsed
    tensors: int = 0
    problems: List[str] = field(default_factory=list)
    rejection: str = ""  # malformed streams: the error they were rejected with
    notes: List[str] = field(default_factory=list)  # passed, with something worth saying
    skipped: str = ""  # why the stream was not decoded: the decoder does not decode its payloads


def _not_decodable(stream, decoder: str) -> str:
    """Why ``decoder`` cannot decode the stream's video payloads ("" when it can)."""
    able = DECODERS[decoder].codecs if decoder in DECODERS else tuple(CODECS)
    codecs = {payload_of(r)[1] for r in stream.tensors if r.kind == container.FeatureKind.MAP}
    missing = sorted(codecs - set(able))
    return f"the {decoder} decoder does not decode {', '.join(CODECS[c] for c in missing)}" if missing else ""


def _in_folder(path: str, entry: Dict, key: str) -> Optional[str]:
    """A file an entry names, relative to the conformance folder (the parent of streams/ and malformed/)."""
    name = entry.get(key)
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(path))), name) if name else None


def _reference_problem(name: str, features: np.ndarray, tensor: Dict, path: str) -> Optional[str]:
    """A learned stream's float features against its reference array, within the entry's tolerance."""
    want = np.load(_in_folder(path, tensor, "features_reference"), allow_pickle=False)
    tol = tensor["features_tolerance"]
    if want.shape != features.shape or not np.allclose(features, want, rtol=tol["rtol"], atol=tol["atol"]):
        worst = float(np.max(np.abs(features.astype(np.float64) - want))) if want.shape == features.shape else float("nan")
        return f"tensor {name!r}: decoded features differ from {tensor['features_reference']} beyond {tol} (largest difference {worst:.3g})"
    return None


def check_stream(
    path: str, expected: Dict, decoder: str = "ffmpeg", hm_dir: Optional[str] = None, vtm_dir: Optional[str] = None
) -> StreamCheck:
    """Parse, decode and compare one valid stream with its expected values."""
    check = StreamCheck(os.path.basename(path), passed=False)
    with open(path, "rb") as f:
        data = f.read()
    try:
        stream, trace = container.parse_stream(data, trace=True)
    except BitstreamError as e:
        check.problems.append(f"does not parse: {e}")
        return check
    check.elements, check.tensors = len(trace), len(stream.tensors)
    check.skipped = _not_decodable(stream, decoder)
    if check.skipped:
        check.passed = True
        return check
    want = expected.get("tensors", {})
    if sorted(r.name for r in stream.tensors) != sorted(want):
        check.problems.append(f"tensors {[r.name for r in stream.tensors]}, expected {sorted(want)}")
    records = RecordDecoder(DecodeOptions(decoder=decoder, hm_dir=hm_dir or "", vtm_dir=vtm_dir or "", model=_in_folder(path, expected, "model") or ""))
    for record in stream.tensors:
        try:
            decoded = records.decode(record)
            codes, features = decoded.codes, decoded.features
        except REJECTIONS as e:
            check.problems.append(f"tensor {record.name!r} does not decode: {e}")
            continue
        tensor = want.get(record.name)
        if tensor is None:
            continue
        if list(features.shape) != tensor["shape"]:
            check.problems.append(f"tensor {record.name!r}: shape {list(features.shape)}, expected {tensor['shape']}")
        if md5(codes).hex() != tensor["codes_md5"]:
            check.problems.append(f"tensor {record.name!r}: MD5 of the decoded codes {md5(codes).hex()}, expected {tensor['codes_md5']}")
        elif "features_reference" in tensor:
            problem = _reference_problem(record.name, features, tensor, path)
            if problem:
                check.problems.append(problem)
        elif md5(features).hex() != tensor["features_md5"]:
            # the codes are normative; the features conform within SPEC.md 4.1's tolerance
            deviation = features_deviation(record, codes, features)
            if deviation is None:
                check.notes.append(f"tensor {record.name!r}: features MD5 differs (informative), features within the tolerance")
            else:
                check.problems.append(f"tensor {record.name!r}: features outside the tolerance of SPEC.md 4.1: {deviation}")
    check.passed = not check.problems
    return check


def check_malformed(
    path: str, expected_error: str, decoder: str = "ffmpeg", hm_dir: Optional[str] = None,
    vtm_dir: Optional[str] = None, model: Optional[str] = None,
) -> StreamCheck:  # fmt: skip
    """A malformed stream must be rejected, with ``expected_error`` in the message (``model``: for learned records)."""
    check = StreamCheck(os.path.basename(path), passed=False)
    with open(path, "rb") as f:
        data = f.read()
    try:
        stream = container.parse_stream(data)
        check.skipped = _not_decodable(stream, decoder)
        if check.skipped:
            check.passed = True
            return check
        records = RecordDecoder(DecodeOptions(decoder=decoder, hm_dir=hm_dir or "", vtm_dir=vtm_dir or "", model=model or ""))
        for record in stream.tensors:
            records.decode(record)
    except REJECTIONS as e:
        check.rejection = str(e).splitlines()[0]
        check.passed = expected_error in str(e)
        if not check.passed:
            check.problems.append(f"rejected, but the message lacks {expected_error!r}: {e}")
        return check
    check.problems.append("accepted, but it breaks the spec")
    return check


def check_folder(
    folder: str, decoder: str = "ffmpeg", hm_dir: Optional[str] = None, vtm_dir: Optional[str] = None
) -> List[StreamCheck]:
    """Every stream a conformance folder's manifest lists, valid and malformed."""
    manifest_path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(manifest_path):
        raise FileNotFoundError(f"no {MANIFEST} in {folder!r}: not a conformance folder")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    checks = [
        check_stream(os.path.join(folder, "streams", name), expected, decoder, hm_dir, vtm_dir)
        for name, expected in sorted(manifest["streams"].items())
    ]
    checks += [
        check_malformed(os.path.join(folder, "malformed", name), entry["error"], decoder, hm_dir, vtm_dir,
                        os.path.join(folder, entry["model"]) if "model" in entry else None)  # fmt: skip
        for name, entry in sorted(manifest["malformed"].items())
    ]  # fmt: skip
    return checks
