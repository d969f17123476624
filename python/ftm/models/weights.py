"""Weights files: their digest, reading a state_dict, and loading it into a module key by key.

A network's weights come from a package, a local file or the user, never
from the network. Where FTM knows the file (a package it names), the entry
pins its sha256 and loading refuses any other file, so that two feature sets
made with "the same model" are made with the same numbers. Where it knows
only the file's name (torchvision's files carry the first hex digits of
their sha256 in their names, which torch.hub checks on download), the
digest must start with those digits.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Dict, Mapping, Optional

from ftm._optional import require
from ftm.errors import ModelError

__all__ = ["checked_weights", "file_sha256", "hash_prefix", "load_state_dict", "load_weights_into"]

# torch.hub's convention (torch/hub.py HASH_REGEX): name-<sha256 prefix>.ext
_HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_prefix(file_name: str) -> Optional[str]:
    """The sha256 prefix a torch.hub file name carries (``resnet50-11ad3fa6.pth`` -> ``11ad3fa6``), else None."""
    match = _HASH_IN_NAME.search(file_name)
    return match.group(1) if match else None


def checked_weights(path, expected_sha256: Optional[str], model: str, expected_prefix: Optional[str] = None) -> str:
    """The sha256 of the weights file ``path``; a ModelError when it is missing or differs from the pinned one."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{model}: weights file {str(p)!r} does not exist")
    digest = file_sha256(p)
    if expected_sha256 is not None and digest != expected_sha256:
        raise ModelError(
            f"{model}: weights file {str(p)!r} has sha256 {digest}, expected {expected_sha256}: "
            "it is not the file this model is pinned to (reinstall the package that ships it, or give the right file)"
        )
    if expected_prefix is not None and not digest.startswith(expected_prefix):
        raise ModelError(
            f"{model}: weights file {str(p)!r} has sha256 {digest}, but its name says it starts with {expected_prefix}: "
            "the file is damaged or renamed (torchvision's file names carry the first digits of their sha256)"
        )
    return digest


def load_state_dict(path, model: str) -> Dict[str, object]:
    """A state_dict from a ``.safetensors`` file or a torch file (``torch.load(weights_only=True)``: no code runs)."""
    torch = require("torch", "Loading network weights")
    p = Path(path)
    try:
        if p.suffix.lower() == ".safetensors":
            state = require("safetensors.torch", "Reading .safetensors weights").load_file(str(p), device="cpu")
        else:
            state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and safetensors errors alike: the file is not readable weights
        raise ModelError(f"{model}: cannot read weights file {str(p)!r}: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, Mapping) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise ModelError(
            f"{model}: weights file {str(p)!r} holds a {type(state).__name__}, not a state_dict "
            "(a mapping of parameter names to tensors, as model.state_dict() gives)"
        )
    return dict(state)


def _shape(t) -> str:
    return " x ".join(map(str, t.shape)) or "scalar"


def load_weights_into(module, state: Mapping[str, object], model: str, path, assign: bool = False) -> None:
    """``module.load_state_dict(state, strict=True)``, with a ModelError that names the first key that does not fit.

    BatchNorm's ``num_batches_tracked`` counters may be absent (files saved
    before torch 0.4.1 lack them); they play no part in inference and are set
    to 0. ``assign=True`` takes the file's tensors as they are, for a module
    built on the meta device.
    """
    torch = require("torch", "Loading network weights")
    own = module.state_dict()
    state = dict(state)
    for key, tensor in own.items():
        if key not in state:
            if key.endswith("num_batches_tracked"):
                state[key] = torch.zeros((), dtype=torch.long)
                continue
            raise ModelError(f"{model}: weights file {str(path)!r} does not fit: it has no {key!r} ({_shape(tensor)}) "
                             f"- is it the weights of another network?")  # fmt: skip
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise ModelError(f"{model}: weights file {str(path)!r} does not fit: {key!r} is {_shape(state[key])} "
                             f"in the file, {_shape(tensor)} in {model} - is it the weights of another network?")  # fmt: skip
        if state[key].dtype != tensor.dtype:  # float16 or float64 files: FTM runs networks in float32
            state[key] = state[key].to(tensor.dtype)
    extra = [key for key in state if key not in own]
    if extra:
        raise ModelError(f"{model}: weights file {str(path)!r} does not fit: it has {_key_list(extra)} that {model} "
                         f"lacks - is it the weights of another network?")  # fmt: skip
    module.load_state_dict(state, strict=True, assign=assign)


def _key_list(keys) -> str:
    keys = list(keys)
    shown = ", ".join(repr(k) for k in keys[:3])
    return f"{shown} and {len(keys) - 3} more key(s)" if len(keys) > 3 else f"key(s) {shown}"
