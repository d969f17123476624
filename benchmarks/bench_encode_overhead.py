"""Share of ftm-encode's wall time spent outside the external encoder and decoder.

    python benchmarks/bench_encode_overhead.py [--json benchmarks/results/encode_overhead.json]

At QP 22 (cfg/ctc_qp22.cfg, x265 through ffmpeg), for the bundled input
(1x40x28x28) and for 1x1280x7x7 and 1x144x56x56 tensors, two figures:

- in process: ftm.encode_tensors, whose reports carry the seconds spent
  inside the encoder and decoder processes; outside = quantize, pack, the
  wrapper's piping and checks, depack, dequantize, checksums, container;
- whole tool: the ftm-encode command as a user runs it (a new process, so
  Python's start-up and numpy's import count as outside too).

Target: at most 5% outside. Best of three runs each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np

import ftm
from _timing import machine, print_table, write_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFG = os.path.join(ROOT, "cfg", "ctc_qp22.cfg")


def cases():
    rng = np.random.default_rng(22)
    relu = lambda shape: np.maximum(rng.normal(size=shape), 0).astype(np.float32)  # noqa: E731
    return {"bundled 1x40x28x28": ftm.data.default_features(), "1x1280x7x7": relu((1, 1280, 7, 7)), "1x144x56x56": relu((1, 144, 56, 56))}


def in_process(x):
    cfg = ftm.Config.load([CFG])
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        r = ftm.encode_tensors(x, cfg, progress=False)
        wall = time.perf_counter() - t0
        external = sum(t.external_seconds for t in r.tensors)
        if best is None or wall < best[0]:
            best = (wall, external)
    return best


def whole_tool(x, folder):
    src, out = os.path.join(folder, "in.npy"), os.path.join(folder, "out.ftm")
    np.save(src, x)
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(["ftm-encode", "-c", CFG, "-i", src, "-b", out, "--quiet"], check=True)
        wall = time.perf_counter() - t0
        with open(os.path.join(folder, "out.json")) as f:
            external = sum(t["external_codec_seconds"] for t in json.load(f)["tensors"])
        if best is None or wall < best[0]:
            best = (wall, external)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, x in cases().items():
            for how, (wall, external) in (("in process", in_process(x)), ("ftm-encode", whole_tool(x, folder))):
                share = (wall - external) / wall
                rows.append({"case": name, "measured": how, "wall_ms": wall * 1e3, "external_ms": external * 1e3,
                             "outside": share, "met": share <= 0.05})
    print_table([{**r, "wall_ms": f"{r['wall_ms']:.1f}", "external_ms": f"{r['external_ms']:.1f}",
                  "outside": f"{100 * r['outside']:.1f}%", "met": "yes" if r["met"] else "NO"} for r in rows],
                ["case", "measured", "wall_ms", "external_ms", "outside", "met"])
    if args.json:
        write_json(args.json, {"machine": machine(), "ftm_version": ftm.__version__, "target": 0.05, "rows": rows})


if __name__ == "__main__":
    main()
