"""Product quantization (PQ, Jégou, Douze and Schmid 2011) and optimized PQ (OPQ, Ge et al. 2014), in numpy.

A vector of D values is cut into M sub-vectors of D / M values; each is
replaced by the index of its nearest centroid (squared Euclidean distance,
the lowest index on a tie) in that sub-space's codebook of 2^b centroids.
OPQ first rotates the vector by an orthonormal D x D matrix A (``y = A x``)
and decodes with its transpose (``x' = A^T y'``). The codebooks and the
rotation are trained with faiss (:mod:`ftm.train.product`) and stored in the
model file; coding and decoding need numpy only.

The N x M codes are carried in the PQCD box as a bit string: code after
code in raster order (vector after vector, sub-space after sub-space), each
in b bits, most significant bit first, zero bits padding the last byte.
"""

from __future__ import annotations

from typing import Mapping, Tuple

import numpy as np

from ftm.errors import BitstreamError

__all__ = ["codebook_shape", "pack_codes", "pq_decode", "pq_encode", "unpack_codes"]

MAX_CODE_BITS = 16
_CHUNK_VALUES = 1 << 22


def codebook_shape(d: int, arch: dict) -> Tuple[int, int, int]:
    """(M, 2^b, D / M) of an architecture ``{"num_subquantizers": M, "code_bits": b}``."""
    m, b = arch["num_subquantizers"], arch["code_bits"]
    if isinstance(m, bool) or not isinstance(m, int) or m < 1 or d % m:
        raise ValueError(f"num_subquantizers must divide D = {d}, got {m!r}")
    if isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= MAX_CODE_BITS:
        raise ValueError(f"code_bits must be in [1, {MAX_CODE_BITS}], got {b!r}")
    return m, 1 << b, d // m


def pack_codes(codes: np.ndarray, bits: int) -> bytes:
    """N x M codes < 2^bits as a bit string, MSB first, zero-padded to a byte."""
    c = np.ascontiguousarray(codes, dtype=">u2").reshape(-1)
    if c.size and int(c.max()) >> bits:
        raise ValueError(f"a code exceeds {bits} bits")
    all_bits = np.unpackbits(c.view(np.uint8)).reshape(-1, 16)[:, 16 - bits :]
    return np.packbits(all_bits.reshape(-1)).tobytes()


def unpack_codes(data: bytes, n: int, m: int, bits: int) -> np.ndarray:
    """The N x M codes of a bit string (its length checked), as int32."""
    total = n * m * bits
    if len(data) != (total + 7) // 8:
        raise BitstreamError(f"{len(data)} bytes of codes, expected {(total + 7) // 8}")
    flat = np.unpackbits(np.frombuffer(data, np.uint8))[:total].reshape(n * m, bits)
    weights = (1 << np.arange(bits - 1, -1, -1)).astype(np.int32)
    return (flat.astype(np.int32) @ weights).reshape(n, m).astype(np.int32)


def _rotation(weights: Mapping[str, np.ndarray]):
    r = weights.get("opq.rotation")
    return None if r is None else np.asarray(r, dtype=np.float64)


def pq_encode(weights: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The N x M codes (int32) of N x D vectors: nearest centroid of each sub-vector, after OPQ's rotation."""
    centroids = np.asarray(weights["pq.centroids"], dtype=np.float64)  # M x K x dsub
    m, k, dsub = centroids.shape
    a = np.asarray(x, dtype=np.float64)
    rotation = _rotation(weights)
    if rotation is not None:
        a = a @ rotation.T
    codes = np.empty((a.shape[0], m), np.int32)
    norms = np.einsum("mkd,mkd->mk", centroids, centroids)
    chunk = max(1, _CHUNK_VALUES // (m * k))  # rows whose M x K distances fit in 32 MB of float64
    for start in range(0, a.shape[0], chunk):
        sub = a[start : start + chunk].reshape(-1, m, dsub)
        dist = norms[None] - 2.0 * np.einsum("nmd,mkd->nmk", sub, centroids)
        codes[start : start + chunk] = np.argmin(dist, axis=2)  # |x|^2 is the same for every centroid
    return codes


def pq_decode(weights: Mapping[str, np.ndarray], codes: np.ndarray) -> np.ndarray:
    """N x D float32 reconstructions: the codes' centroids side by side, rotated back for OPQ."""
    centroids = np.asarray(weights["pq.centroids"], dtype=np.float64)
    m, k, dsub = centroids.shape
    c = np.asarray(codes)
    if c.size and (c.min() < 0 or c.max() >= k):
        raise BitstreamError(f"a code outside [0, {k - 1}]")
    y = centroids[np.arange(m)[None, :], c].reshape(c.shape[0], m * dsub)
    rotation = _rotation(weights)
    if rotation is not None:
        y = y @ rotation
    return y.astype(np.float32)
