"""Learned vector codecs of seed 001 (Wang, Yang and Wang, "End-to-end facial deep learning
feature compression with teacher-student enhancement"): SQ-E, PRO, PRO-E, and the PQ/OPQ baselines.

- :mod:`~ftm.codecs.learned.codec`: :class:`LearnedCodec`, the codec of
  ``FeatureKind : learned`` records;
- :mod:`~ftm.codecs.learned.model_file`: model files (safetensors weights and
  a JSON header), read and checked;
- :mod:`~ftm.codecs.learned.networks`: the networks (FC, GDN/IGDN), in numpy;
- :mod:`~ftm.codecs.learned.product_codes`: PQ/OPQ coding and the code bit string;
- :mod:`~ftm.codecs.learned.latent`, :mod:`~ftm.codecs.learned.sq_enhanced`,
  :mod:`~ftm.codecs.learned.product`: each method's record payload.

Coding and decoding need numpy only; training (torch, faiss) is
:mod:`ftm.train`. The plain SQ baseline (seed 001 eq. 7-9) is the vector
codec, :mod:`ftm.codecs.sq_vectors`.
"""

from ftm.codecs.learned.codec import LearnedCodec
from ftm.codecs.learned.model_file import METHODS, ModelFile, parse_model, read_model_file, write_model_file

__all__ = ["LearnedCodec", "METHODS", "ModelFile", "parse_model", "read_model_file", "write_model_file"]
