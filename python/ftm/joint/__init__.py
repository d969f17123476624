"""Joint texture and feature coding (seed 003).

:mod:`ftm.joint.texture` codes images all intra as image records and
measures their rate and MSE; :mod:`ftm.joint.experiment` measures the grid
points, fits the R-D models and allocates (TFQI, the models and the
allocation are in :mod:`ftm.metrics.tfqi`); :mod:`ftm.joint.jobs` and
:mod:`ftm.joint.run` run the grid as resumable jobs of FTM's runner for
``ftm-joint``; :mod:`ftm.joint.reports` writes the tables and plots.
"""

from ftm.joint.texture import SEED003_QPS, TextureResult, code_texture

__all__ = ["SEED003_QPS", "TextureResult", "code_texture"]
