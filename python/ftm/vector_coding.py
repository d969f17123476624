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
from ftm.maps import SOURCE_DTYPES, md5
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
    a = np.asarray(x)
    if a.ndim != 2:
        raise ValueError(f"tensor {name!r}: feature vectors must be N x D, got shape {a.shape}")
    if a.dtype not in SOURCE_DTYPES:
        raise ValueError(f"tensor {name!r}: expected float16/32/64, got dtype {a.dtype}")
    payload = encode_vectors(a, cfg.qp, cfg.normalization, cfg.scale, cfg.reconstruction == "midpoint")
    t0 = time.perf_counter()
    levels = decode_levels(payload.levels, payload.n, payload.d)
    features = vectors_from_levels(levels, payload)
    decode_seconds = time.perf_counter() - t0

    record = _core.TensorRecord()
    record.name = name
    record.kind = _core.FeatureKind.VECTOR
    record.source_dtype = SOURCE_DTYPES[a.dtype]
    record.dims = list(a.shape)
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
    digest = _core.HashBox()
    digest.codes_md5, digest.features_md5 = md5(levels), md5(features)
    record.hash = digest

    error = features.astype(np.float64) - a.astype(np.float64)
    return VectorResult(
        record=record,
        levels=levels,
        features=features,
        mse=float(np.mean(error**2)) if error.size else 0.0,
        max_error=float(np.max(np.abs(error))) if error.size else 0.0,
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
