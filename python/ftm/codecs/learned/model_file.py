"""Model files of the learned vector codecs: safetensors weights and a JSON header, one file.

A model file is a ``.safetensors`` file (numpy-readable, no pickle) whose
``__metadata__`` holds one entry, ``"ftm_model"``: the header as JSON. The
header is read and checked before any weight is loaded (CompressAI keeps a
model as an ``nn.Module`` plus a state dict; FTM keeps the file, and the
stream records its sha256). Header fields:

- ``format`` "ftm-learned-model", ``format_version`` 1, ``ftm_version``;
- ``method``: one of :data:`METHODS`;
- ``dims``: D, the length of the vectors it codes;
- ``architecture``: what the weights are (method-specific, see
  :mod:`ftm.codecs.learned.networks`), e.g. ``latent_dims``, ``hidden``,
  ``r_clip`` for PRO;
- ``hyperparameters``: how it was trained (lambda, epochs, batch size,
  learning rate, optimizer, initialization ...);
- ``training_set``: the labelled set's content digest, count and source;
- ``seed``, ``software`` (package versions), ``training`` (figures of the
  run: time, final loss, rate) and ``command``.

Weights are float32 tensors with the names and shapes the method's
architecture lists; a file with others is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping

import numpy as np

from ftm._atomic import write_bytes_atomic
from ftm._version import __version__
from ftm.errors import ModelError

__all__ = ["FORMAT", "FORMAT_VERSION", "METADATA_KEY", "METHODS", "ModelFile", "model_bytes", "parse_model",
           "read_model_file", "write_model_file"]  # fmt: skip

FORMAT = "ftm-learned-model"
FORMAT_VERSION = 1
METADATA_KEY = "ftm_model"
# In the order of the container's LMOD method codes 0..5 (conformance/SPEC.md).
METHODS = ("sq-e", "pro", "pro-e", "pq", "opq", "dmofc")


@dataclass(frozen=True, eq=False)
class ModelFile:
    """A read model: its header, its float32 weights (read-only) and the sha256 of the file's bytes."""

    header: dict
    weights: Mapping[str, np.ndarray]
    sha256: str
    path: str = ""

    @property
    def method(self) -> str:
        return str(self.header["method"])

    @property
    def dims(self) -> int:
        return int(self.header["dims"])

    @property
    def architecture(self) -> dict:
        return dict(self.header["architecture"])

    def describe(self) -> str:
        return f"{self.method} model {self.path or '(in memory)'} (sha256 {self.sha256[:16]}...)"


def _check_header(header: object, where: str) -> dict:
    from ftm.codecs.learned.networks import expected_weights

    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelError(f"{where}: not an FTM model file (its header's format is not {FORMAT!r})")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{where}: model format_version {header.get('format_version')!r} is not supported (expected {FORMAT_VERSION})")
    if header.get("method") not in METHODS:
        raise ModelError(f"{where}: unknown method {header.get('method')!r}; expected one of {', '.join(METHODS)}")
    dims = header.get("dims")
    if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
        raise ModelError(f"{where}: dims must be a positive integer, got {dims!r}")
    if not isinstance(header.get("architecture"), dict):
        raise ModelError(f"{where}: the header has no architecture")
    try:
        expected_weights(header)  # the architecture's own checks
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{where}: bad architecture for method {header['method']!r}: {exc}") from None
    return header


def _check_weights(header: dict, weights: Mapping[str, np.ndarray], where: str) -> Dict[str, np.ndarray]:
    from ftm.codecs.learned.networks import expected_weights

    expected = expected_weights(header)
    if set(weights) != set(expected):
        extra, missing = sorted(set(weights) - set(expected)), sorted(set(expected) - set(weights))
        raise ModelError(f"{where}: weights do not match the {header['method']} architecture (missing {missing}, unexpected {extra})")
    out = {}
    for name, shape in expected.items():
        a = np.asarray(weights[name])
        if a.dtype != np.float32 or a.shape != shape:
            raise ModelError(f"{where}: weight {name!r} is {a.dtype} {a.shape}, expected float32 {shape}")
        if not np.all(np.isfinite(a)):
            raise ModelError(f"{where}: weight {name!r} is not finite")
        a = np.array(a, copy=True)
        a.flags.writeable = False
        out[name] = a
    return out


def model_bytes(header: dict, weights: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of a model file: checked header and weights, serialized by safetensors."""
    from safetensors.numpy import save

    full = dict(header)
    full.setdefault("format", FORMAT)
    full.setdefault("format_version", FORMAT_VERSION)
    full.setdefault("ftm_version", __version__)
    checked = _check_weights(_check_header(full, "model"), weights, "model")
    text = json.dumps(full, sort_keys=True, separators=(",", ":"))
    return save({k: np.ascontiguousarray(v) for k, v in sorted(checked.items())}, metadata={METADATA_KEY: text})


def write_model_file(path, header: dict, weights: Mapping[str, np.ndarray]) -> ModelFile:
    """Write a model file atomically and return it as read back."""
    data = model_bytes(header, weights)
    write_bytes_atomic(path, data)
    return parse_model(data, str(path))


def parse_model(data: bytes, where: str = "model") -> ModelFile:
    """A model from a file's bytes: the header checked before the weights are read."""
    header = _check_header(_read_header(data, where), where)
    try:
        from safetensors.numpy import load

        tensors = load(data)
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise ModelError(f"{where}: not a valid safetensors file ({exc})") from None
    return ModelFile(header, _check_weights(header, tensors, where), hashlib.sha256(data).hexdigest(), where)


def _read_header(data: bytes, where: str) -> dict:
    # The safetensors layout: u64 little-endian header length, then the JSON header.
    if len(data) < 8:
        raise ModelError(f"{where}: not a model file (too short)")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise ModelError(f"{where}: not a model file (its header length exceeds the file)")
    try:
        meta = json.loads(data[8 : 8 + n].decode("utf-8")).get("__metadata__") or {}
        return json.loads(meta[METADATA_KEY])
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, TypeError):
        raise ModelError(f"{where}: not an FTM model file (no {METADATA_KEY!r} header in its safetensors metadata)") from None


def read_model_file(path) -> ModelFile:
    """Read and check a model file (ModelError on anything wrong with it)."""
    p = Path(path)
    if p.is_dir():
        raise ModelError(f"model file {str(p)!r} is a folder")
    if not p.is_file():
        raise ModelError(f"model file {str(p)!r} does not exist")
    return parse_model(p.read_bytes(), str(p))
