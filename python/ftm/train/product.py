"""PQ and OPQ codebooks trained with faiss (the "learned" extra: faiss-cpu).

Product quantization (Jégou, Douze and Schmid, "Product quantization for
nearest neighbor search", TPAMI 2011) with M sub-quantizers of 2^b
centroids codes a D-d vector in M * b bits: at b = 8, ``bits_per_dimension``
1, 2, 4 and 8 (seed 001's Table 1) mean M = D / 8, D / 4, D / 2 and D. OPQ
(Ge, He, Ke and Sun, "Optimized product quantization", TPAMI 2014) first
learns an orthonormal rotation (faiss's ``OPQMatrix``, its non-parametric
alternating optimization), then the codebooks on the rotated training
vectors. k-means is faiss's, seeded; the codebooks and the rotation go into
the model file and coding needs numpy only.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ftm._optional import require
from ftm.codecs.learned.product_codes import codebook_shape
from ftm.errors import ConfigError
from ftm.extract.embeddings import LabelledSet
from ftm.train.loop import FitResult
from ftm.train.methods import TrainedModel
from ftm.train.provenance import model_header

__all__ = ["ProductSettings", "subquantizers_for", "train_product"]

_ADVISED_POINTS = 39  # faiss's min_points_per_centroid


@dataclass(frozen=True)
class ProductSettings:
    """k-means and OPQ iterations (faiss's defaults: 25 k-means iterations, 50 OPQ iterations)."""

    kmeans_iterations: int = 25
    opq_iterations: int = 50
    seed: int = 0
    progress: bool = True


def subquantizers_for(dims: int, bits_per_dimension: float, code_bits: int = 8) -> int:
    """M such that M * code_bits = bits_per_dimension * D; a ConfigError when no whole M divides D."""
    total = bits_per_dimension * dims
    m = int(round(total / code_bits))
    if m < 1 or abs(m * code_bits - total) > 1e-9 or dims % m:
        raise ConfigError(f"{bits_per_dimension} bits per dimension of {dims}-d vectors is no whole number of "
                          f"{code_bits}-bit codes whose count divides {dims}")  # fmt: skip
    return m


def _faiss():
    faiss = require("faiss", "PQ and OPQ training", extra="learned")
    return faiss


def train_product(data: LabelledSet, method: str, num_subquantizers: int, code_bits: int = 8,
                  settings: ProductSettings = ProductSettings(), threads: Optional[int] = None) -> TrainedModel:  # fmt: skip
    """A PQ or OPQ model of M = ``num_subquantizers`` codes of ``code_bits`` bits, trained on the train split."""
    if method not in ("pq", "opq"):
        raise ValueError(f"method must be 'pq' or 'opq', got {method!r}")
    faiss = _faiss()
    if threads is not None:
        faiss.omp_set_num_threads(threads)
    d = data.dims
    arch = {"num_subquantizers": int(num_subquantizers), "code_bits": int(code_bits)}
    m, ksub, dsub = codebook_shape(d, arch)
    x = np.ascontiguousarray(data.part("train")[0], dtype=np.float32)
    if settings.progress:
        print(f"{method.upper()} M={m} x {code_bits} bits: training with faiss on {x.shape[0]} vectors", file=sys.stderr)
        if x.shape[0] < _ADVISED_POINTS * ksub:  # said once here; faiss would repeat it for every sub-space
            print(f"note: faiss advises at least {_ADVISED_POINTS * ksub} training vectors for {ksub} centroids", file=sys.stderr)
    t0 = time.perf_counter()
    weights = {}
    if method == "opq":
        opq = faiss.OPQMatrix(d, m)
        opq.niter = settings.opq_iterations
        opq.pq = _product_quantizer(faiss, d, m, code_bits, settings)
        opq.train(x)
        rotation = faiss.vector_to_array(opq.A).reshape(d, d).astype(np.float32)
        weights["opq.rotation"] = rotation
        x = np.ascontiguousarray(x @ rotation.T)
    pq = _product_quantizer(faiss, d, m, code_bits, settings)
    pq.train(x)
    weights["pq.centroids"] = faiss.vector_to_array(pq.centroids).reshape(m, ksub, dsub).astype(np.float32)
    result = FitResult(seconds=time.perf_counter() - t0)
    hyper = {"kmeans_iterations": settings.kmeans_iterations, "library": f"faiss {faiss.__version__}",
             "bits_per_dimension": m * code_bits / d}  # fmt: skip
    if method == "opq":
        hyper["opq_iterations"] = settings.opq_iterations
    return TrainedModel(model_header(method, d, arch, hyper, data, settings.seed, result), weights, result)


def _product_quantizer(faiss, d: int, m: int, code_bits: int, settings: ProductSettings):
    pq = faiss.ProductQuantizer(d, m, code_bits)
    pq.cp.niter = settings.kmeans_iterations
    pq.cp.seed = settings.seed
    pq.cp.min_points_per_centroid = 1  # train_product gives faiss's advice once, not once per sub-space
    pq.verbose = False
    return pq
