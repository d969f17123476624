"""ftm-eval: the fidelity table of seed 002 for reconstructed features of one layer.

    ftm-eval -f featuresets/bundled -l block4 -r block4.ftm          # writes block4.fidelity.json
    ftm-eval -f featuresets/bundled -l block4 -r recon.npy --bytes 12345 -o block4-qp22.json
    ftm-eval -p pristine.npy -r recon.npy --outputs-pristine out_p.npz --outputs-reconstructed out_r.npz
    ftm-eval -p pristine.npy -r recon.npy -m my_pkg.nets:make_network -l stage3

With ``-f`` the network is rebuilt from the feature set's manifest (its
name or factory reference, and the weights it was made with). With ``-p``
(plain arrays) the task outputs are the user's own (``--outputs-*``, no
network needed) or those of ``-m MODEL`` run from layer ``-l``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import List, Optional

from ftm._atomic import check_output_path
from ftm.cli._tool import set_torch_threads
from ftm.errors import ConfigError

PROG = "ftm-eval"


def parser() -> argparse.ArgumentParser:
    from ftm.evaluation.reconstruction import RECONSTRUCTION_LOADERS

    p = argparse.ArgumentParser(
        prog=PROG,
        description="Fidelity of reconstructed features: run the rest of the network and compare task outputs.",
    )
    pristine = p.add_mutually_exclusive_group(required=True)
    pristine.add_argument("-f", "--features", help="pristine feature set folder (from ftm-extract)")
    pristine.add_argument("-p", "--pristine", help="pristine features as a plain array file (.npy, .npz, .safetensors)")
    p.add_argument("-r", "--reconstruction", required=True,
                   help=f"reconstructed features: {', '.join(sorted(RECONSTRUCTION_LOADERS))} file or feature-set folder")  # fmt: skip
    p.add_argument("-l", "--layer", default=None, help="split point (default: the feature set's only layer)")
    p.add_argument("--bytes", type=int, default=None, help="compressed size in bytes, for the compression rate")
    p.add_argument("--bitstream", default=None, help="compressed file whose size gives the compression rate")
    p.add_argument("-o", "--json", default=None,
                   help="JSON output (default: the reconstruction's name with .fidelity.json, beside it; "
                        "ftm-encode's summaries end in .json, so neither tool overwrites the other's)")  # fmt: skip
    p.add_argument("--outputs-pristine", metavar="FILE",
                   help="with -p: your network's outputs from the pristine features (.npz/.safetensors with "
                        "'logits' and/or 'descriptor')")  # fmt: skip
    p.add_argument("--outputs-reconstructed", metavar="FILE", help="with -p: the same from the reconstructed features")
    p.add_argument("--labels", metavar="FILE", help="with -p: one label per image (.npy, or text one per line), for mAP")
    p.add_argument("-m", "--model", default=None,
                   help="with -p: run the rest of this network (FTM's name or package.module:function) from layer -l")  # fmt: skip
    p.add_argument("--weights", default=None, metavar="FILE",
                   help="weights file of the network (default with -f: the one the feature set records)")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=32, help="images per batch through the rest of the network")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--det-matching", choices=("authors", "highest-iou"), default="authors",
                   help="a detector's F_detection: match pristine detections in descending confidence, each to its best "
                        "remaining one (authors, seed 002's code; the default) or the highest-IoU pair first (FTM 0.2)")  # fmt: skip
    p.add_argument("--pixel-inclusive", action="store_true",
                   help="a detector's F_detection with VOC's +1-pixel box areas (for pixel boxes; FTM's detector gives normalised ones)")  # fmt: skip
    return p


def default_json(reconstruction: str) -> str:
    """recon.npy -> recon.fidelity.json; a feature-set folder sets/x -> sets/x.fidelity.json."""
    path = Path(reconstruction.rstrip("/\\"))
    stem = path.name if path.is_dir() else path.stem
    return str(path.with_name(f"{stem}.fidelity.json"))


def _check_args(args) -> None:
    if args.bytes is not None and args.bitstream is not None:
        raise ConfigError("give --bytes or --bitstream, not both")
    if args.bytes is not None and args.bytes < 0:
        raise ConfigError(f"--bytes must be >= 0, got {args.bytes}")
    own = [f"--{name.replace('_', '-')}" for name in ("outputs_pristine", "outputs_reconstructed", "labels", "model")
           if getattr(args, name) is not None]  # fmt: skip
    if args.features is not None and own:
        raise ConfigError(f"{own[0]} applies to plain arrays (-p); a feature set (-f) holds its model and labels")
    if args.model is not None and (args.outputs_pristine or args.outputs_reconstructed):
        raise ConfigError("give -m (FTM runs the network) or --outputs-pristine/--outputs-reconstructed (yours), not both")
    if args.model is not None and args.layer is None:
        raise ConfigError("-m needs -l/--layer, the split point the features come from")
    if args.weights is not None and args.pristine is not None and args.model is None:
        raise ConfigError("--weights applies to a network: give -m with it")


def _from_feature_set(args, compressed):
    from ftm.evaluation import evaluate_layer, load_reconstruction
    from ftm.extract.featureset import read_feature_set
    from ftm.models import network_from_record

    fs = read_feature_set(args.features)
    layer = args.layer
    if layer is None:
        if len(fs.layers) != 1:
            raise ConfigError(f"{fs.path} has layers {fs.layers}; choose one with -l/--layer")
        layer = fs.layers[0]
    recon = load_reconstruction(args.reconstruction, layer)
    network = network_from_record(fs.manifest["model"], weights=args.weights)
    report = evaluate_layer(
        network, layer, fs.features(layer), recon.features, labels=fs.labels(),
        compressed_bytes=compressed if compressed is not None else recon.compressed_bytes, batch_size=args.batch_size,
        matching=args.det_matching, pixel_inclusive=args.pixel_inclusive,
    )  # fmt: skip
    report["feature_set"] = str(fs.path)
    return report


def _from_arrays(args, compressed):
    from ftm.evaluation import evaluate_arrays, evaluate_layer, load_labels, load_outputs, load_reconstruction

    layer = args.layer
    pristine = load_reconstruction(args.pristine, layer).features
    recon = load_reconstruction(args.reconstruction, layer)
    compressed = compressed if compressed is not None else recon.compressed_bytes
    labels = load_labels(args.labels) if args.labels else None
    if args.model is not None:
        from ftm.models import load_network

        network = load_network(args.model, weights=args.weights)
        report = evaluate_layer(network, layer, pristine, recon.features, labels=labels, compressed_bytes=compressed,
                                batch_size=args.batch_size, matching=args.det_matching,
                                pixel_inclusive=args.pixel_inclusive)  # fmt: skip
    else:
        if (args.outputs_pristine is None) != (args.outputs_reconstructed is None):
            raise ConfigError("give --outputs-pristine and --outputs-reconstructed together: each task compares both")
        outputs = [load_outputs(f) if f else None for f in (args.outputs_pristine, args.outputs_reconstructed)]
        report = evaluate_arrays(pristine, recon.features, outputs_pristine=outputs[0], outputs_reconstructed=outputs[1],
                                 labels=labels, compressed_bytes=compressed,
                                 layer=layer or Path(args.pristine).stem)  # fmt: skip
    report["pristine"] = str(args.pristine)
    return report


def main(argv: Optional[List[str]] = None) -> int:
    from ftm._atomic import write_text_atomic
    from ftm.evaluation import format_table

    args = parser().parse_args(argv)
    _check_args(args)
    json_path = args.json or default_json(args.reconstruction)
    check_output_path(json_path, "JSON output (-o)")
    compressed = args.bytes
    if args.bitstream is not None:
        compressed = Path(args.bitstream).stat().st_size
    if args.features is not None or args.model is not None:
        set_torch_threads(args.threads)
    report = _from_feature_set(args, compressed) if args.features is not None else _from_arrays(args, compressed)
    report["reconstruction"] = str(args.reconstruction)
    write_text_atomic(json_path, json.dumps(report, indent=1) + "\n")
    source = report["model"] or f"own outputs ({', '.join(report['outputs']) or 'none: rate and feature error only'})"
    print(f"FTM fidelity: {source} at {report['layer']}, {report['images']} images, reconstruction {args.reconstruction}")
    print(format_table([report]))
    print(f"wrote {json_path}")
    return 0


def console() -> None:
    from ftm.cli._tool import console as run

    run(PROG, main)


if __name__ == "__main__":  # pragma: no cover
    console()
