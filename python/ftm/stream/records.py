"""What every tensor record shares, whatever codes its payload: the checks
on the source tensor, the record's header fields (SPEC.md 3.1), the
checksums of the decoded tensor (SPEC.md 3.10) and the reconstruction error
the summary reports."""

from __future__ import annotations

import hashlib
from typing import Tuple

import numpy as np

from ftm._core import bitstream as container
from ftm.codecs.tensor_codec import FLOAT_DTYPES
from ftm.errors import InputError

__all__ = ["FLOAT_DTYPES", "SOURCE_DTYPES", "md5", "source_tensor", "new_record", "hash_box", "record_bytes", "reconstruction_error"]

SOURCE_DTYPES = {
    np.dtype(np.float16): container.SourceDtype.FLOAT16,
    np.dtype(np.float32): container.SourceDtype.FLOAT32,
    np.dtype(np.float64): container.SourceDtype.FLOAT64,
    np.dtype(np.uint8): container.SourceDtype.UINT8,  # images (SPEC.md 3.16)
}


def md5(a: np.ndarray) -> bytes:
    """MD5 of an array's little-endian bytes in C order (SPEC.md 3.10)."""
    return hashlib.md5(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()).digest()


def source_tensor(x: np.ndarray, name: str, ndim: int, what: str, dtypes: Tuple[np.dtype, ...] = FLOAT_DTYPES) -> np.ndarray:
    """``x`` as an array, checked: ``ndim`` dimensions (``what`` names them) and one of ``dtypes`` (the codec's)."""
    a = np.asarray(x)
    if a.ndim != ndim:
        raise InputError(f"tensor {name!r}: {what}, got shape {a.shape}")
    if a.dtype not in dtypes:
        expected = "float16/32/64" if dtypes == FLOAT_DTYPES else "/".join(str(d) for d in dtypes)
        raise InputError(f"tensor {name!r}: expected {expected}, got dtype {a.dtype}")
    return a


def new_record(a: np.ndarray, name: str, kind: "container.FeatureKind") -> "container.TensorRecord":
    """A tensor record with the header fields of source tensor ``a``; the payload boxes are the caller's."""
    record = container.TensorRecord()
    record.name = name
    record.kind = kind
    record.source_dtype = SOURCE_DTYPES[a.dtype]
    record.dims = list(a.shape)
    return record


def hash_box(codes: np.ndarray, features: np.ndarray) -> "container.HashBox":
    """Checksums of what every decoder reconstructs: the integer codes and the float32 features."""
    digest = container.HashBox()
    digest.codes_md5, digest.features_md5 = md5(codes), md5(features)
    return digest


def record_bytes(record: "container.TensorRecord") -> int:
    """Every byte a tensor record takes in a stream."""
    one = container.Stream()
    one.tensors = [record]
    return len(container.write_stream(one)) - 16  # minus the stream header and the end box


def reconstruction_error(features: np.ndarray, source: np.ndarray) -> Tuple[float, float]:
    """Mean squared and maximum absolute error of the decoded features (0 for an empty tensor)."""
    error = features.astype(np.float64) - source.astype(np.float64)
    if not error.size:
        return 0.0, 0.0
    return float(np.mean(error**2)), float(np.max(np.abs(error)))
