"""Networks for split inference, in one room whatever task they serve.

- :mod:`~ftm.models.registry`: the names FTM knows (:data:`MODELS`) and :func:`load_network`;
- :mod:`~ftm.models.split`: :class:`SplitNetwork` (named stages, a head, forward hooks);
- :mod:`~ftm.models.preprocessing`: what a network expects of its input images;
- :mod:`~ftm.models.weights`: weights files and their pinned digests;
- :mod:`~ftm.models.efficientnet_lite`: EfficientNet-Lite0 (ImageNet), offline.

A new network is one module here with a builder returning a SplitNetwork,
and one entry in the registry. Importing this package does not import
torch; building a network does (the "extract" extra).
"""

from ftm.models.preprocessing import Preprocessing
from ftm.models.registry import MODELS, ModelEntry, load_network, model_entry

__all__ = ["MODELS", "ModelEntry", "Preprocessing", "load_network", "model_entry"]
