"""ftm-eval: the fidelity table of seed 002 for reconstructed features of one layer.

    ftm-eval -f featuresets/bundled -l block4 -r block4.ftm          # writes block4.fidelity.json
    ftm-eval -f featuresets/bundled -l block4 -r recon.npy --bytes 12345 -o block4-qp22.json

The network is rebuilt from the feature set's manifest (its name or
factory reference, and the weights it was made with).
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
    p.add_argument("-f", "--features", required=True, help="pristine feature set folder (from ftm-extract)")
    p.add_argument("-r", "--reconstruction", required=True,
                   help=f"reconstructed features: {', '.join(sorted(RECONSTRUCTION_LOADERS))} file or feature-set folder")  # fmt: skip
    p.add_argument("-l", "--layer", default=None, help="split point (default: the feature set's only layer)")
    p.add_argument("--bytes", type=int, default=None, help="compressed size in bytes, for the compression rate")
    p.add_argument("--bitstream", default=None, help="compressed file whose size gives the compression rate")
    p.add_argument("-o", "--json", default=None,
                   help="JSON output (default: the reconstruction's name with .fidelity.json, beside it; "
                        "ftm-encode's summaries end in .json, so neither tool overwrites the other's)")  # fmt: skip
    p.add_argument("--weights", default=None, metavar="FILE",
                   help="weights file of the network (default: the one the feature set records)")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=32, help="images per batch through the rest of the network")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
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
    )  # fmt: skip
    report["feature_set"] = str(fs.path)
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
    set_torch_threads(args.threads)
    report = _from_feature_set(args, compressed)
    report["reconstruction"] = str(args.reconstruction)
    write_text_atomic(json_path, json.dumps(report, indent=1) + "\n")
    print(f"FTM fidelity: {report['model']} at {report['layer']}, {report['images']} images, reconstruction {args.reconstruction}")
    print(format_table([report]))
    print(f"wrote {json_path}")
    return 0


def console() -> None:
    from ftm.cli._tool import console as run

    run(PROG, main)


if __name__ == "__main__":  # pragma: no cover
    console()
