"""ftm-extract: real feature sets by split inference on a network of FTM's registry or the user's own, offline.

    ftm-extract -o featuresets/bundled                 # the bundled photos, every split point
    ftm-extract -o fs -i ~/imagenet-val -l block4,head  # a folder of images (sub-folders are labels)
    ftm-extract -o fs -m vgg16 --weights vgg16-397923af.pth -l conv4,pool5
    ftm-extract -o fs -m my_pkg.nets:make_network       # the user's own network (docs/networks.md)
    ftm-extract --list-models
    ftm-extract --list-layers -m resnet50
    ftm-extract --embeddings -o sets/fmnist -i fashion-mnist        # labelled vectors: Debian's Fashion-MNIST subset
    ftm-extract --embeddings -o sets/mine -i ~/photos -l block15    # class sub-folders; a split point, pooled
    ftm-extract --embeddings -o sets/faces --from-npz facenet_lfw.npz

``--embeddings`` writes a labelled embedding set (one vector per image, its
class and its train/test split; :mod:`ftm.extract.embeddings`) instead of a
feature set.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import List, Optional

from ftm.cli._tool import set_torch_threads
from ftm.errors import ConfigError
from ftm.models import MODELS, check_model_name

PROG = "ftm-extract"


def parser() -> argparse.ArgumentParser:
    from ftm.extract.pipeline import VIEW_SETS

    p = argparse.ArgumentParser(
        prog=PROG,
        description="Extract intermediate features of a real network on real images (offline) into a feature set.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("-o", "--output", help="feature set folder to write (must not exist unless --overwrite)")
    what.add_argument("--list-layers", action="store_true",
                      help="print the split points of -m MODEL with their shapes for its input (224 x 224 for FTM's), then exit")  # fmt: skip
    what.add_argument("--list-models", action="store_true", help="print the networks FTM knows and where their weights are, then exit")
    p.add_argument("-i", "--images", default="bundled",
                   help="'bundled' (the photos shipped by scikit-image, scikit-learn, matplotlib; for a detector, the 5 of them "
                        "with objects) or a folder of images")  # fmt: skip
    p.add_argument("--views", choices=sorted(VIEW_SETS), default=None,
                   help="crops per photo: 'default' (6 views), 'centre' (the ImageNet centre crop) or 'full' "
                        "(the whole image resized, for images already at the network's size); "
                        "default: 'default' for bundled photos, 'centre' for a folder")  # fmt: skip
    p.add_argument("-l", "--layers", default="all", help="comma-separated split points, or 'all' (default)")
    p.add_argument("-m", "--model", default="efficientnet-lite0",
                   help=f"{', '.join(MODELS)} (default: efficientnet-lite0), or your own network's factory: "
                        "package.module:function or path/to/file.py:function")  # fmt: skip
    p.add_argument("--weights", default=None, metavar="FILE",
                   help="weights file (a torchvision state_dict, .pth or .safetensors, for vgg16 and the resnets; "
                        "passed to a factory as weights=FILE); default: where the model finds its own")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=16, help="images per forward pass (default: 16)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="keep N whole images (every view of each), taken in turn from each sub-folder (class)")  # fmt: skip
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    e = p.add_argument_group("labelled embedding sets (--embeddings)")
    e.add_argument("--embeddings", action="store_true",
                   help="write a labelled embedding set: -i 'fashion-mnist' or a folder of class sub-folders "
                        "(FOLDER/train and FOLDER/test give the split), -l one layer ('descriptor' by default)")  # fmt: skip
    e.add_argument("--from-npz", metavar="FILE", help="the embedding set of a labelled .npz (features, labels[, split])")
    e.add_argument("--test-fraction", type=float, default=0.2, help="share of each class in the test split when none is given (0.2)")
    e.add_argument("--seed", type=int, default=0, help="seed of that split (0)")
    e.add_argument("--train", type=int, default=None, metavar="N", help="fashion-mnist: training images, balanced (default 12000)")
    e.add_argument("--test", type=int, default=None, metavar="N", help="fashion-mnist: test images, balanced (default 2000)")
    e.add_argument("--full", action="store_true", help="fashion-mnist: all 60,000 + 10,000 images")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _model(text: str) -> str:
    """A registry name, or a factory reference with a file's path made absolute (as the manifest records it)."""
    from ftm.errors import ModelError
    from ftm.models.factory import is_factory_reference, resolve_reference

    try:
        check_model_name(text)
    except ModelError as exc:  # a usage error here: nothing was imported or run yet
        raise ConfigError(f"-m/--model: {exc}") from None
    return resolve_reference(text) if is_factory_reference(text) else text


def _list_models() -> str:
    from ftm.models.torchvision_weights import hub_checkpoints, known_weights

    width = max(len(", ".join(entry.split_points)) for entry in MODELS.values())
    lines = [f"{'Model':<19} {'Split points':<{width}} Weights"]
    for entry in MODELS.values():
        files = known_weights(entry.name)
        if files:
            found = [w.file for w in files if (hub_checkpoints() / w.file).is_file()]
            where = f"found {found[0]}" if found else f"--weights FILE, or {' or '.join(w.file for w in files)} in {hub_checkpoints()}/"
        else:
            where = entry.weights
        lines.append(f"{entry.name:<19} {', '.join(entry.split_points):<{width}} {where}")
    lines.append("Your own network: -m package.module:function or -m path/to/file.py:function, a factory returning "
                 "a SplitNetwork (docs/networks.md)")  # fmt: skip
    return "\n".join(lines)


