"""SQ-E, the enhanced scalar-quantization baseline of seed 001 (section 4, Fig. 3).

The vector is coded exactly as the SQ codec codes it (:mod:`ftm.codecs.sq_vectors`:
Qstep = 2^((QP - 4) / 6 - 10), l = floor(c / Qstep), seed 001 eq. 7-9,
FTM's level coder), with the quantizer settings the model was trained for
(QP, normalization, scale, reconstruction: the model's ``architecture``).
The decoder rebuilds f_SQ and adds a learned residual, FC -> GDN -> FC,
trained with MSE to the original (:func:`ftm.codecs.learned.networks.sq_enhance`).
The record carries the SQ payload (QSCL, NORM, CABC) after its LMOD box.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ftm.codecs.sq_vectors import NORMALIZATIONS, encode_vectors, fill_record, payload_of_record, vectors_from_levels
from ftm.errors import BitstreamError
from ftm.kernels.level_coder import decode_levels
from ftm.kernels.quantize import MAX_QP, MIN_QP

__all__ = ["check_quantizer", "decode", "encode"]


def check_quantizer(arch: dict) -> None:
    """ValueError unless ``arch`` holds a valid SQ setting: qp, normalization, scale, reconstruction."""
    qp = arch["qp"]
    if isinstance(qp, bool) or not isinstance(qp, int) or not MIN_QP <= qp <= MAX_QP:
        raise ValueError(f"qp must be an integer in [{MIN_QP}, {MAX_QP}], got {qp!r}")
    if arch["normalization"] not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {arch['normalization']!r}")
    scale = arch.get("scale")
    if (scale is not None) != (arch["normalization"] == "scale"):
        raise ValueError("a scale is given with normalization 'scale' and only then")
    if scale is not None and not (isinstance(scale, float) and scale > 0 and float(np.float32(scale)) == scale):
        raise ValueError(f"scale must be a positive float32, got {scale!r}")
    if arch["reconstruction"] not in ("floor", "midpoint"):
        raise ValueError(f"reconstruction must be floor or midpoint, got {arch['reconstruction']!r}")


def sq_reconstruction(arch: dict, x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(levels, f_SQ) of vectors coded with the model's quantizer: what SQ-E is trained to enhance."""
    payload = encode_vectors(x, arch["qp"], arch["normalization"], arch.get("scale"), arch["reconstruction"] == "midpoint")
    levels = decode_levels(payload.levels, payload.n, payload.d)
    return levels, vectors_from_levels(levels, payload)


def encode(model, x: np.ndarray, record) -> None:
    arch = model.architecture
    fill_record(encode_vectors(x, arch["qp"], arch["normalization"], arch.get("scale"), arch["reconstruction"] == "midpoint"), record)


def decode(model, record) -> Tuple[np.ndarray, np.ndarray]:
    from ftm.codecs.learned.networks import sq_enhance

    payload = payload_of_record(record)
    try:
        levels = decode_levels(payload.levels, payload.n, payload.d)
    except BitstreamError as e:
        raise BitstreamError(f"tensor {record.name!r}, box CABC: {e}") from None
    if payload.n == 0:
        return levels, np.zeros((0, payload.d), np.float32)
    return levels, sq_enhance(model.weights, vectors_from_levels(levels, payload))
