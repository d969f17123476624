"""Feature vectors in a .ftm stream: the QSCL, NORM and CABC boxes (SPEC.md 3.6-3.8).

:mod:`ftm.vectors` normalizes, quantizes and entropy-codes N x D vectors;
this module puts its payload into a tensor record and back, with the same
checksums and figures as a feature-map record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from ftm import _core
from ftm.config import Config
from ftm.entropy import decode_levels
from ftm.records import hash_box, new_record, reconstruction_error, source_tensor
from ftm.vectors import NORMALIZATIONS, VectorPayload, encode_vectors, vectors_from_levels

__all__ = ["VectorResult", "encode_vector_record", "decode_vector_record"]


@dataclass(frozen=True)
class VectorResult:
    """One coded set of vectors; the fields a stream report reads, as for maps."""

    record: "_core.TensorRecord"
    levels: np.ndarray
    features: np.ndarray
    mse: float
    max_error: float
    decode_seconds: float
    frames_psnr: float = float("nan")  # no frames: vectors do not go through a video codec
    encoder_seconds: float = 0.0  # no external encoder or decoder
    decoder_seconds: float = 0.0
    num_frames: int = 0
    frame_shape: Tuple[int, int] = (0, 0)


def _payload_of(record: "_core.TensorRecord") -> VectorPayload:
    q = record.scalar_quant
    n, d = record.dims
    return VectorPayload(
        n=n,
        d=d,
        qp=q.qp,
        normalization=NORMALIZATIONS[q.normalization],
        midpoint=q.reconstruction == 1,
        levels=record.cabac,
        norms=record.norms if q.normalization == 1 else None,
        scale=q.scale if q.normalization == 2 else None,
    )


def encode_vector_record(x: np.ndarray, name: str, cfg: Config) -> VectorResult:
    """Code one N x D float tensor into a tensor record."""
    a = source_tensor(x, name, 2, "feature vectors must be N x D")
    payload = encode_vectors(a, cfg.qp, cfg.normalization, cfg.scale, cfg.reconstruction == "midpoint")
    t0 = time.perf_counter()
    levels = decode_levels(payload.levels, payload.n, payload.d)
    features = vectors_from_levels(levels, payload)
    decode_seconds = time.perf_counter() - t0

    record = new_record(a, name, _core.FeatureKind.VECTOR)
    box = _core.ScalarQuantBox()
    box.qp = payload.qp
    box.reconstruction = int(payload.midpoint)
    box.normalization = NORMALIZATIONS.index(payload.normalization)
    if payload.scale is not None:
        box.scale = payload.scale
    record.scalar_quant = box
    if payload.norms is not None:
        record.norms = payload.norms
    record.cabac = payload.levels
    record.hash = hash_box(levels, features)

    mse, max_error = reconstruction_error(features, a)
    return VectorResult(
        record=record,
        levels=levels,
        features=features,
        mse=mse,
        max_error=max_error,
        decode_seconds=decode_seconds,
    )


def decode_vector_record(record: "_core.TensorRecord") -> Tuple[np.ndarray, np.ndarray]:
    """Decoded int32 levels and float32 vectors of a vector record."""
    payload = _payload_of(record)
    try:
        levels = decode_levels(payload.levels, payload.n, payload.d)
    except _core.BitstreamError as e:
        raise _core.BitstreamError(f"tensor {record.name!r}, box CABC: {e}") from None
    return levels, vectors_from_levels(levels, payload)
