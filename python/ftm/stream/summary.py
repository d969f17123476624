"""End-of-run summary: an HM-like fixed-width table and the same figures as JSON.

The table has one row per tensor and a ``TOTAL`` row for the whole stream.
Columns are separated by whitespace and no field contains any, so scripts
can split lines; a figure that does not apply is ``-``. ``Bits`` and
``CompRate`` of a tensor count every byte of its record, and the ``TOTAL``
row counts every byte of the file, header and end box included (seed 002
eq. 1: compressed bytes over float32 bytes). Two kinds of distortion:
``FramePSNR`` compares the decoded frames with the coded ones, in B-bit
samples (peak 2^B - 1), so it says what the video codec did;
``FeatMSE`` and ``FeatMaxErr`` compare the decoded features with the input,
in the features' own units, so they say what the whole chain did.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List

from ftm._atomic import write_bytes_atomic
from ftm._version import __version__
from ftm.stream.coding import EncodeResult
from ftm.stream.config import Config

__all__ = ["format_table", "summary_dict", "write_summary"]

COLUMNS = ("Tensor", "Shape", "QP", "Frames", "FrameSize", "Bits", "CompRate", "FramePSNR", "FeatMSE", "FeatMaxErr", "Enc(s)", "Dec(s)")
LEGEND = (
    "FramePSNR: dB, decoded frames vs coded frames, B-bit samples (peak 2^B - 1); "
    "FeatMSE, FeatMaxErr: decoded features vs input, in the features' units; CompRate: bytes / float32 bytes (images: / 8-bit sample bytes)"
)


def _g(v: float, digits: int = 4) -> str:
    if math.isinf(v):
        return "inf"
    return f"{v:.{digits}e}"


def _rows(result: EncodeResult) -> List[List[str]]:
    rows = []
    for t in result.tensors:
        rows.append(
            [
                "_".join(t.name.split()) or "-",
                "x".join(map(str, t.shape)),
                str(t.qp) if t.kind != "learned" else "-",  # a learned model, not a QP, sets the rate
                str(t.num_frames) if t.num_frames else "-",
                f"{t.frame_shape[0]}x{t.frame_shape[1]}" if t.num_frames else "-",
                str(t.record_bytes * 8),
                f"{t.compression_rate:.6f}",
                "-" if math.isnan(t.frames_psnr) else "inf" if math.isinf(t.frames_psnr) else f"{t.frames_psnr:.4f}",
                _g(t.mse),
                _g(t.max_error),
                f"{t.encode_seconds:.3f}",
                f"{t.decode_seconds:.3f}",
            ]
        )
    rows.append(
        [
            "TOTAL",
            "-",
            "-",
            str(sum(t.num_frames for t in result.tensors)) if any(t.num_frames for t in result.tensors) else "-",
            "-",
            str(len(result.data) * 8),
            f"{result.compression_rate:.6f}",
            "-",
            "-",
            "-",
            f"{sum(t.encode_seconds for t in result.tensors):.3f}",
            f"{sum(t.decode_seconds for t in result.tensors):.3f}",
        ]
    )
    return rows


def format_table(result: EncodeResult) -> str:
    rows = [list(COLUMNS)] + _rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    if any(t.num_frames for t in result.tensors):
        lines.append(LEGEND)
    else:  # no frames: only the feature figures apply
        lines.append(LEGEND.split("; ", 1)[1])
    return "\n".join(lines)


def summary_dict(result: EncodeResult, cfg: Config) -> Dict[str, Any]:
    """The summary's figures, with the configuration and what coded the stream."""
    encoder, encoder_version = result.encoder

    def finite(v: float):
        return None if math.isinf(v) or math.isnan(v) else v

    return {
        "ftm_version": __version__,
        "encoder": encoder,
        "encoder_version": encoder_version,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.as_keys().items()},
        "config_sources": list(cfg.sources),
        "tensors": [
            {
                "name": t.name,
                "kind": t.kind,
                "shape": list(t.shape),
                "qp": t.qp if t.kind != "learned" else None,
                "bit_depth": t.bit_depth,
                "frames": t.num_frames,
                "frame_shape": list(t.frame_shape),
                "bits": t.record_bytes * 8,
                "original_bytes": t.original_bytes,
                "compression_rate": t.compression_rate,
                "psnr_db": finite(t.frames_psnr),
                "mse": t.mse,
                "max_error": t.max_error,
                "encode_seconds": t.encode_seconds,
                "decode_seconds": t.decode_seconds,
                "external_codec_seconds": t.external_seconds,
            }
            for t in result.tensors
        ],
        "total": {
            "bits": len(result.data) * 8,
            "original_bytes": result.original_bytes,
            "compression_rate": result.compression_rate,
            "encode_seconds": sum(t.encode_seconds for t in result.tensors),
            "decode_seconds": sum(t.decode_seconds for t in result.tensors),
        },
    }


def write_summary(path: str, summary: Dict[str, Any]) -> None:
    write_bytes_atomic(path, (json.dumps(summary, indent=2) + "\n").encode())
