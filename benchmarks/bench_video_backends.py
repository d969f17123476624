"""Figures of the VVC and AVS2 back ends on the bundled feature set (docs/codecs.md).

carrier: what the flat chroma of a 4:2:0 carrier costs. vvenc codes the same
frames as 4:0:0 pictures and as 4:2:0 pictures with flat chroma (its
``chroma_format`` option); the difference in bytes is the carrier's cost,
per picture and as a share of the 4:0:0 stream. First ``--images`` images
of block4, block10 and block15, one frame per channel, log 8-bit, QP 22 and 37.

single-frame: one tiled 10-bit frame (the first image of block10, 112
channels of 14 x 14 in a 154 x 154 frame, padded to 160 x 160) at QP 22
through vvenc and x265: bytes and mean squared error of the samples.

    python benchmarks/bench_video_backends.py [--images 16] [--json benchmarks/results/video_backends.json]

The bundled feature set must exist (``ftm-extract`` or a first ``ftm-ctc``
run; ``--feature-set-dir`` names its parent folder).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ftm.codecs import video
from ftm.kernels.pack import pack
from ftm.kernels.quantize import quantize

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import machine, write_json  # noqa: E402


def layer(folder: Path, name: str) -> np.ndarray:
    from safetensors.numpy import load_file

    tensors = load_file(str(folder / f"{name}.safetensors"))
    return next(iter(tensors.values()))


def carrier(folder: Path, images: int) -> dict:
    mono = video.make_encoder("vvenc")
    flat = video.make_encoder("vvenc", chroma_format=420)
    out = {}
    for name in ("block4", "block10", "block15"):
        x = layer(folder, name)[:images]
        for qp in (22, 37):
            bytes400 = bytes420 = pictures = 0
            for n in range(len(x)):
                codes, _ = quantize(x[n : n + 1], "log", 8)
                frames, _ = pack(codes, "channel")
                bytes400 += len(mono.encode(frames, 8, qp).bitstream)
                bytes420 += len(flat.encode(frames, 8, qp).bitstream)
                pictures += len(frames)
            out[f"{name}.qp{qp}"] = {
                "pictures": pictures, "bytes_400": bytes400, "bytes_420": bytes420,
                "bytes_per_picture": (bytes420 - bytes400) / pictures, "share": (bytes420 - bytes400) / bytes400,
            }  # fmt: skip
            row = out[f"{name}.qp{qp}"]
            print(f"{name} QP {qp}: {pictures} pictures, 4:0:0 {bytes400} B, 4:2:0 flat {bytes420} B: "
                  f"+{row['bytes_per_picture']:.2f} B a picture, +{100 * row['share']:.1f}%")  # fmt: skip
    return out


def single_frame(folder: Path) -> dict:
    codes, _ = quantize(layer(folder, "block10")[:1], "log", 10)
    frames, layout = pack(codes, "tiled")
    dec = video.make_decoder("ffmpeg")
    out = {"frame": list(frames.shape[1:])}
    for name in ("vvenc", "x265-ffmpeg"):
        coded = video.make_encoder(name).encode(frames, 10, 22)
        back = dec.decode(coded.bitstream, *frames.shape, 10, coded.codec, coded.chroma_format).frames
        mse = float(np.mean((back.astype(np.float64) - frames) ** 2))
        out[name] = {"bytes": len(coded.bitstream), "mse": mse, "seconds": coded.seconds}
        print(f"{name}: {frames.shape[2]} x {frames.shape[1]} 10-bit frame at QP 22: {len(coded.bitstream)} B, MSE {mse:.2f}")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=16)
    p.add_argument("--feature-set-dir", default="/tmp/fsets", help="parent folder of efficientnet-lite0-bundled")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    folder = Path(args.feature_set_dir) / "efficientnet-lite0-bundled"
    result = {
        "versions": {"vvenc": video.make_encoder("vvenc").version(), "x265": video.make_encoder("x265-ffmpeg").version()},
        "carrier": carrier(folder, args.images),
        "single_frame": single_frame(folder),
    }
    if args.json:
        write_json(args.json, {"machine": machine(), **result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
