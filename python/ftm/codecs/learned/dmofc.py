"""DMOFC records (seed 000, Gao et al.): the 8-bit latent of a one-layer encoder, fixed-length or level-coded.

The codec of seed 000 section II-C: one fully connected layer encodes the
D-d feature into K latent elements, one decodes them back; each latent
element is quantized to 8 bits, so a vector costs K bytes, its information
capacity (IC). The quantizer is fixed: the latent is clipped to [-1, 1] and
rounded to 256 uniform levels u = round((clip(z) + 1) * 127.5) in [0, 255],
reconstructed as u / 127.5 - 1. A learned range would add nothing: the
encoder's weights already scale the latent to whatever range suits the
features, and the decoder's undo it, so a fixed clip loses no freedom and
keeps the stream free of side information (docs/learned-codecs.md).

The record carries u either as fixed-length 8-bit codes in the PQCD box (M
= K codes of 8 bits: exactly IC bytes a vector) or, with ``LatentCoding :
cabac``, as levels u - 128 in [-128, 127] through FTM's level coder (LATN with
r_clip 128, CABC): the entropy-coded rate is reported beside the fixed IC.
The decoded codes (normative) are u, N x K int32, in both forms.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ftm._core import bitstream as container
from ftm.codecs.learned.networks import dense
from ftm.errors import BitstreamError
from ftm.kernels.level_coder import decode_levels, encode_levels

__all__ = ["CLIP", "LATENT_CODINGS", "LEVELS", "decode", "dequantize", "encode", "quantize"]

LEVELS = 256  # 8 bits a latent element (seed 000: IC = K bytes)
CLIP = 1.0  # the latent's fixed range [-CLIP, CLIP]
_HALF_STEPS = (LEVELS - 1) / (2 * CLIP)  # 127.5 levels per unit of the latent
_LATN_CLIP = 128.0  # LATN's r_clip for the level-coded form: levels u - 128 in [-128, 127]
LATENT_CODINGS = ("fixed", "cabac")


def quantize(z: np.ndarray) -> np.ndarray:
    """u = round((clip(z, -1, 1) + 1) * 127.5), in [0, 255] (ties to even), int32."""
    return np.rint((np.clip(np.asarray(z, np.float64), -CLIP, CLIP) + CLIP) * _HALF_STEPS).astype(np.int32)


def dequantize(u: np.ndarray) -> np.ndarray:
    """The latent a code stands for: u / 127.5 - 1, float64."""
    return np.asarray(u, np.float64) / _HALF_STEPS - CLIP


def latent(weights, x: np.ndarray) -> np.ndarray:
    """z = Enc(f) = f W_enc^T + b_enc (one FC layer), float64, before the quantizer."""
    return dense(np.asarray(x, np.float64), weights, "enc")


def reconstruct(weights, u: np.ndarray) -> np.ndarray:
    """f_rec = Dec(u / 127.5 - 1) (one FC layer), float32."""
    return dense(dequantize(u), weights, "dec").astype(np.float32)


def encode(model, x: np.ndarray, record, coding: str = "fixed") -> None:
    if coding not in LATENT_CODINGS:
        raise ValueError(f"LatentCoding must be one of {', '.join(LATENT_CODINGS)}, got {coding!r}")
    k = int(model.architecture["latent_dims"])
    u = quantize(latent(model.weights, x))
    if coding == "fixed":
        box = container.ProductCodesBox()
        box.num_subquantizers, box.code_bits = k, 8
        box.codes = u.astype(np.uint8).tobytes()
        record.product_codes = box
        return
    box = container.LatentBox()
    box.latent_dims, box.r_clip = k, _LATN_CLIP
    record.latent = box
    record.cabac = encode_levels(u - LEVELS // 2)


def decode(model, record) -> Tuple[np.ndarray, np.ndarray]:
    k, n = int(model.architecture["latent_dims"]), record.dims[0]
    if record.product_codes is not None:
        box = record.product_codes
        if (box.num_subquantizers, box.code_bits) != (k, 8):
            raise BitstreamError(f"tensor {record.name!r}, box PQCD: {box.num_subquantizers} codes of {box.code_bits} bits "
                                 f"per vector do not match the model's latent of {k} 8-bit elements")  # fmt: skip
        u = np.frombuffer(bytes(box.codes), dtype=np.uint8).reshape(n, k).astype(np.int32)
    else:
        box = record.latent
        if box.latent_dims != k:
            raise BitstreamError(f"tensor {record.name!r}, box LATN: latent of {box.latent_dims} elements, the model's has {k}")
        try:
            levels = decode_levels(record.cabac, n, k)
        except BitstreamError as e:
            raise BitstreamError(f"tensor {record.name!r}, box CABC: {e}") from None
        if levels.size and (int(levels.min()) < -LEVELS // 2 or int(levels.max()) >= LEVELS // 2):
            raise BitstreamError(f"tensor {record.name!r}, box CABC: a DMOFC latent level outside [-128, 127]")
        u = levels.astype(np.int32) + LEVELS // 2
    if n == 0:
        return u, np.zeros((0, model.dims), np.float32)
    return u, reconstruct(model.weights, u)
