"""Joint texture and feature coding (seed 003): the texture half.

:mod:`ftm.joint.texture` codes images all intra through FTM's video back
ends and measures their rate and MSE. TFQI, the R-D models and the bit
allocation are in :mod:`ftm.metrics.tfqi`; docs/joint-coding.md says what of
seed 003's experiment is not built yet.
"""

from ftm.joint.texture import SEED003_QPS, TextureResult, code_texture

__all__ = ["SEED003_QPS", "TextureResult", "code_texture"]
