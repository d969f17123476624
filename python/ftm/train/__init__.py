"""Training of seed 001's learned vector codecs (the "learned" extra: torch, faiss-cpu).

- :mod:`~ftm.train.layers`: GDN/IGDN in torch (Ballé's reparameterization);
- :mod:`~ftm.train.networks`: PRO, the PRO-E enhancer, SQ-E;
- :mod:`~ftm.train.loop`: the shared training loop (Adam, batches, progress, seeds);
- :mod:`~ftm.train.methods`: PRO (eq. 5), PRO-E (eq. 6), SQ-E;
- :mod:`~ftm.train.product`: PQ and OPQ codebooks with faiss;
- :mod:`~ftm.train.config`, :mod:`~ftm.train.run`: ``ftm-train``'s settings and
  one training run from a labelled set to a model file.

A trained model is a file (:mod:`ftm.codecs.learned.model_file`) that the
learned codec uses through ``ftm.encode``/``ftm.decode`` and the command line.
Importing this package imports nothing heavy; its modules import torch.
"""
