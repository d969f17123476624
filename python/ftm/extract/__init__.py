"""Real feature sets by split inference (optional extra: pip install "ftm[extract]").

- :mod:`ftm.extract.images`: offline image sets (bundled photos, folders) and crops;
- :mod:`ftm.extract.featureset`: the on-disk feature-set layout (safetensors
  + JSON manifest), written atomically; needs numpy and safetensors only;
- :mod:`ftm.extract.pipeline`: images -> network -> feature set.

The networks themselves are in :mod:`ftm.models`; ``ftm-extract`` is
:mod:`ftm.cli.extract`. Core FTM never imports this package; torch is
imported only where a network runs, and a missing dependency raises an
ImportError that names the "extract" extra.
"""

from ftm._optional import EXTRA_HINT, require

__all__ = ["EXTRA_HINT", "require"]
