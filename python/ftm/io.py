"""Reading feature files and writing outputs atomically.

Inputs: ``.npy`` (one tensor, named ``features``), ``.npz`` (one tensor per
key, in the file's order) and ``.safetensors`` (one tensor per key, sorted
by name, since the format keeps no order). Each tensor becomes a named
tensor record of the stream, in that order. A file that is not what its
suffix says (empty, truncated, another format, pickled objects) is an
:class:`~ftm.errors.InputError` naming the file and what is wrong with it.
Outputs are written to a temporary file in the destination folder and
renamed into place, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import Dict, Mapping

import numpy as np

from ftm._atomic import check_output_path
from ftm._atomic import write_bytes_atomic as write_atomic
from ftm.errors import ConfigError, InputError

__all__ = ["load_features", "save_features", "check_features_output", "write_atomic", "DEFAULT_TENSOR_NAME", "SUFFIXES"]

DEFAULT_TENSOR_NAME = "features"
SUFFIXES = (".npy", ".npz", ".safetensors")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def _head(path: str, size: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def _load_npy(path: str) -> Dict[str, np.ndarray]:
    if _head(path, len(_NPY_MAGIC)) != _NPY_MAGIC:
        raise InputError(f"input {path!r} is not a .npy file (it does not start with numpy's magic bytes)")
    try:
        return {DEFAULT_TENSOR_NAME: np.load(path, allow_pickle=False)}
    except ValueError as exc:
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise InputError(f"input {path!r} holds Python objects, not a numeric array") from None
        raise InputError(f"input {path!r} is not a valid .npy file: {exc}") from None
    except (EOFError, OSError) as exc:
        raise InputError(f"input {path!r} is truncated or not a valid .npy file: {exc}") from None


def _load_npz(path: str) -> Dict[str, np.ndarray]:
    if _head(path, len(_ZIP_MAGIC)) != _ZIP_MAGIC:
        raise InputError(f"input {path!r} is not a .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except ValueError as exc:
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise InputError(f"input {path!r} holds Python objects, not numeric arrays") from None
        raise InputError(f"input {path!r} is not a valid .npz file: {exc}") from None
    except (EOFError, OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"input {path!r} is truncated or not a valid .npz file: {exc}") from None


def _load_safetensors(path: str) -> Dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    try:
        loaded = load_file(path)
    except Exception as exc:  # safetensors raises its own SafetensorError, and ValueError/TypeError for bad dtypes
        raise InputError(f"input {path!r} is not a valid .safetensors file: {exc}") from None
    return {name: loaded[name] for name in sorted(loaded)}


_LOADERS = {".npy": _load_npy, ".npz": _load_npz, ".safetensors": _load_safetensors}


def load_features(path: str) -> Dict[str, np.ndarray]:
    """Named tensors from a .npy, .npz or .safetensors file: float features, or uint8 images (``FeatureKind : image``)."""
    if os.path.isdir(path):
        raise InputError(f"input {path!r} is a folder; give a .npy, .npz or .safetensors file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"input file {path!r} does not exist")
    ext = os.path.splitext(path)[1].lower()
    if ext not in _LOADERS:
        raise InputError(f"input {path!r}: unsupported extension {ext!r}; use .npy, .npz or .safetensors")
    if os.path.getsize(path) == 0:
        raise InputError(f"input {path!r} is empty (0 bytes)")
    tensors = _LOADERS[ext](path)
    if not tensors:
        raise InputError(f"input {path!r} holds no tensor")
    for name, a in tensors.items():  # the codec checks which of these it codes
        if not ((a.dtype.kind == "f" and a.dtype.itemsize in (2, 4, 8)) or a.dtype == np.uint8):
            raise InputError(f"input {path!r}: tensor {name!r} has dtype {a.dtype}; expected float16/32/64 (features) or uint8 (images)")
    return tensors


def check_features_output(path: str, count: int = 1, what: str = "output") -> None:
    """A ConfigError unless ``count`` tensors can be saved at ``path``: call it before long work."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in SUFFIXES:
        raise ConfigError(f"{what} {path!r}: unsupported extension {ext!r}; use .npy, .npz or .safetensors")
    if ext == ".npy" and count != 1:
        raise ConfigError(f"{what} {path!r}: .npy holds one tensor, this has {count}; use .npz or .safetensors")
    check_output_path(path, what)


def save_features(path: str, tensors: Mapping[str, np.ndarray]) -> None:
    """Write named tensors atomically; ``.npy`` takes exactly one tensor."""
    check_features_output(path, len(tensors))
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        buf = io.BytesIO()
        np.save(buf, next(iter(tensors.values())), allow_pickle=False)
        write_atomic(path, buf.getvalue())
    elif ext == ".npz":
        buf = io.BytesIO()
        np.savez(buf, **tensors)
        write_atomic(path, buf.getvalue())
    else:
        from safetensors.numpy import save

        write_atomic(path, save({k: np.ascontiguousarray(v) for k, v in tensors.items()}))
