"""One ``ftm-joint`` run: the images, the network that embeds them, the experiment, the reports."""

from __future__ import annotations

import sys
from typing import Tuple

import numpy as np

from ftm.errors import InputError
from ftm.joint.config import JointConfig
from ftm.joint.experiment import JointResult, JointSettings, run_joint

__all__ = ["grey", "load_images", "run"]


def grey(image: np.ndarray) -> np.ndarray:
    """H x W uint8: a grey image as it is, a colour one as its BT.601 luma (colour is not coded as 4:2:0 yet)."""
    a = np.asarray(image)
    if a.ndim == 2:
        return a.astype(np.uint8)
    if a.ndim == 3 and a.shape[2] in (3, 4):
        luma = a[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        return np.clip(np.rint(luma), 0, 255).astype(np.uint8)
    raise InputError(f"an image must be H x W or H x W x 3, got shape {a.shape}")


def load_images(cfg: JointConfig) -> Tuple[np.ndarray, np.ndarray]:
    """N x H x W uint8 images and their class ids: ``Images`` balanced from Fashion-MNIST's test split or a folder."""
    from ftm.extract.embeddings import class_ids
    from ftm.extract.images import balanced_subset, folder_photos

    if cfg.image_folder:
        photos = balanced_subset(folder_photos(cfg.image_folder), cfg.images)
    else:
        from ftm.extract.fashion_mnist import fashion_mnist_photos

        photos = fashion_mnist_photos("test", cfg.images)
    images = [grey(p.load()) for p in photos]
    if len({im.shape for im in images}) != 1:
        raise InputError(f"the images must share one size to be coded as one sequence; found {sorted({im.shape for im in images})[:3]}")
    labels, _ = class_ids([p.label for p in photos])
    return np.stack(images), labels


def run(cfg: JointConfig, progress: bool = True) -> JointResult:
    from ftm.extract.images import FULL_VIEWS, Photo
    from ftm.extract.labelled import embed_photos
    from ftm.models import load_network

    images, labels = load_images(cfg)
    network = load_network()

    def embed(x: np.ndarray) -> np.ndarray:  # the network sees each image whole, resized (as the default embedding set)
        photos = [Photo(str(i), None, lambda a=a: a) for i, a in enumerate(x)]
        return embed_photos(photos, network, views=FULL_VIEWS)

    def log(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    settings = JointSettings(cfg.texture_qps, cfg.feature_qps, cfg.weights, cfg.encoder, cfg.pairs, cfg.folds, cfg.pair_seed)
    return run_joint(images, labels, embed, settings, log)
