"""The networks of seed 001's learned codecs, evaluated in numpy (no torch needed to code or decode).

Wang, Yang and Wang, "End-to-end facial deep learning feature compression
with teacher-student enhancement" (seed 001). Every network is fully
connected layers and GDN/IGDN; :mod:`ftm.train` trains them in torch and
writes their weights here, in this module's names, with GDN's parameters
already taken out of their training reparameterization (the effective beta
and gamma). Evaluation is in float64 from the float32 weights, the result
rounded to float32: BLAS may sum in another order on another machine, so the
float output is not bit-exact across platforms (conformance checks it with a
tolerance); the integer latent levels are the normative part of a stream.

- ``dense``: ``y = x W^T + b`` (W is out x in, as torch's Linear).
- GDN, Ballé, Laparra and Simoncelli, "Density modeling of images using a
  generalized normalization transformation" (ICLR 2016), and "End-to-end
  optimized image compression" (ICLR 2017, eq. 1): ``y_i = x_i / sqrt(beta_i
  + sum_j gamma_ij x_j^2)``; IGDN, its approximate inverse: ``y_i = x_i *
  sqrt(beta_i + sum_j gamma_ij x_j^2)``.
- PRO (seed 001 section 3.1, eq. 4): encoder FC -> GDN -> FC, decoder FC ->
  IGDN -> FC; the latent is clipped to +-r_clip and rounded (the levels).
- PRO-E (eq. 3, 6): the low-rate encoder, an enhancer FC -> GDN -> FC mapping
  c_low / r_clip_low to c_high / r_clip_high, and the high-rate decoder.
- SQ-E (section 4, Fig. 3): the SQ reconstruction plus a residual FC -> GDN -> FC.
- PQ / OPQ (Jégou et al. 2011; Ge et al. 2014): codebooks, and OPQ's rotation
  (:mod:`ftm.codecs.learned.product_codes`).
- DMOFC (seed 000, Gao et al.): one FC layer each way around an 8-bit latent
  (:mod:`ftm.codecs.learned.dmofc`).
"""

from __future__ import annotations

from typing import Dict, Mapping, Tuple

import numpy as np

__all__ = ["dense", "enhance_latent", "expected_weights", "gdn", "latent_levels", "pro_decode", "pro_encode",
           "sq_enhance"]  # fmt: skip

Weights = Mapping[str, np.ndarray]