def _list_layers(model: str, weights) -> str:
    from ftm.models.registry import layer_shapes

    input_shape, shapes = layer_shapes(model, weights)
    lines = [f"{model}: input {' x '.join(map(str, input_shape))}",
             f"{'Layer':<10} {'Shape (C x H x W)':>18} {'float32 bytes / image':>22}"]  # fmt: skip
    for name, shape in shapes.items():
        count = 1
        for extent in shape:
            count *= extent
        lines.append(f"{name:<10} {' x '.join(map(str, shape)):>18} {4 * count:>22,}")
    return "\n".join(lines)


def _summary(fs) -> str:
    lines = [f"Feature set {fs.path}  model {fs.model_name}  images {fs.count}",
             f"{'Layer':<10} {'Shape (C x H x W)':>18} {'Bytes':>12}  sha256 (first 16)"]  # fmt: skip
    for name, entry in fs.manifest["layers"].items():
        shape = " x ".join(map(str, entry["shape"][1:]))
        lines.append(f"{name:<10} {shape:>18} {entry['file_bytes']:>12}  {entry['sha256'][:16]}")
    return "\n".join(lines)


def _embeddings(args, command: str) -> int:
    from pathlib import Path

    if Path(args.output).exists() and not args.overwrite:
        raise ConfigError(f"{args.output} exists; choose another output or give --overwrite")
    if args.from_npz:
        from ftm.extract.embeddings import read_labelled_set, write_labelled_set

        data = read_labelled_set(args.from_npz, test_fraction=args.test_fraction, seed=args.seed)
        out = write_labelled_set(args.output, data, source=data.manifest["source"], command=command, overwrite=args.overwrite)
    else:
        layer = "descriptor" if args.layers == "all" else args.layers.strip()
        if "," in layer:
            raise ConfigError(f"an embedding set holds one layer; -l {args.layers!r} names several")
        if args.images == "bundled":
            raise ConfigError("--embeddings needs labelled images: -i fashion-mnist, or a folder of class sub-folders")
        from ftm.models import load_network

        network = load_network(args.model, args.weights)
        if args.images == "fashion-mnist":
            from ftm.extract.fashion_mnist import DEFAULT_TEST, DEFAULT_TRAIN, default_embedding_set

            counts = (None, None) if args.full else (args.train or DEFAULT_TRAIN, args.test or DEFAULT_TEST)
            out = default_embedding_set(*counts, layer=layer, out=args.output, network=network, batch_size=args.batch_size,
                                        progress=not args.no_progress, command=command)  # fmt: skip
        else:
            from ftm.extract.labelled import extract_labelled_set, folder_classes
            from ftm.extract.pipeline import VIEW_SETS

            views = VIEW_SETS[args.views or "centre"]
            if len(views) != 1:
                raise ConfigError(f"an embedding set takes one view per image; --views {args.views} has {len(views)}")

            photos, split = folder_classes(args.images, args.test_fraction, args.seed, args.limit)
            source = {"kind": "folder", "path": str(Path(args.images).resolve()), "split": "folders" if
                      (Path(args.images) / "train").is_dir() else {"stratified": args.test_fraction, "seed": args.seed}}  # fmt: skip
            out = extract_labelled_set(args.output, photos, split, network=network, layer=layer, views=views, source=source,
                                       batch_size=args.batch_size, overwrite=args.overwrite, command=command,
                                       progress=not args.no_progress)  # fmt: skip
    print(f"Embedding set {args.output}: {out.count} vectors of {out.dims} dimensions, {len(out.classes)} classes, "
          f"{int((out.split == 0).sum())} train / {int((out.split == 1).sum())} test, digest {out.digest[:16]}")  # fmt: skip
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    from ftm.extract.images import folder_photos
    from ftm.extract.pipeline import VIEW_SETS, extract_feature_set
    from ftm.models import load_network

    args = parser().parse_args(argv)
    if args.list_models:
        print(_list_models())
        return 0
    args.model = _model(args.model)
    set_torch_threads(args.threads)
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be >= 1, got {args.limit}")
    if args.embeddings or args.from_npz:
        if args.list_layers:
            raise ConfigError("--list-layers and --embeddings do not go together")
        return _embeddings(args, " ".join(shlex.quote(a) for a in [PROG, *(sys.argv[1:] if argv is None else argv)]))
    if args.full or args.train is not None or args.test is not None:
        raise ConfigError("--train, --test and --full apply to --embeddings -i fashion-mnist")
    if args.list_layers:
        print(_list_layers(args.model, args.weights))
        return 0
    network = load_network(args.model, args.weights)
    bundled = args.images == "bundled"
    photos = None if bundled else folder_photos(args.images)  # bundled: the detection set for a detector
    views = VIEW_SETS[args.views or ("default" if bundled else "centre")]
    layers = None if args.layers == "all" else [s.strip() for s in args.layers.split(",") if s.strip()]
    command = " ".join(shlex.quote(a) for a in [PROG, *(sys.argv[1:] if argv is None else argv)])
    fs = extract_feature_set(
        args.output, network=network, photos=photos, views=views, layers=layers, batch_size=args.batch_size,
        images=args.limit, overwrite=args.overwrite, command=command, progress=not args.no_progress,
    )  # fmt: skip
    print(_summary(fs))
    return 0


def console() -> None:
    from ftm.cli._tool import console as run

    run(PROG, main)


if __name__ == "__main__":  # pragma: no cover
    console()
