"""Core kernels against the code a researcher would otherwise write.

    python benchmarks/bench_core.py [--json benchmarks/results/core.json]

1. Bubble index of a random permutation, n = 1,000,000, one thread, against
   scipy.stats.kendalltau on the same rankings (target: >= 3x).
2. Bubble index of 800 queries over n = 5,693 (seed 002's retrieval set),
   against a Python transcription of the authors' binary-insertion variant
   (target: >= 200x). Both on random rankings and on close rankings (a few
   local swaps, what a lightly distorted query produces).
3. Logarithmic quantization (8 bits) plus channel-per-frame repack of
   1x512x28x28 and 32x256x56x56 float32 tensors, against numpy (np.log2,
   np.rint, np.pad(mode="edge")) (target: >= 5x).
"""

from __future__ import annotations

import argparse
import bisect

import numpy as np
from scipy.stats import kendalltau

import ftm
from _timing import best_of, machine, print_table, write_json


def binary_insertion_bubble_index(s_p, s_r):
    """The authors' O(n log n)-comparisons variant: bisect each element into the
    sorted prefix and count the larger elements it passes. The id lookup uses
    a dict (Algorithm 1's list.index would make the baseline far slower)."""
    position = {doc: i for i, doc in enumerate(s_p)}
    seen: list = []
    swaps = 0
    for doc in s_r:
        v = position[doc]
        k = bisect.bisect(seen, v)
        swaps += len(seen) - k
        seen.insert(k, v)
    n = len(s_p)
    return 1.0 - swaps / (n * (n - 1) / 2)


def close_ranking(s_p, rng, swaps):
    s_r = s_p.copy()
    i = rng.integers(0, len(s_r) - 8, size=swaps)
    j = i + rng.integers(1, 8, size=swaps)
    for a, b in zip(i, j):
        s_r[a], s_r[b] = s_r[b], s_r[a]
    return s_r


def bench_large_permutation(rng):
    n = 1_000_000
    s_p, s_r = rng.permutation(n), rng.permutation(n)
    rank_p, rank_r = np.argsort(s_p), np.argsort(s_r)  # what kendalltau compares
    ftm.set_num_threads(1)
    try:
        ours = best_of(lambda: ftm.bubble_index(s_p, s_r), repeat=5)
    finally:
        ftm.set_num_threads(0)
    theirs = best_of(lambda: kendalltau(rank_p, rank_r), repeat=3)
    tau = kendalltau(rank_p, rank_r).statistic
    assert abs(ftm.bubble_index(s_p, s_r) - (tau + 1) / 2) < 1e-9
    return {"case": "bubble index n=1e6, 1 thread", "baseline": "scipy.stats.kendalltau",
            "ftm_s": ours, "baseline_s": theirs, "speedup": theirs / ours, "target": 3}


def bench_queries(rng, kind):
    queries, n = 800, 5693
    P = np.stack([rng.permutation(n) for _ in range(queries)])
    if kind == "random":
        R = np.stack([rng.permutation(n) for _ in range(queries)])
    else:
        R = np.stack([close_ranking(p, rng, n // 20) for p in P])
    lists_p, lists_r = P.tolist(), R.tolist()
    ours = best_of(lambda: ftm.bubble_index_batch(P, R), repeat=5)
    theirs = best_of(lambda: [binary_insertion_bubble_index(p, r) for p, r in zip(lists_p, lists_r)], repeat=1)
    want = [binary_insertion_bubble_index(p, r) for p, r in zip(lists_p[:20], lists_r[:20])]
    np.testing.assert_allclose(ftm.bubble_index_batch(P[:20], R[:20]), want, rtol=0, atol=1e-12)
    return {"case": f"800 queries x n=5693, {kind}, {ftm.num_threads()} threads",
            "baseline": "Python binary insertion", "ftm_s": ours, "baseline_s": theirs,
            "speedup": theirs / ours, "target": 200}


def numpy_log_pack(x, bits=8):
    m = x.min()
    level = np.log2(x - m + 1)
    q = np.rint(level / level.max() * (2**bits - 1)).astype(np.uint8)
    n, c, h, w = q.shape
    pad = ((0, 0), (0, -h % 8), (0, -w % 8))
    return np.pad(q.reshape(n * c, h, w), pad, mode="edge")


def ftm_log_pack(x, bits=8):
    q, _ = ftm.quantize(x, "log", bits)
    return ftm.pack(q, "channel")[0]


def bench_log_pack(rng, shape):
    x = np.maximum(rng.normal(size=shape).astype(np.float32), 0)
    # FTM rounds M up to float32 (the value a bitstream carries), so a code may
    # differ by one where L / M sits on a rounding boundary.
    diff = np.abs(ftm_log_pack(x).astype(int) - numpy_log_pack(x.astype(np.float64)).astype(int))
    assert diff.max() <= 1 and np.count_nonzero(diff) <= diff.size * 1e-4
    # Small tensors take well under a millisecond: repeat for a second so the best run is not noise.
    theirs = best_of(lambda: numpy_log_pack(x), repeat=3, min_seconds=1.0)
    rows = []
    for threads in (1, 0):
        ftm.set_num_threads(threads)
        ours = best_of(lambda: ftm_log_pack(x), repeat=5, min_seconds=1.0)
        rows.append({"case": f"log quant + pack {'x'.join(map(str, shape))}, {ftm.num_threads()} threads",
                     "baseline": "numpy float32", "ftm_s": ours, "baseline_s": theirs,
                     "speedup": theirs / ours, "target": 5})
    ftm.set_num_threads(0)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    rng = np.random.default_rng(2019)
    rows = [bench_large_permutation(rng), bench_queries(rng, "random"), bench_queries(rng, "close")]
    rows += bench_log_pack(rng, (1, 512, 28, 28))
    rows += bench_log_pack(rng, (32, 256, 56, 56))
    shown = [{**r, "ftm_s": f"{r['ftm_s']:.4f}", "baseline_s": f"{r['baseline_s']:.4f}",
              "speedup": f"{r['speedup']:.1f}x", "target": f">={r['target']}x",
              "met": "yes" if r["speedup"] >= r["target"] else "NO"} for r in rows]
    print_table(shown, ["case", "baseline", "ftm_s", "baseline_s", "speedup", "target", "met"])
    if args.json:
        write_json(args.json, {"machine": machine(), "ftm_version": ftm.__version__, "rows": rows})


if __name__ == "__main__":
    main()
