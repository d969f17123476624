"""Networks for split inference, in one room whatever task they serve.

- :mod:`~ftm.models.registry`: the names FTM knows (:data:`MODELS`), :func:`load_network`
  (a name or a user's factory reference) and :func:`network_from_record` (a feature set's network);
- :mod:`~ftm.models.split`: :class:`SplitNetwork` (named stages, a head, forward hooks);
- :mod:`~ftm.models.preprocessing`: what a network expects of its input images;
- :mod:`~ftm.models.weights`: weights files, their digests, loading a state_dict key by key;
- :mod:`~ftm.models.factory`: a user's own network, imported by ``module:function`` or ``file.py:function``;
- :mod:`~ftm.models.efficientnet_lite`: EfficientNet-Lite0 (ImageNet), offline;
- :mod:`~ftm.models.vgg`, :mod:`~ftm.models.resnet`: VGG-16 and ResNet-50/101/152, torchvision's
  architectures under torchvision's state_dict keys (seed 002's networks);
- :mod:`~ftm.models.torchvision_weights`: torchvision's weights files, the local cache, ImageNet preprocessing;
- :mod:`~ftm.models.ssd_mobilenet`: the detector SSD MobileNet v2 (COCO), a TensorFlow frozen graph
  behind the same split-network methods (the "detect" extra; docs/detection.md).

A new network is one module here with a builder returning a SplitNetwork,
and one entry in the registry; a user's own network needs neither
(docs/networks.md). Importing this package does not import torch; building
a network does (the "extract" extra).
"""

from ftm.models.preprocessing import Preprocessing
from ftm.models.registry import MODELS, ModelEntry, check_model_name, load_network, model_entry, network_from_record

__all__ = [
    "MODELS",
    "ModelEntry",
    "Preprocessing",
    "check_model_name",
    "load_network",
    "model_entry",
    "network_from_record",
]
