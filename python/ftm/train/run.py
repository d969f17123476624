"""One training run: a labelled set and a :class:`~ftm.train.config.TrainConfig` to a model file."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ftm.codecs.learned.model_file import ModelFile, read_model_file, write_model_file
from ftm.errors import InputError
from ftm.extract.embeddings import LabelledSet, read_labelled_set

__all__ = ["default_scale", "load_labelled_set", "train_model", "train_to_file"]


def load_labelled_set(name: str, progress: bool = False) -> LabelledSet:
    """"default" (the cached Fashion-MNIST set, extracted on first use), an embedding-set folder or a labelled .npz."""
    if name == "default":
        from ftm.extract.fashion_mnist import default_embedding_set

        return default_embedding_set(progress=progress)
    return read_labelled_set(name)


def default_scale(data: LabelledSet) -> float:
    """1 / max |x| over the train split, as float32: maps the training vectors into [-1, 1] (seed 001's range)."""
    x, _ = data.part("train")
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak == 0:
        raise InputError("the training vectors are all zero: no scale maps them to [-1, 1]")
    return float(np.float32(1.0 / peak))


def train_model(cfg, data: LabelledSet, progress: bool = True):
    """Train what ``cfg`` says on ``data``'s train split: a :class:`~ftm.train.methods.TrainedModel`."""
    from ftm.train.loop import TrainSettings
    from ftm.train.methods import train_pro, train_pro_e, train_sq_e
    from ftm.train.product import ProductSettings, subquantizers_for, train_product

    if cfg.threads:
        from ftm.train.layers import torch

        torch.set_num_threads(cfg.threads)
    if cfg.method in ("pq", "opq"):
        m = subquantizers_for(data.dims, cfg.bits_per_dimension, cfg.code_bits)
        settings = ProductSettings(cfg.kmeans_iterations, cfg.opq_iterations, cfg.seed, progress)
        return train_product(data, cfg.method, m, cfg.code_bits, settings, threads=cfg.threads or None)
    if cfg.method == "dmofc":
        from ftm.train.dmofc import DmofcSettings, train_dmofc

        d = DmofcSettings()
        settings = DmofcSettings(cfg.metric, _given(cfg.epochs, d.epochs), cfg.iterations, cfg.classes_per_batch,
                                 cfg.samples_per_class, _given(cfg.learning_rate, d.learning_rate), cfg.margin, cfg.seed,
                                 progress)  # fmt: skip
        return train_dmofc(data, cfg.ic, settings)
    d = TrainSettings()
    settings = TrainSettings(_given(cfg.epochs, d.epochs), cfg.batch_size, _given(cfg.learning_rate, d.learning_rate), cfg.seed, progress)
    if cfg.method == "pro":
        return train_pro(data, cfg.lam, settings, cfg.hidden or None, cfg.latent_dims or None, cfg.r_clip)
    if cfg.method == "pro-e":
        low, high = read_model_file(cfg.low_model), read_model_file(cfg.high_model)
        return train_pro_e(data, low, high, settings, cfg.enhancer_hidden or None)
    scale = None
    if cfg.normalization == "scale":
        scale = float(np.float32(cfg.scale)) if cfg.scale is not None else default_scale(data)
    quantizer = {"qp": cfg.qp, "normalization": cfg.normalization, "scale": scale, "reconstruction": cfg.reconstruction}
    return train_sq_e(data, quantizer, settings, cfg.hidden or None)


def _given(value, default):
    """A setting the user gave, else the method's default."""
    return default if value is None else value


def train_to_file(cfg, data: LabelledSet, path: str, progress: bool = True, command: Optional[str] = None) -> Tuple[ModelFile, object]:
    """Train, then write the model file atomically at ``path``: (the model as read back, the training run)."""
    trained = train_model(cfg, data, progress)
    header = dict(trained.header, command=command)
    return write_model_file(path, header, trained.weights), trained
