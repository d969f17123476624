"""Reading feature files and writing outputs atomically.

Inputs: ``.npy`` (one tensor, named ``features``), ``.npz`` (one tensor per
key, in the file's order) and ``.safetensors`` (one tensor per key, sorted
by name, since the format keeps no order). Each tensor becomes a named
tensor record of the stream, in that order. Outputs are written to a temporary file
in the destination folder and renamed into place, so an interrupted run
never leaves a half-written file.
"""

from __future__ import annotations

import io
import os
from typing import Dict, Mapping

import numpy as np

from ftm._atomic import write_bytes_atomic as write_atomic
from ftm.errors import InputError

__all__ = ["load_features", "save_features", "write_atomic", "DEFAULT_TENSOR_NAME"]

DEFAULT_TENSOR_NAME = "features"


def load_features(path: str) -> Dict[str, np.ndarray]:
    """Named float tensors from a .npy, .npz or .safetensors file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"input file {path!r} does not exist")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        tensors = {DEFAULT_TENSOR_NAME: np.load(path, allow_pickle=False)}
    elif ext == ".npz":
        with np.load(path, allow_pickle=False) as z:
            tensors = {name: z[name] for name in z.files}
    elif ext == ".safetensors":
        from safetensors.numpy import load_file

        loaded = load_file(path)
        tensors = {name: loaded[name] for name in sorted(loaded)}
    else:
        raise InputError(f"input {path!r}: unsupported extension {ext!r}; use .npy, .npz or .safetensors")
    if not tensors:
        raise InputError(f"input {path!r} holds no tensor")
    for name, a in tensors.items():
        if a.dtype.kind != "f" or a.dtype.itemsize not in (2, 4, 8):
            raise InputError(f"input {path!r}: tensor {name!r} has dtype {a.dtype}; expected float16/32/64")
    return tensors



def save_features(path: str, tensors: Mapping[str, np.ndarray]) -> None:
    """Write named tensors atomically; ``.npy`` takes exactly one tensor."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        if len(tensors) != 1:
            raise ValueError(f"output {path!r}: .npy holds one tensor, got {len(tensors)}; use .npz or .safetensors")
        buf = io.BytesIO()
        np.save(buf, next(iter(tensors.values())), allow_pickle=False)
        write_atomic(path, buf.getvalue())
    elif ext == ".npz":
        buf = io.BytesIO()
        np.savez(buf, **tensors)
        write_atomic(path, buf.getvalue())
    elif ext == ".safetensors":
        from safetensors.numpy import save

        write_atomic(path, save({k: np.ascontiguousarray(v) for k, v in tensors.items()}))
    else:
        raise ValueError(f"output {path!r}: unsupported extension {ext!r}; use .npy, .npz or .safetensors")
