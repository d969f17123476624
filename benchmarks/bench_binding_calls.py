"""Cost per call of the pybind11 glue: two builds of ``ftm._core`` side by side in one script.

    python benchmarks/bench_binding_calls.py BASELINE.so CANDIDATE.so [--repeat 7] [--json FILE]

The glue (``cpp/bindings``) converts arguments, allocates the results and
calls into the core; the per-element work is in ``ftm_core``, compiled the
same way in both builds. What the glue's compiler flags can change is the
time of a call on small inputs, so each case is a small input, called many
times in a loop, and the builds alternate round by round so that the load
of a shared machine falls on both alike. Each round of a build runs in a
child process of its own (two copies of one pybind11 module cannot share
a process: their types would be registered twice). Reported: microseconds per call of
each build (best round) and candidate / baseline.

Typical use (docs/building.md): the baseline is a build of the extension
with pybind11's defaults (-O3 and link-time optimization), the candidate
one with FTM's glue flags (-O1, no LTO).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np

from _timing import machine, print_table, write_json

REPO = Path(__file__).resolve().parents[1]
CALLS = 2000


def load_extension(path: str):
    """Import the extension file at `path` as ``ftm._core``, in place of the installed one."""
    import ftm

    spec = importlib.util.spec_from_file_location("ftm._core", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not an importable extension module")
    module = importlib.util.module_from_spec(spec)
    sys.modules["ftm._core"] = module
    spec.loader.exec_module(module)
    ftm._core = module
    return module


def cases(core) -> Dict[str, Callable[[], object]]:
    """Small inputs, where the glue's share of a call is largest."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 4, 4)).astype(np.float32)
    levels = rng.integers(-3, 4, size=(2, 16)).astype(np.int32)
    coded = core.level_coder.encode_levels(levels, 4, 7, 5, True)
    stream = (REPO / "conformance" / "streams" / "log8_channel_odd_shape.ftm").read_bytes()
    parsed = core.bitstream.parse_stream(stream)
    return {
        "quantize.log_quantize 64 values": lambda: core.quantize.log_quantize(x, 8, False),
        "quantize.sq_quantize 32 values": lambda: core.quantize.sq_quantize(levels.astype(np.float32), 22),
        "level_coder.encode_levels 2 x 16": lambda: core.level_coder.encode_levels(levels, 4, 7, 5, True),
        "level_coder.decode_levels 2 x 16": lambda: core.level_coder.decode_levels(coded, 2, 16),
        f"bitstream.parse_stream {len(stream)} B": lambda: core.bitstream.parse_stream(stream),
        "bitstream.write_stream": lambda: core.bitstream.write_stream(parsed),
    }


def per_call_us(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    for _ in range(CALLS):
        fn()
    return (time.perf_counter() - t0) / CALLS * 1e6


def one_round(path: str) -> Dict[str, float]:
    """Microseconds per call of each case, in this process, for the build at `path`."""
    return {name: per_call_us(fn) for name, fn in cases(load_extension(path)).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline")
    parser.add_argument("candidate")
    parser.add_argument("--repeat", type=int, default=7, help="alternating rounds; the best counts")
    parser.add_argument("--json", default=None)
    parser.add_argument("--round", default=None, help=argparse.SUPPRESS)  # a child: one round of one build
    args = parser.parse_args()
    if args.round:
        print(json.dumps(one_round(args.round)))
        return
    builds = {"baseline": args.baseline, "candidate": args.candidate}
    best: Dict[str, Dict[str, float]] = {b: {} for b in builds}
    for _ in range(args.repeat):
        for build, path in builds.items():
            child = [sys.executable, __file__, args.baseline, args.candidate, "--round", path]
            times = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
            for name, t in times.items():
                best[build][name] = min(best[build].get(name, float("inf")), t)
    rows: List[Dict[str, object]] = []
    for name in best["baseline"]:
        a, b = best["baseline"][name], best["candidate"][name]
        rows.append({"call": name, "baseline_us": round(a, 2), "candidate_us": round(b, 2), "ratio": round(b / a, 3)})
    print_table(rows, ["call", "baseline_us", "candidate_us", "ratio"])
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        write_json(args.json, {"benchmark": "bench_binding_calls", "machine": machine(), "baseline": args.baseline,
                               "candidate": args.candidate, "calls_per_round": CALLS, "rounds": args.repeat,
                               "rows": rows, "load_average_after": os.getloadavg()[0]})  # fmt: skip


if __name__ == "__main__":
    main()
