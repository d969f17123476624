"""Is an in-process x265 (PyAV's libx265) faster than FTM's x265 through the ffmpeg binary?

The CTC codes many small sequences: on the bundled set's block4 layer, 126
images of 40 frames of 32 x 32. Four ways, side by side on the same frames
(8-bit log codes of real features, QP 22, x265 preset slower, tune psnr,
all-intra, the parameters FTM fixes):

- ``subprocess per image``: one ffmpeg process per image (FTM 0.1's way);
- ``PyAV per image``: one libx265 encoder context per image, in this process;
- ``subprocess batched``: one ffmpeg process for every image (FTM's way now,
  :mod:`ftm.codecs.video.batching`);
- ``PyAV batched``: one encoder context for every image.

Each figure is the median of ``--repeat`` runs; the bytes are compared too
(PyAV bundles its own x265 build, which may code differently).

    pip install av && python benchmarks/bench_inprocess_x265.py [--images 126] [--json OUT]
"""

from __future__ import annotations

import argparse
import statistics
import time
from fractions import Fraction

import numpy as np

import ftm
from ftm.codecs.video import make_encoder

PARAMS = "qp=22:ipratio=1:pbratio=1:keyint=1:info=0:hash=0:repeat-headers=1:ctu=32:log-level=error"


def sequences(count: int):
    x = ftm.data.default_features()
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):  # each image its own features: the default tensor, scaled and shifted
        q, _ = ftm.quantize(x * rng.uniform(0.5, 2.0) + rng.uniform(0, 0.5), "log", 8)
        out.append(ftm.pack(q, "channel")[0])
    return out


def pyav_encode(frames_list):
    import av

    codec = av.CodecContext.create("libx265", "w")
    codec.width, codec.height, codec.pix_fmt = 32, 32, "gray"
    codec.time_base = Fraction(1, 25)
    codec.options = {"preset": "slower", "tune": "psnr", "x265-params": PARAMS}
    size = 0
    for frames in frames_list:
        for f in frames:
            for packet in codec.encode(av.VideoFrame.from_ndarray(f, format="gray")):
                size += packet.size
    for packet in codec.encode(None):
        size += packet.size
    return size


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=126)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    seqs = sequences(args.images)
    enc = make_encoder("x265-ffmpeg", threads=1)
    sizes = {
        "subprocess per image": sum(len(enc.encode(f, 8, 22).bitstream) for f in seqs),
        "subprocess batched": sum(len(v.bitstream) for v in enc.encode_sequences(seqs, 8, 22)),
        "PyAV per image": sum(pyav_encode([f]) for f in seqs),
        "PyAV batched": pyav_encode(seqs),
    }
    seconds = {
        "subprocess per image": timed(lambda: [enc.encode(f, 8, 22) for f in seqs], args.repeat),
        "PyAV per image": timed(lambda: [pyav_encode([f]) for f in seqs], args.repeat),
        "subprocess batched": timed(lambda: enc.encode_sequences(seqs, 8, 22), args.repeat),
        "PyAV batched": timed(lambda: pyav_encode(seqs), args.repeat),
    }
    base = seconds["subprocess per image"]
    print(f"{args.images} images of 40 frames of 32 x 32, QP 22, x265 slower/psnr, one thread")
    for name, s in seconds.items():
        print(f"  {name:<22} {s:7.2f} s  {base / s:5.2f}x  {1e3 * s / args.images:6.1f} ms/image  {sizes[name]} bytes")
    if args.json:
        from _timing import machine, write_json

        write_json(args.json, {"machine": machine(), "images": args.images, "seconds": seconds, "bytes": sizes})


if __name__ == "__main__":
    main()
