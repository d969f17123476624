"""Evaluation: the fidelity of machine tasks run on reconstructed features.

- :mod:`~ftm.evaluation.layer`: :func:`evaluate_layer`, the fidelity table of
  one split point (the rest of the network from pristine and reconstructed
  features);
- :mod:`~ftm.evaluation.arrays`: :func:`evaluate_arrays`, the same table from
  plain arrays and the outputs the user's own network gave (no network here);
- :mod:`~ftm.evaluation.reconstruction`: reconstructed features from files
  (.npy, .npz, .safetensors, .ftm streams, feature-set folders).

``ftm-eval`` is :mod:`ftm.cli.eval`; the formulas are in :mod:`ftm.metrics`.
"""

from ftm.evaluation.arrays import evaluate_arrays, load_labels, load_outputs
from ftm.evaluation.layer import evaluate_layer, format_table
from ftm.evaluation.reconstruction import RECONSTRUCTION_LOADERS, Reconstruction, load_reconstruction

__all__ = [
    "RECONSTRUCTION_LOADERS",
    "Reconstruction",
    "evaluate_arrays",
    "evaluate_layer",
    "format_table",
    "load_labels",
    "load_outputs",
    "load_reconstruction",
]
