"""Pre-quantizers for feature maps and the scalar quantizer for feature vectors.

Every kernel runs in the C++ core, in double precision, rounding half to even
(as ``numpy.rint``). Parameters that a bitstream carries are float32, and
quantization itself uses those float32 values, so what an encoder predicts
and what a decoder reconstructs agree exactly.

Logarithmic (seed 002 eq. 5/6, base 2 on both sides)::

    m = min(x) rounded down to float32      (0 in non-negative mode)
    L = log2(x - m + 1)
    M = max(L) rounded up to float32
    q = rint(L / M * (2^B - 1))
    x' = m + (2^(q * M / (2^B - 1)) - 1)

Rounding m down and M up keeps every ``x - m`` non-negative and every code
within ``2^B - 1`` for float64 input too; for float16/float32 input ``m`` is
``min(x)`` exactly. A constant tensor has M = 0, quantizes to 0 and
dequantizes to m (the constant itself for float16/float32 input).

Min-max (uniform)::

    q = rint((clip(x, lo, hi) - lo) / (hi - lo) * (2^B - 1))
    x' = lo + q / (2^B - 1) * (hi - lo)

with [lo, hi] the tensor's own range, one range per channel, or a fixed range.

Scalar quantizer for vectors (seed 003 eq. 1/2)::

    Qstep(QP) = 2^((QP - 4) / 6 - 10),  l = floor(c / Qstep)

reconstructed as ``l * Qstep`` or, with ``midpoint=True``, ``(l + 0.5) * Qstep``.
QP is an integer in [-48, 63]: -48 is HEVC's lowest QP (16-bit video), 63 is
VVC's highest. The paper says "floor means truncation"; FTM uses floor (towards
minus infinity), as the formula writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from ftm._core import quantize as native

__all__ = [
    "LogParams",
    "MinMaxParams",
    "QuantParams",
    "quantize",
    "dequantize",
    "qstep",
    "sq_quantize",
    "sq_dequantize",
    "MIN_BITS",
    "MAX_BITS",
    "MIN_QP",
    "MAX_QP",
]

MIN_BITS: int = native.MIN_BITS
MAX_BITS: int = native.MAX_BITS
MIN_QP: int = native.MIN_QP
MAX_QP: int = native.MAX_QP


@dataclass(frozen=True)
class LogParams:
    """Side information of the logarithmic quantizer (float32 values)."""

    bits: int
    offset: float  # m
    max_log: float  # M
    nonnegative: bool = False

    method = "log"


@dataclass(frozen=True)
class MinMaxParams:
    """Side information of the min-max quantizer.

    ``lo``/``hi`` hold one float32 value, or one per index of ``channel_axis``.
    """

    bits: int
    lo: Tuple[float, ...]
    hi: Tuple[float, ...]
    channel_axis: Optional[int] = None

    method = "minmax"


QuantParams = Union[LogParams, MinMaxParams]


def _float_tensor(x: np.ndarray, name: str = "x") -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind != "f" or a.dtype.itemsize not in (2, 4, 8):
        raise TypeError(f"{name} must be a float16/float32/float64 array, got dtype {a.dtype}")
    if a.dtype == np.float16:  # exact: float32 holds every float16
        a = a.astype(np.float32)
    return np.ascontiguousarray(a)


def _check_bits(bits: int) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError(f"bits must be an integer, got {bits!r}")
    if not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"bit depth must be in [{MIN_BITS}, {MAX_BITS}], got {bits}")
    return int(bits)


def _codes(q: np.ndarray, bits: int) -> np.ndarray:
    a = np.asarray(q)
    want = np.uint8 if bits == 8 else np.uint16
    if a.dtype != want:
        raise TypeError(f"{bits}-bit codes must be {np.dtype(want).name}, got dtype {a.dtype}")
    return np.ascontiguousarray(a)


def _range_values(v: Union[float, Sequence[float], np.ndarray], count: int, name: str) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    if a.size == 1 and count > 1:
        a = np.full(count, a[0])
    if a.size != count:
        raise ValueError(f"{name} needs 1 or {count} values, got {a.size}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {a.tolist()}")
    return a.astype(np.float32)


def _axis(channel_axis: int, ndim: int) -> int:
    axis = channel_axis + ndim if channel_axis < 0 else channel_axis
    if not 0 <= axis < ndim:
        raise ValueError(f"channel_axis {channel_axis} out of range for a {ndim}-D tensor")
    return axis


def quantize(
    x: np.ndarray,
    method: str = "log",
    bits: int = 8,
    *,
    nonnegative: bool = False,
    value_range: Optional[Tuple[Union[float, Sequence[float]], Union[float, Sequence[float]]]] = None,
    per_channel: bool = False,
    channel_axis: int = 1,
) -> Tuple[np.ndarray, QuantParams]:
    """Quantize a float tensor to ``bits``-bit codes (uint8 at 8 bits, else uint16).

    ``method="log"`` (seed 002 eq. 5) takes ``nonnegative=True`` to fix m at 0
    as the authors' code does; ``method="minmax"`` takes ``value_range=(lo, hi)``
    for a fixed range and ``per_channel=True`` for one range per index of
    ``channel_axis`` (default 1, the C of N x C x H x W). Returns the codes and
    the parameters :func:`dequantize` needs.
    """
    bits = _check_bits(bits)
    a = _float_tensor(x)
    if method == "log":
        if value_range is not None or per_channel:
            raise ValueError("value_range and per_channel apply to method='minmax' only")
        q, offset, max_log = native.log_quantize(a, bits, bool(nonnegative))
        return q, LogParams(bits, float(offset), float(max_log), bool(nonnegative))
    if method == "minmax":
        if nonnegative:
            raise ValueError("nonnegative applies to method='log' only")
        axis = _axis(channel_axis, a.ndim) if per_channel else None
        channels = a.shape[axis] if axis is not None else 1
        if value_range is None:
            q, lo, hi = native.minmax_quantize(a, bits, -1 if axis is None else axis)
        else:
            lo_v = _range_values(value_range[0], channels, "value_range lo")
            hi_v = _range_values(value_range[1], channels, "value_range hi")
            q, lo, hi = native.minmax_quantize(a, bits, -1 if axis is None else axis, lo_v, hi_v)
        return q, MinMaxParams(bits, tuple(map(float, lo)), tuple(map(float, hi)), axis)
    raise ValueError(f"unknown quantization method {method!r}; expected 'log' or 'minmax'")


def dequantize(q: np.ndarray, params: QuantParams) -> np.ndarray:
    """Reconstruct float32 features from codes and their quantizer parameters."""
    if isinstance(params, LogParams):
        codes = _codes(q, params.bits)
        return native.log_dequantize(codes, params.bits, params.offset, params.max_log)
    if isinstance(params, MinMaxParams):
        codes = _codes(q, params.bits)
        axis = -1 if params.channel_axis is None else _axis(params.channel_axis, codes.ndim)
        lo = np.asarray(params.lo, dtype=np.float32)
        hi = np.asarray(params.hi, dtype=np.float32)
        return native.minmax_dequantize(codes, params.bits, axis, lo, hi)
    raise TypeError(f"expected LogParams or MinMaxParams, got {type(params).__name__}")


def _check_qp(qp: int) -> int:
    if isinstance(qp, bool) or not isinstance(qp, (int, np.integer)):
        raise TypeError(f"QP must be an integer, got {qp!r}")
    if not MIN_QP <= qp <= MAX_QP:
        raise ValueError(f"QP must be an integer in [{MIN_QP}, {MAX_QP}], got {qp}")
    return int(qp)


def qstep(qp: int) -> float:
    """Quantization step of seed 003 eq. 1: 2^((QP - 4) / 6 - 10)."""
    return float(native.qstep(_check_qp(qp)))


def sq_quantize(c: np.ndarray, qp: int) -> np.ndarray:
    """Levels ``floor(c / Qstep(qp))`` as int32 (seed 003 eq. 2)."""
    return native.sq_quantize(_float_tensor(c, "c"), _check_qp(qp))


def sq_dequantize(levels: np.ndarray, qp: int, midpoint: bool = False) -> np.ndarray:
    """float32 reconstruction ``l * Qstep``, or ``(l + 0.5) * Qstep`` with ``midpoint``."""
    a = np.asarray(levels)
    if a.dtype.kind not in "iu":
        raise TypeError(f"levels must be an integer array, got dtype {a.dtype}")
    if a.size and (a.min() < np.iinfo(np.int32).min or a.max() > np.iinfo(np.int32).max):
        raise ValueError("levels must fit in int32")
    return native.sq_dequantize(np.ascontiguousarray(a, dtype=np.int32), _check_qp(qp), bool(midpoint))
