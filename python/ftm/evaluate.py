"""``ftm-eval``: what coding a feature set's layer costs the machine tasks.

Given a feature set (from ``ftm-extract``) and reconstructed features of one
of its layers, run the rest of the network from both, compare the task
outputs with :func:`ftm.metrics.task_fidelity`, print a fixed-width table and
save the same figures as JSON.

Reconstructed features are read by :func:`load_reconstruction`, which picks a
loader by file suffix from ``RECONSTRUCTION_LOADERS`` (a feature-set folder is
read as such). A loader returns the features and, when it knows them, the
compressed bytes; a new input format is one function added to that table.

The pristine outputs are recomputed from the pristine features by the same
code path and batching as the reconstructed ones, so that uncompressed
features give fidelity exactly 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from ftm._atomic import write_text_atomic
from ftm.metrics import original_bytes, task_fidelity

__all__ = ["RECONSTRUCTION_LOADERS", "Reconstruction", "evaluate_layer", "format_table", "load_reconstruction", "main"]


@dataclass(frozen=True)
class Reconstruction:
    """Reconstructed features (N x C x H x W) and, when known, the compressed size that produced them."""

    features: np.ndarray
    compressed_bytes: Optional[int] = None


def _load_npy(path: Path, layer: str) -> Reconstruction:
    return Reconstruction(np.load(path, allow_pickle=False))


def _load_npz(path: Path, layer: str) -> Reconstruction:
    with np.load(path, allow_pickle=False) as z:
        names = list(z.files)
        if layer in names:
            return Reconstruction(z[layer])
        if len(names) == 1:
            return Reconstruction(z[names[0]])
    raise ValueError(f"{path}: no array named {layer!r} (and not exactly one array); it holds {names}")


def _load_safetensors(path: Path, layer: str) -> Reconstruction:
    from ftm.extract.featureset import load_layer_file

    return Reconstruction(load_layer_file(path, layer, allow_single=True))


def _load_feature_set(path: Path, layer: str) -> Reconstruction:
    from ftm.extract.featureset import read_feature_set

    return Reconstruction(read_feature_set(path).features(layer))


def _load_ftm(path: Path, layer: str) -> Reconstruction:
    """Decode a .ftm stream. The compressed size is the whole file for a
    single-tensor stream, else the record of the tensor named ``layer``."""
    from ftm import _core
    from ftm.streams import decode_all, record_bytes

    data = path.read_bytes()
    tensors = decode_all(data)
    if len(tensors) == 1:
        return Reconstruction(next(iter(tensors.values())), compressed_bytes=len(data))
    if layer not in tensors:
        raise ValueError(f"{path}: no tensor named {layer!r} (and not exactly one tensor); it holds {list(tensors)}")
    record = next(r for r in _core.parse_stream(data).tensors if r.name == layer)
    return Reconstruction(tensors[layer], compressed_bytes=record_bytes(record))


# File suffix -> loader(path, layer). A folder is always read as a feature set.
RECONSTRUCTION_LOADERS: Dict[str, Callable[[Path, str], Reconstruction]] = {
    ".npy": _load_npy,
    ".npz": _load_npz,
    ".safetensors": _load_safetensors,
    ".ftm": _load_ftm,
}


def load_reconstruction(path, layer: str) -> Reconstruction:
    """Reconstructed features of ``layer`` from a file or a feature-set folder."""
    p = Path(path)
    if p.is_dir():
        return _load_feature_set(p, layer)
    if not p.is_file():
        raise FileNotFoundError(f"reconstruction {str(p)!r} does not exist")
    loader = RECONSTRUCTION_LOADERS.get(p.suffix.lower())
    if loader is None:
        raise ValueError(
            f"{p}: cannot read reconstructed features from a {p.suffix or 'suffix-less'} file; "
            f"supported: {', '.join(sorted(RECONSTRUCTION_LOADERS))} or a feature-set folder"
        )
    return loader(p, layer)


def evaluate_layer(
    network,
    layer: str,
    pristine: np.ndarray,
    reconstructed: np.ndarray,
    *,
    labels=None,
    compressed_bytes: Optional[int] = None,
    batch_size: int = 32,
    pristine_outputs: Optional[Tuple[np.ndarray, np.ndarray]] = None,
) -> dict:
    """Run the rest of ``network`` from pristine and reconstructed features at ``layer``; the fidelity table.

    ``pristine_outputs`` is ``outputs_from(network, layer, pristine, batch_size)``
    when the caller already has it (several codings of one layer need it once).
    """
    from ftm.extract.split import outputs_from

    p = np.asarray(pristine)
    r = np.asarray(reconstructed)
    if p.shape != r.shape:
        raise ValueError(f"reconstructed features must have the pristine shape {p.shape}, got {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("reconstructed features hold non-finite values")
    if pristine_outputs is None:
        pristine_outputs = outputs_from(network, layer, p, batch_size)
    desc_p, logits_p = pristine_outputs
    desc_r, logits_r = outputs_from(network, layer, r.astype(np.float32, copy=False), batch_size)
    report = {"model": network.name, "layer": layer, "feature_shape": list(p.shape[1:])}
    report.update(
        task_fidelity(
            logits_p, logits_r, desc_p, desc_r, labels=labels,
            compressed_bytes=compressed_bytes, original_bytes=original_bytes(p.shape),
        )  # fmt: skip
    )
    diff = r.astype(np.float64) - p.astype(np.float64)
    report["feature_mse"] = float(np.mean(diff**2))
    report["feature_max_abs_error"] = float(np.max(np.abs(diff)))
    return report


_COLUMNS = (
    ("Layer", "layer", "{:<10}", 10),
    ("Images", "images", "{:>6d}", 6),
    ("OrigBytes", "original_bytes", "{:>11d}", 11),
    ("CompBytes", "compressed_bytes", "{:>10d}", 10),
    ("CompRate", "compression_rate", "{:>9.6f}", 9),
    ("F_cls", "f_classification", "{:>7.4f}", 7),
    ("Top1", "top1_agreement", "{:>7.4f}", 7),
    ("Top5", "top5_overlap", "{:>7.4f}", 7),
    ("F_ret", "f_retrieval", "{:>7.4f}", 7),
    ("mAP_p", "map_pristine", "{:>7.4f}", 7),
    ("mAP_r", "map_reconstructed", "{:>7.4f}", 7),
    ("FeatMSE", "feature_mse", "{:>11.4e}", 11),
)


def format_table(reports: Sequence[dict]) -> str:
    """Fixed-width table, one row per report; a missing figure prints as '-'."""
    header = " ".join(f"{title:>{w}}" if i else f"{title:<{w}}" for i, (title, _, _, w) in enumerate(_COLUMNS))
    rows = [header]
    for rep in reports:
        cells = []
        for i, (_, key, fmt, w) in enumerate(_COLUMNS):
            value = rep.get(key)
            cells.append(fmt.format(value) if value is not None else (f"{'-':>{w}}" if i else f"{'-':<{w}}"))
        rows.append(" ".join(cells))
    return "\n".join(rows)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ftm-eval",
        description="Fidelity of reconstructed features: run the rest of the network and compare task outputs.",
    )
    p.add_argument("-f", "--features", required=True, help="pristine feature set folder (from ftm-extract)")
    p.add_argument("-r", "--reconstruction", required=True,
                   help=f"reconstructed features: {', '.join(sorted(RECONSTRUCTION_LOADERS))} file or feature-set folder")  # fmt: skip
    p.add_argument("-l", "--layer", default=None, help="split point (default: the feature set's only layer)")
    p.add_argument("--bytes", type=int, default=None, help="compressed size in bytes, for the compression rate")
    p.add_argument("--bitstream", default=None, help="compressed file whose size gives the compression rate")
    p.add_argument("-o", "--json", default="fidelity.json", help="JSON output (default: fidelity.json)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from ftm.extract.featureset import read_feature_set
        from ftm.extract.pipeline import load_network

        fs = read_feature_set(args.features)
        layer = args.layer
        if layer is None:
            if len(fs.layers) != 1:
                raise ValueError(f"{fs.path} has layers {fs.layers}; choose one with -l/--layer")
            layer = fs.layers[0]
        if args.bytes is not None and args.bitstream is not None:
            raise ValueError("give --bytes or --bitstream, not both")
        recon = load_reconstruction(args.reconstruction, layer)
        compressed = recon.compressed_bytes
        if args.bytes is not None:
            if args.bytes < 0:
                raise ValueError(f"--bytes must be >= 0, got {args.bytes}")
            compressed = args.bytes
        elif args.bitstream is not None:
            compressed = Path(args.bitstream).stat().st_size
        if args.threads is not None:
            if args.threads < 1:
                raise ValueError(f"--threads must be >= 1, got {args.threads}")
            from ftm.extract.split import torch

            torch.set_num_threads(args.threads)
        network = load_network(fs.model_name)
        report = evaluate_layer(
            network, layer, fs.features(layer), recon.features, labels=fs.labels(),
            compressed_bytes=compressed, batch_size=args.batch_size,
        )  # fmt: skip
        report["feature_set"] = str(fs.path)
        report["reconstruction"] = str(args.reconstruction)
        write_text_atomic(args.json, json.dumps(report, indent=1) + "\n")
    except (ValueError, OSError, ImportError, RuntimeError) as exc:
        print(f"ftm-eval: error: {exc}", file=sys.stderr)
        return 2
    print(f"FTM fidelity: {report['model']} at {layer}, {report['images']} images, reconstruction {args.reconstruction}")
    print(format_table([report]))
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
