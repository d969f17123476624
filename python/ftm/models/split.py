"""Split inference on torch models.

A :class:`SplitNetwork` is a torch network cut into named stages that run in
order, followed by a head that turns the last stage's output into the task
outputs (a pooled final descriptor for retrieval and class logits). The name
of a stage is a split point: its output is the intermediate feature FTM
codes, and :meth:`SplitNetwork.run_from` runs the rest of the network from
that feature, pristine or reconstructed.

Capture uses forward hooks (:func:`capture_module_outputs`), which work on any
``torch.nn.Module``, so the same function can read layers of a model that was
never wrapped. Everything runs in inference mode on the CPU, in float32.

A user's own network is a SplitNetwork too (docs/networks.md): ordered
stages, a head returning :class:`NetworkOutputs`, and the
:class:`~ftm.models.preprocessing.Preprocessing` its input images need
(``preprocessing=`` or ``info["preprocessing"]``). :meth:`SplitNetwork.validate`
checks what the tools rely on and names the first field that is wrong.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np

from ftm._optional import require
from ftm.errors import ConfigError, ModelError
from ftm.models.preprocessing import Preprocessing

torch = require("torch", "Split inference")
nn = torch.nn

__all__ = ["OUTPUT_NAMES", "NetworkOutputs", "SplitNetwork", "capture_module_outputs", "outputs_from", "task_outputs"]

OUTPUT_NAMES = ("descriptor", "logits", "detections")


@dataclass(frozen=True)
class NetworkOutputs:
    """Task outputs of a batch: final descriptors (N x D, for retrieval), class logits (N x K), detections.

    ``detections`` (N x K x 6: x1, y1, x2, y2, score, class; rows of score 0
    are padding) come from a detector such as ``ssd-mobilenet-v2-coco``. A
    network without a task gives None for it; the metrics of that task are
    then left out (printed as '-').
    """

    descriptor: Optional["torch.Tensor"]
    logits: Optional["torch.Tensor"]
    detections: Optional["torch.Tensor"] = None

    def __post_init__(self) -> None:
        if self.descriptor is None and self.logits is None and self.detections is None:
            raise ValueError("NetworkOutputs needs a descriptor, logits, detections, or some of them")


def capture_module_outputs(
    model: "nn.Module", inputs: "torch.Tensor", modules: Mapping[str, "nn.Module"]
) -> Tuple[object, Dict[str, "torch.Tensor"]]:
    """Run ``model(inputs)`` once and return its output and the outputs of ``modules``.

    Each module must run exactly once in the forward pass (a module reused at
    several places, such as a shared activation, is ambiguous and rejected).
    """
    captured: Dict[str, list] = {name: [] for name in modules}
    handles = []
    try:
        for name, module in modules.items():
            handles.append(module.register_forward_hook(lambda _m, _i, out, name=name: captured[name].append(out)))
        with torch.inference_mode():
            output = model(inputs)
    finally:
        for h in handles:
            h.remove()
    result = {}
    for name, outs in captured.items():
        if len(outs) != 1:
            raise RuntimeError(f"module {name!r} ran {len(outs)} times in one forward pass; expected exactly once")
        result[name] = outs[0]
    return output, result


class SplitNetwork(nn.Module):
    """A network as ordered named stages plus a head; every stage output is a split point."""

    def __init__(
        self,
        name: str,
        stages: Sequence[Tuple[str, "nn.Module"]],
        head: "nn.Module",
        input_shape: Tuple[int, int, int],
        info: Optional[dict] = None,
        preprocessing: Optional[Preprocessing] = None,
    ) -> None:
        super().__init__()
        names = [n for n, _ in stages]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"stage names must be distinct and non-empty, got {names}")
        self.name = name
        self.stages = nn.ModuleDict(OrderedDict(stages))
        self.head = head
        self.input_shape = tuple(int(v) for v in input_shape)
        self.info = dict(info or {})
        if preprocessing is not None:
            self.info["preprocessing"] = preprocessing.as_dict()
        self.eval()
        self._shapes: Optional[Dict[str, Tuple[int, ...]]] = None

    @property
    def split_points(self) -> Tuple[str, ...]:
        return tuple(self.stages.keys())

    @property
    def preprocessing(self) -> Preprocessing:
        """What the input images need, from ``info["preprocessing"]``; a ModelError naming what is missing."""
        if "preprocessing" not in self.info:
            raise ModelError(
                f"network {self.name!r}: info has no 'preprocessing': give SplitNetwork(..., preprocessing="
                "Preprocessing(size, mean, std)) or info={'preprocessing': {'size': ..., 'mean': ..., 'std': ...}}"
            )
        return Preprocessing.from_dict(self.info["preprocessing"], f"network {self.name!r}: info['preprocessing']")

    def validate(self) -> "SplitNetwork":
        """Check what the tools rely on (preprocessing, input shape, split point names); ``self``."""
        prep = self.preprocessing
        if self.input_shape != (3, prep.size, prep.size):
            raise ModelError(f"network {self.name!r}: input_shape {self.input_shape} is not the (3, {prep.size}, "
                             f"{prep.size}) its preprocessing gives")  # fmt: skip
        for name in self.split_points:
            if not name or name in (".", "..") or "/" in name or "\\" in name or name == "outputs":
                raise ModelError(f"network {self.name!r}: split point name {name!r} cannot name a file of a feature set")
        return self

    def feature_shapes(self) -> Dict[str, Tuple[int, ...]]:
        """Shape (C, H, W) of the feature at each split point for one input."""
        if self._shapes is None:
            x = torch.zeros((1,) + self.input_shape)
            shapes = {}
            with torch.inference_mode():
                for name, stage in self.stages.items():
                    x = stage(x)
                    shapes[name] = tuple(x.shape[1:])
            self._shapes = shapes
        return dict(self._shapes)

    def check_layers(self, layers: Iterable[str]) -> Tuple[str, ...]:
        """``layers`` as a tuple, or a ConfigError naming the unknown ones and the valid split points."""
        layers = tuple(layers)
        unknown = [n for n in layers if n not in self.stages]
        if unknown:
            raise ConfigError(f"unknown split point(s) {unknown} for {self.name}; choose from {list(self.split_points)}")
        return layers

    def _check_input(self, x: "torch.Tensor") -> None:
        if tuple(x.shape[1:]) != self.input_shape or x.ndim != 4:
            raise ValueError(f"{self.name} expects N x {' x '.join(map(str, self.input_shape))} input, got {tuple(x.shape)}")

    def _outputs(self, x: "torch.Tensor") -> NetworkOutputs:
        out = self.head(x)
        if not isinstance(out, NetworkOutputs):
            raise ModelError(f"network {self.name!r}: its head returned a {type(out).__name__}, not "
                             "ftm.models.split.NetworkOutputs(descriptor=..., logits=...)")  # fmt: skip
        return out

    def forward(self, x: "torch.Tensor") -> NetworkOutputs:
        for stage in self.stages.values():
            x = stage(x)
        return self._outputs(x)

    def capture(self, x: "torch.Tensor", layers: Iterable[str]) -> Tuple[NetworkOutputs, Dict[str, "torch.Tensor"]]:
        """One forward pass: the task outputs and the features at ``layers`` (via forward hooks)."""
        layers = self.check_layers(layers)
        self._check_input(x)
        return capture_module_outputs(self, x, {n: self.stages[n] for n in layers})

    def run_from(self, layer: str, features: "torch.Tensor") -> NetworkOutputs:
        """The rest of the network, from the feature at split point ``layer`` to the task outputs."""
        (layer,) = self.check_layers([layer])
        expected = self.feature_shapes()[layer]
        if features.ndim != 4 or tuple(features.shape[1:]) != expected:
            raise ValueError(
                f"features at {layer!r} must be N x {' x '.join(map(str, expected))}, got {tuple(features.shape)}"
            )
        names = self.split_points
        with torch.inference_mode():
            x = features
            for name in names[names.index(layer) + 1 :]:
                x = self.stages[name](x)
            return self._outputs(x)


def _as_tensor(a: np.ndarray) -> "torch.Tensor":
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _joined(parts: list) -> Optional[np.ndarray]:
    return None if parts[0] is None else np.concatenate([p.numpy() for p in parts])


def task_outputs(
    network, layer: str, features: np.ndarray, batch_size: int = 32, progress: Optional[Callable[[int], None]] = None,
) -> Dict[str, Optional[np.ndarray]]:
    """``{"descriptor", "logits", "detections"}`` (numpy; None where the network gives none) from features at ``layer``.

    In batches of ``batch_size``: pristine and reconstructed features must go
    through the same batching so that identical features give bit-identical
    outputs. ``network``: a :class:`SplitNetwork` or a network with the same
    ``run_from`` (the detector of :mod:`ftm.models.ssd_mobilenet`).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    f = np.asarray(features)
    outs = []
    for start in range(0, f.shape[0], batch_size):
        outs.append(network.run_from(layer, _as_tensor(f[start : start + batch_size])))
        if progress is not None:
            progress(min(batch_size, f.shape[0] - start))
    if not outs:
        raise ValueError("features hold no sample")
    return {name: _joined([getattr(o, name) for o in outs]) for name in OUTPUT_NAMES}


def outputs_from(
    network: SplitNetwork, layer: str, features: np.ndarray, batch_size: int = 32,
    progress: Optional[Callable[[int], None]] = None,
) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """Descriptors and logits (numpy; None where the network gives none) from features at ``layer``
    (:func:`task_outputs` without the detections)."""
    outs = task_outputs(network, layer, features, batch_size, progress)
    return outs["descriptor"], outs["logits"]
