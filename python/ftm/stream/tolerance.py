"""The normative float output of a record: a float64 formula and a tolerance (SPEC.md 4.1).

The decoded integer codes are normative and every platform computes them
identically. The float32 features are not bit-exact across platforms: the
log quantizer's 2^x (libm's exp2 differs in its last bit between
libraries), the scalar quantizer's Qstep and the order of a few operations
can move a value across a float32 rounding boundary. So a decoder's
features conform when each lies within

    |x' - x| <= 2^-21 |x| + 2^-50 s + 2^-149

of the value x the record's formula gives in float64 arithmetic from the
decoded code, where s is the magnitude of the formula's terms (it bounds
the float64 evaluation error where terms cancel), or when x' is x rounded
to float32 exactly (infinities included). 2^-21 is two float32 units in
the last place: one for the final rounding, one for a platform whose float64
value lies across a rounding boundary; 2^-149 is float32's smallest
subnormal. The features MD5 of a ``hash`` box stays an exact check for
platforms that compute like the reference decoder; a decoder whose codes
match and whose features differ only within this tolerance conforms.
"""

from __future__ import annotations

from typing import Iterator, Optional, Tuple

import numpy as np

from ftm._core import bitstream as container

__all__ = ["RELATIVE_TOLERANCE", "features_deviation", "reference_features"]

RELATIVE_TOLERANCE = 2.0**-21
_TERMS_TOLERANCE = 2.0**-50
_SUBNORMAL = 2.0**-149
_CHUNK = 1 << 20  # elements per step: float64 temporaries stay small for any tensor


def _chunks(size: int) -> Iterator[slice]:
    for start in range(0, size, _CHUNK):
        yield slice(start, min(size, start + _CHUNK))


def reference_features(record: "container.TensorRecord", codes: np.ndarray, part: slice) -> Tuple[np.ndarray, np.ndarray]:
    """(x, s) in float64 for the flat elements ``part`` of a record's decoded codes (SPEC.md 3.2, 3.3, 3.6, 3.16)."""
    q = codes.reshape(-1)[part].astype(np.float64)
    if record.texture is not None:  # an image's samples are its output, exact (SPEC.md 4.1): only equality is within
        return q, np.zeros_like(q)
    if record.log_quant is not None:
        p = record.log_quant
        power = np.exp2(q * float(p.max_log) / float((1 << p.bit_depth) - 1))
        return float(p.offset) + (power - 1.0), abs(float(p.offset)) + power
    if record.minmax_quant is not None:
        p = record.minmax_quant
        lo, hi = np.asarray(p.lo, np.float64), np.asarray(p.hi, np.float64)
        if p.channel_axis == 255:
            channel = np.zeros(q.shape, np.intp)
        else:
            inner = int(np.prod(record.dims[p.channel_axis + 1 :], dtype=np.int64))
            channel = (np.arange(part.start, part.stop) // inner) % record.dims[p.channel_axis]
        step = q / float((1 << p.bit_depth) - 1) * (hi[channel] - lo[channel])
        return lo[channel] + step, np.abs(lo[channel]) + np.abs(step)
    s = record.scalar_quant
    x = (q + (0.5 if s.reconstruction == 1 else 0.0)) * float(np.exp2((s.qp - 4) / 6.0 - 10.0))
    if s.normalization == 1:
        x *= np.asarray(record.norms, np.float64)[np.arange(part.start, part.stop) // max(1, record.dims[1])]
    elif s.normalization == 2:
        x /= float(s.scale)
    return x, np.abs(x)


def features_deviation(record: "container.TensorRecord", codes: np.ndarray, features: np.ndarray) -> Optional[str]:
    """None when ``features`` conform to the record's codes within the tolerance, else where they do not."""
    if features.shape != tuple(record.dims):
        return f"shape {features.shape}, expected {tuple(record.dims)}"
    flat = features.reshape(-1)
    for part in _chunks(flat.size):
        x, s = reference_features(record, codes, part)
        got = flat[part].astype(np.float64)
        exact = got == x.astype(np.float32).astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            close = np.abs(got - x) <= RELATIVE_TOLERANCE * np.abs(x) + _TERMS_TOLERANCE * s + _SUBNORMAL
        bad = np.flatnonzero(~(exact | close))
        if bad.size:
            i = int(bad[0])
            return (
                f"element {part.start + i} is {flat[part.start + i]!r}, the float64 formula gives {x[i]!r} "
                f"(tolerance 2^-21 relative, SPEC.md 4.1)"
            )
    return None
