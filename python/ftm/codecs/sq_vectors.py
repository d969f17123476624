"""Feature vectors, scalar-quantized and level-coded: the codec of ``FeatureKind : vector`` records.

The HEVC-style scalar quantizer of Li et al. ("Joint rate-distortion
optimization for simultaneous texture and deep feature compression of
facial images", seed 003, section II, eq. 1/2; also the SQ baseline of
Wang et al., seed 001 eq. 7-9) followed by FTM's CABAC-like level coder.

``encode_vectors`` normalizes N x D float vectors, quantizes them with the
HEVC-style scalar quantizer ``l = floor(c / Qstep(QP))`` and entropy-codes the
levels; ``decode_vectors`` inverts it to float32. Normalization, applied
before quantization, and its side information:

- ``"none"``: ``c = x``; nothing is sent.
- ``"l2"``: ``c = x / n_i`` with ``n_i`` the L2 norm of vector i rounded to
  float32 (``c = 0`` for a zero vector); the N float32 norms are sent.
- ``"scale"``: ``c = x * s`` with one float32 ``s > 0``, given or by default
  ``1 / max |x|`` (so that c lies in [-1, 1], as seed 001 assumes for FaceNet
  features); ``s`` is sent.

The encoder uses the float32 values it sends, so the decoder's
``x' = c' * n_i`` (or ``c' / s``) undoes exactly what the encoder did.
Reconstruction is ``c' = l * Qstep`` (seed 001 eq. 9) or, with ``midpoint``,
``(l + 0.5) * Qstep``, the centre of floor's cell; the choice is sent.

A :class:`VectorPayload` holds what the container carries: ``qp``,
``midpoint`` (reconstruction), ``normalization`` and ``scale`` in its
``QSCL`` box, ``norms`` in ``NORM``, ``levels`` in ``CABC``
(conformance/SPEC.md); N and D are in ``TENS``.

>>> import numpy as np, ftm
>>> x = np.array([[0.5, -0.25, 0.125], [3.0, 4.0, 0.0]], np.float32)
>>> p = ftm.encode_vectors(x, qp=22, normalization="l2")
>>> p.norms.tolist()
[0.5728219747543335, 5.0]
>>> bool(np.abs(ftm.decode_vectors(p) - x).max() < ftm.qstep(22) * 5.0)
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ftm._core import bitstream as container
from ftm.codecs.options import DecodeLimits, DecodeOptions
from ftm.codecs.tensor_codec import CodedTensor, DecodeCost, DecodedTensor, TensorCodec
from ftm.errors import BitstreamError, ConfigError
from ftm.kernels.level_coder import decode_levels, encode_levels, level_state_bytes
from ftm.kernels.quantize import MAX_QP, MIN_QP, sq_dequantize, sq_quantize
from ftm.settings import Key, choice_of, optional_float

__all__ = [
    "NORMALIZATIONS",
    "VectorCodec",
    "VectorPayload",
    "decode_vectors",
    "encode_vectors",
    "fill_record",
    "payload_of_record",
    "vectors_from_levels",
]

# In the order of the container's normalization codes 0, 1, 2.
NORMALIZATIONS = ("none", "l2", "scale")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True, eq=False)
class VectorPayload:
    """Everything a decoder needs to rebuild N x D vectors, as plain data.

    ``norms`` (read-only float32, shape (n,)) is set for ``"l2"`` only and
    ``scale`` (a float32 value) for ``"scale"`` only; ``levels`` is the
    entropy-coded payload of :func:`ftm.encode_levels`.
    """

    n: int
    d: int
    qp: int
    normalization: str
    midpoint: bool
    levels: bytes
    norms: Optional[np.ndarray] = None
    scale: Optional[float] = None

    def __post_init__(self) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {self.normalization!r}")
        if (
            isinstance(self.qp, bool)
            or not isinstance(self.qp, (int, np.integer))
            or not MIN_QP <= self.qp <= MAX_QP
        ):
            raise ValueError(f"QP must be an integer in [{MIN_QP}, {MAX_QP}], got {self.qp!r}")
        if (self.norms is not None) != (self.normalization == "l2"):
            raise ValueError("norms are sent with normalization 'l2' and only then")
        if (self.scale is not None) != (self.normalization == "scale"):
            raise ValueError("a scale is sent with normalization 'scale' and only then")
        if self.norms is not None:
            norms = np.array(self.norms, dtype=np.float32).reshape(-1)
            if norms.shape != (self.n,):
                raise ValueError(f"need {self.n} norms, got {norms.size}")
            if not np.all(np.isfinite(norms)) or np.any(norms < 0):
                raise ValueError("norms must be finite and >= 0")
            norms.flags.writeable = False
            object.__setattr__(self, "norms", norms)
        if self.scale is not None:
            object.__setattr__(self, "scale", _float32_scale(self.scale))


def _float32_scale(s: float) -> float:
    v = float(s)
    if not (math.isfinite(v) and 0 < v <= _FLOAT32_MAX) or np.float32(v) == 0:
        raise ValueError(f"scale must be a finite float32 > 0, got {s!r}")
    return float(np.float32(v))


def _vectors(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind != "f":
        raise TypeError(f"vectors must be a float array, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"vectors must be an (N, D) array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("vectors must be finite")
    return a.astype(np.float64)


def encode_vectors(
    x: np.ndarray, qp: int, normalization: str = "none", scale: Optional[float] = None, midpoint: bool = False
) -> VectorPayload:
    """Normalize, quantize at ``qp`` and entropy-code (N, D) float vectors."""
    a = _vectors(x)
    n, d = a.shape
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    if scale is not None and normalization != "scale":
        raise ValueError("scale applies to normalization='scale' only")
    norms = None
    if normalization == "l2":
        exact = np.sqrt(np.einsum("ij,ij->i", a, a))
        if not np.all(exact <= _FLOAT32_MAX):
            raise ValueError(f"an L2 norm overflows float32 (largest {exact.max():.6g})")
        norms = exact.astype(np.float32)
        c = a / np.where(norms > 0, norms, 1).astype(np.float64)[:, None]
    elif normalization == "scale":
        if scale is None:
            peak = float(np.abs(a).max()) if a.size else 0.0
            if peak > 0 and 1.0 / peak > _FLOAT32_MAX:
                raise ValueError(f"1 / max|x| = {1.0 / peak:.6g} overflows float32; give scale explicitly")
            scale = 1.0 / peak if peak > 0 else 1.0
        scale = _float32_scale(scale)
        c = a * scale
    else:
        c = a
    levels = sq_quantize(c, qp)
    return VectorPayload(n, d, int(qp), normalization, bool(midpoint), encode_levels(levels), norms, scale)


def decode_vectors(payload: VectorPayload) -> np.ndarray:
    """Rebuild the (N, D) float32 vectors of a :class:`VectorPayload`."""
    return vectors_from_levels(decode_levels(payload.levels, payload.n, payload.d), payload)


# Rows per step of the normalization: float64 temporaries stay near 8 MB
# however large the tensor.
_CHUNK_ELEMENTS = 1 << 20


def vectors_from_levels(levels: np.ndarray, payload: VectorPayload) -> np.ndarray:
    """Dequantize decoded levels and undo the payload's normalization.

    x' = float32((double) c' * norm[i]) or float32((double) c' / scale), with
    c' the float32 dequantized level (docs/entropy-coding.md 2.1), computed
    in place a few rows at a time.
    """
    c = sq_dequantize(levels, payload.qp, payload.midpoint)
    if payload.normalization == "none" or c.size == 0:
        return c
    rows = max(1, _CHUNK_ELEMENTS // max(1, c.shape[1]))
    for start in range(0, c.shape[0], rows):
        part = c[start : start + rows].astype(np.float64)
        if payload.normalization == "l2":
            part *= payload.norms[start : start + rows].astype(np.float64)[:, None]
        else:
            part /= payload.scale
        c[start : start + rows] = part
    return c


def payload_of_record(record: "container.TensorRecord") -> VectorPayload:
    """The payload a record's QSCL, NORM and CABC boxes carry (SPEC.md 3.7-3.9)."""
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


def fill_record(payload: VectorPayload, record: "container.TensorRecord") -> None:
    """Put a payload in a record's QSCL, NORM (with normalization "l2") and CABC boxes."""
    box = container.ScalarQuantBox()
    box.qp = payload.qp
    box.reconstruction = int(payload.midpoint)
    box.normalization = NORMALIZATIONS.index(payload.normalization)
    if payload.scale is not None:
        box.scale = payload.scale
    record.scalar_quant = box
    if payload.norms is not None:
        record.norms = payload.norms
    record.cabac = payload.levels


class VectorCodec(TensorCodec):
    """N x D feature vectors: normalization, the scalar quantizer and the level coder."""

    name = "vector"
    kind = container.FeatureKind.VECTOR
    ndim = 2
    layout = "feature vectors must be N x D"
    keys = (
        Key("Normalization", "normalization", choice_of(*NORMALIZATIONS), "vectors: none, divide by the L2 norm (norms sent), or multiply by Scale"),
        Key("Scale", "scale", optional_float, "vectors: the factor for Normalization : scale"),
        Key("Reconstruction", "reconstruction", choice_of("floor", "midpoint"), "vectors: l*Qstep or (l+0.5)*Qstep"),
    )

    def __init__(self, cfg=None, limits: DecodeLimits = DecodeLimits()) -> None:
        self.cfg = cfg
        self.limits = limits

    @classmethod
    def check_config(cls, cfg, at) -> None:
        if not MIN_QP <= cfg.qp <= MAX_QP:
            raise ConfigError(f"{at('qp')}QP {cfg.qp} is outside [{MIN_QP}, {MAX_QP}], the scalar quantizer's range")
        if cfg.normalization == "scale" and (cfg.scale is None or cfg.scale <= 0):
            raise ConfigError(f"{at('normalization')}Normalization : scale needs a positive Scale")

    @classmethod
    def for_encoding(cls, cfg) -> "VectorCodec":
        return cls(cfg)

    @classmethod
    def for_decoding(cls, options: DecodeOptions) -> "VectorCodec":
        return cls(limits=options.limits)

    def decode_cost(self, record: "container.TensorRecord") -> DecodeCost:
        n, d = record.dims
        return DecodeCost(n * d, 8 * n * d, level_state_bytes(n, d))  # int32 levels, float32 features

    def describe(self) -> Tuple[str, str]:
        from ftm._version import __version__

        return "ftm-cabac", __version__

    def encode(self, x: np.ndarray, record: "container.TensorRecord", progress=None) -> CodedTensor:
        cfg = self.cfg  # the level coder codes a million levels in milliseconds: no progress to report
        payload = encode_vectors(x, cfg.qp, cfg.normalization, cfg.scale, cfg.reconstruction == "midpoint")
        t0 = time.perf_counter()
        levels = decode_levels(payload.levels, payload.n, payload.d)
        features = vectors_from_levels(levels, payload)
        decode_seconds = time.perf_counter() - t0

        fill_record(payload, record)
        return CodedTensor(levels, features, decode_seconds=decode_seconds)

    def decode(self, record: "container.TensorRecord") -> DecodedTensor:
        payload = payload_of_record(record)
        try:
            # the limits again, in the core: nothing it allocates escapes them
            levels = decode_levels(
                payload.levels, payload.n, payload.d, max_levels=self.limits.max_elements,
                max_state_bytes=self.limits.max_state,
            )  # fmt: skip
        except BitstreamError as e:
            raise BitstreamError(f"tensor {record.name!r}, box CABC: {e}") from None
        return DecodedTensor(levels, vectors_from_levels(levels, payload))