def _positive_int(arch: dict, key: str) -> int:
    v = arch[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{key} must be a positive integer, got {v!r}")
    return v


def _clip(arch: dict) -> float:
    r = arch["r_clip"]
    if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 < r <= 32768 or float(np.float32(r)) != r:
        raise ValueError(f"r_clip must be a float32 in (0, 32768], got {r!r}")
    return float(r)


def _fc(prefix: str, n_in: int, n_out: int) -> Dict[str, Tuple[int, ...]]:
    return {f"{prefix}.weight": (n_out, n_in), f"{prefix}.bias": (n_out,)}


def _gdn(prefix: str, n: int) -> Dict[str, Tuple[int, ...]]:
    return {f"{prefix}.beta": (n,), f"{prefix}.gamma": (n, n)}


def _encoder(d: int, arch: dict) -> Dict[str, Tuple[int, ...]]:
    h, k = _positive_int(arch, "hidden"), _positive_int(arch, "latent_dims")
    _clip(arch)
    return {**_fc("enc.fc1", d, h), **_gdn("enc.gdn", h), **_fc("enc.fc2", h, k)}


def _decoder(d: int, arch: dict) -> Dict[str, Tuple[int, ...]]:
    h, k = _positive_int(arch, "hidden"), _positive_int(arch, "latent_dims")
    return {**_fc("dec.fc1", k, h), **_gdn("dec.igdn", h), **_fc("dec.fc2", h, d)}


def expected_weights(header: dict) -> Dict[str, Tuple[int, ...]]:
    """Name -> shape of every weight a model of this header has (ValueError/KeyError on a bad architecture)."""
    method, d, arch = header["method"], int(header["dims"]), header["architecture"]
    if method == "pro":
        return {**_encoder(d, arch), **_decoder(d, arch)}
    if method == "pro-e":
        low, high = arch["low"], arch["high"]
        h = _positive_int(arch, "enhancer_hidden")
        k_low, k_high = _positive_int(low, "latent_dims"), _positive_int(high, "latent_dims")
        enhancer = {**_fc("enh.fc1", k_low, h), **_gdn("enh.gdn", h), **_fc("enh.fc2", h, k_high)}
        _clip(high)
        return {**_encoder(d, low), **enhancer, **_decoder(d, high)}
    if method == "sq-e":
        h = _positive_int(arch, "hidden")
        from ftm.codecs.learned.sq_enhanced import check_quantizer

        check_quantizer(arch)
        return {**_fc("fc1", d, h), **_gdn("gdn", h), **_fc("fc2", h, d)}
    if method == "dmofc":
        k = _positive_int(arch, "latent_dims")
        if arch.get("latent_bits") != 8 or arch.get("latent_clip") != 1.0:
            raise ValueError("a DMOFC latent is 8 bits in [-1, 1] (latent_bits 8, latent_clip 1.0)")
        return {**_fc("enc", d, k), **_fc("dec", k, d)}
    if method in ("pq", "opq"):
        from ftm.codecs.learned.product_codes import codebook_shape

        shapes = {"pq.centroids": codebook_shape(d, arch)}
        if method == "opq":
            shapes["opq.rotation"] = (d, d)
        return shapes
    raise ValueError(f"unknown method {method!r}")


def _w(weights: Weights, name: str) -> np.ndarray:
    return np.asarray(weights[name], dtype=np.float64)


def dense(x: np.ndarray, weights: Weights, prefix: str) -> np.ndarray:
    """``x W^T + b`` in float64."""
    return x @ _w(weights, f"{prefix}.weight").T + _w(weights, f"{prefix}.bias")


def gdn(x: np.ndarray, weights: Weights, prefix: str, inverse: bool = False) -> np.ndarray:
    """GDN (Ballé et al. 2016/2017): ``x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)``; IGDN multiplies instead."""
    norm = np.sqrt(_w(weights, f"{prefix}.beta") + (x * x) @ _w(weights, f"{prefix}.gamma").T)
    return x * norm if inverse else x / norm


def _as64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def pro_encode(weights: Weights, x: np.ndarray) -> np.ndarray:
    """The continuous latent c = Enc(f_raw) (seed 001 eq. 4), before clipping and rounding."""
    h = gdn(dense(_as64(x), weights, "enc.fc1"), weights, "enc.gdn")
    return dense(h, weights, "enc.fc2")


def latent_levels(c: np.ndarray, r_clip: float) -> np.ndarray:
    """The transmitted levels: c clipped to [-r_clip, r_clip] and rounded to the nearest integer (ties to even)."""
    return np.rint(np.clip(c, -r_clip, r_clip)).astype(np.int32)


def pro_decode(weights: Weights, c: np.ndarray) -> np.ndarray:
    """f_rec = Dec(c) (seed 001 eq. 4), float32."""
    h = gdn(dense(_as64(c), weights, "dec.fc1"), weights, "dec.igdn", inverse=True)
    return dense(h, weights, "dec.fc2").astype(np.float32)


def enhance_latent(weights: Weights, levels: np.ndarray, r_low: float, r_high: float) -> np.ndarray:
    """c_enh = r_high * Enh(c_low / r_low) (seed 001 eq. 3 with eq. 6's range normalization), float64."""
    h = gdn(dense(_as64(levels) / r_low, weights, "enh.fc1"), weights, "enh.gdn")
    return dense(h, weights, "enh.fc2") * r_high


def sq_enhance(weights: Weights, f_sq: np.ndarray) -> np.ndarray:
    """f_SQ-E = f_SQ + FC(GDN(FC(f_SQ))): the residual enhancement of seed 001 Fig. 3, float32."""
    f = _as64(f_sq)
    return (f + dense(gdn(dense(f, weights, "fc1"), weights, "gdn"), weights, "fc2")).astype(np.float32)
