"""PRO and PRO-E records: the rounded latent of seed 001's end-to-end codec, level-coded.

PRO (section 3.1): c = Enc(f_raw) (eq. 4), clipped to +-r_clip and rounded;
the N x K levels are coded by FTM's level coder (the CABC box) and the
decoder computes f_rec = Dec(c). PRO-E (section 3.2): the same levels of the
low-rate encoder, enhanced into the high-rate latent domain, c_enh =
r_high * Enh(c_low / r_low) (eq. 3 with eq. 6's range normalization), and
decoded by the high-rate decoder. The LATN box says K and r_clip of the
transmitted latent; both must match the model.
"""

from __future__ import annotations

import math
from typing import Tuple

import numpy as np

from ftm._core import bitstream as container
from ftm.codecs.learned.networks import enhance_latent, latent_levels, pro_decode, pro_encode
from ftm.errors import BitstreamError
from ftm.kernels.level_coder import decode_levels, encode_levels

__all__ = ["decode", "encode", "transmitted_latent"]


def transmitted_latent(model) -> Tuple[int, float]:
    """(K, r_clip) of the latent a model's records carry: PRO-E's is its low-rate encoder's."""
    arch = model.architecture
    part = arch["low"] if model.method == "pro-e" else arch
    return int(part["latent_dims"]), float(part["r_clip"])


def encode(model, x: np.ndarray, record) -> None:
    k, r_clip = transmitted_latent(model)
    box = container.LatentBox()
    box.latent_dims, box.r_clip = k, r_clip
    record.latent = box
    record.cabac = encode_levels(latent_levels(pro_encode(model.weights, x), r_clip))


def decode(model, record) -> Tuple[np.ndarray, np.ndarray]:
    k, r_clip = transmitted_latent(model)
    box = record.latent
    if box.latent_dims != k or box.r_clip != np.float32(r_clip):
        raise BitstreamError(f"tensor {record.name!r}, box LATN: latent {box.latent_dims} x r_clip {box.r_clip} does not "
                             f"match the model's {k} x {r_clip}")  # fmt: skip
    n = record.dims[0]
    try:
        levels = decode_levels(record.cabac, n, k)
    except BitstreamError as e:
        raise BitstreamError(f"tensor {record.name!r}, box CABC: {e}") from None
    bound = math.ceil(r_clip)  # clipping to +-r_clip and rounding gives no larger magnitude
    if levels.size and int(np.abs(levels.astype(np.int64)).max()) > bound:
        raise BitstreamError(f"tensor {record.name!r}, box CABC: a latent level beyond +-{bound} (r_clip {r_clip})")
    if n == 0:
        return levels, np.zeros((0, model.dims), np.float32)
    c = levels
    if model.method == "pro-e":
        c = enhance_latent(model.weights, levels, r_clip, float(model.architecture["high"]["r_clip"]))
    return levels, pro_decode(model.weights, c)
