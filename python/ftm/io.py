"""Reading feature files and writing outputs atomically.

Inputs: ``.npy`` (one tensor, named ``features``), ``.npz`` (one tensor per
key, in the file's order) and ``.safetensors`` (one tensor per key, sorted
by name, since the format keeps no order). Each tensor becomes a named
tensor record of the stream, in that order. Outputs are written to a temporary file
in the destination folder and renamed into place, so an interrupted run
never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from typing import Dict, Iterator, Mapping

import numpy as np

__all__ = ["load_features", "save_features", "write_atomic", "atomic_path", "DEFAULT_TENSOR_NAME"]

DEFAULT_TENSOR_NAME = "features"


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success, delete it on failure."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ftm-", suffix=os.path.splitext(path)[1] or ".tmp")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(path: str, data: bytes) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


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
        raise ValueError(f"input {path!r}: unsupported extension {ext!r}; use .npy, .npz or .safetensors")
    if not tensors:
        raise ValueError(f"input {path!r} holds no tensor")
    for name, a in tensors.items():
        if a.dtype.kind != "f" or a.dtype.itemsize not in (2, 4, 8):
            raise ValueError(f"input {path!r}: tensor {name!r} has dtype {a.dtype}; expected float16/32/64")
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
