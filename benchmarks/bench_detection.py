"""The detector ssd-mobilenet-v2-coco: per-image head and tail time per split point, and the CTC's detection column.

    python benchmarks/bench_detection.py [--batch 8] [--repeat 3] [--threads 1] [--ctc]
                                         [--json benchmarks/results/detection.json]

On a batch of the bundled detection set (the first ``--batch`` of its 30
crops, preprocessed to 300 x 300), best of ``--repeat`` rounds, per image:

- head: images to the feature at the split point (the sending side);
- tail: the feature to the detections (the receiving side: the rest of
  the backbone, the box predictor, non-maximum suppression);
- full: images to detections, the unsplit network;

in wall-clock seconds and in CPU-seconds of this process (TensorFlow's
threads summed), which other work on a shared machine changes far less.
Loading (TensorFlow's import, the graph, the first run of each feed/fetch
combination) is timed apart.

``--ctc`` also runs ``ftm-ctc -c cfg/ctc_detection.cfg`` (every split point
at QP 12, 22, 32, 42 on the 30 crops, one worker process, one thread) in a
temporary folder and records its wall time, the runner's own ``run_seconds``
(the jobs, without making the feature set), the sum of its jobs' times and
its F_det and det-mAP per layer and QP. ``--ctc-results DIR`` reads those
figures from the output folder of such a run made before (its wall time is
then not known here: ``wall_seconds`` is null).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Optional

import numpy as np

from _timing import machine, write_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(fn, repeat: int):
    """Best (wall, CPU) seconds of ``repeat`` calls, after one warm-up call."""
    fn()
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - w0, time.process_time() - c0))
    return best


def bench_split_points(batch: int, repeat: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)  # the detector takes torch's thread count (the tools set it)
    t0 = time.perf_counter()
    from ftm.extract.images import DEFAULT_VIEWS, detection_photos, preprocessed_batches
    from ftm.models import load_network

    net = load_network("ssd-mobilenet-v2-coco")
    load_seconds = time.perf_counter() - t0
    _metas, x = next(preprocessed_batches(detection_photos(), DEFAULT_VIEWS, net.preprocessing, batch))
    full = timed(lambda: net.capture(x, []), repeat)
    rows = []
    for layer in net.split_points:
        feats = net.run_to(layer, x)
        head = timed(lambda: net.run_to(layer, x), repeat)
        tail = timed(lambda: net.run_from(layer, feats), repeat)
        rows.append({
            "layer": layer, "shape": list(feats.shape[1:]), "bytes_per_image": int(feats[0].nbytes),
            "head_seconds": head[0] / batch, "head_cpu_seconds": head[1] / batch,
            "tail_seconds": tail[0] / batch, "tail_cpu_seconds": tail[1] / batch,
        })  # fmt: skip
        print(f"{layer:<6} {' x '.join(map(str, feats.shape[1:])):>14}  head {1e3 * head[0] / batch:7.1f} ms "
              f"({1e3 * head[1] / batch:7.1f} CPU-ms)  tail {1e3 * tail[0] / batch:7.1f} ms ({1e3 * tail[1] / batch:7.1f} CPU-ms)")  # fmt: skip
    print(f"full   {1e3 * full[0] / batch:.1f} ms ({1e3 * full[1] / batch:.1f} CPU-ms) per image; load {load_seconds:.1f} s")
    return {"batch": batch, "repeat": repeat, "threads": threads, "load_seconds": load_seconds,
            "full_seconds": full[0] / batch, "full_cpu_seconds": full[1] / batch, "split_points": rows}  # fmt: skip


def _ctc_figures(out: str) -> dict:
    with open(os.path.join(out, "results.json")) as f:
        doc = json.load(f)
    jobs = [{k: j.get(k) for k in ("layer", "qp", "status", "compression_rate", "f_detection", "det_map", "det_map50",
                                  "encode_seconds", "decode_seconds", "eval_seconds", "total_seconds")}
            for j in doc["jobs"]]  # fmt: skip
    return {"run_seconds": doc["summary"].get("run_seconds"), "jobs": jobs,
            "job_seconds": sum(j["total_seconds"] or 0 for j in jobs), "bd_rates": doc.get("bd_rates")}  # fmt: skip


def bench_ctc(results: Optional[str]) -> dict:
    command = "ftm-ctc -c cfg/ctc_detection.cfg -j 1 --threads 1"
    if results is not None:
        figures = {"command": command, "from_results": os.path.abspath(results), "wall_seconds": None, **_ctc_figures(results)}
    else:
        cfg = os.path.join(ROOT, "cfg", "ctc_detection.cfg")
        with tempfile.TemporaryDirectory(prefix="ftm-bench-detection-") as tmp:
            out = os.path.join(tmp, "out")
            argv = [sys.executable, "-m", "ftm.cli.ctc", "-c", cfg, "-o", out, "-j", "1", "--threads", "1", "--no-progress"]
            t0 = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
            figures = {"command": command, "wall_seconds": wall, **_ctc_figures(out)}
    wall = "?" if figures["wall_seconds"] is None else f"{figures['wall_seconds']:.1f}"
    print(f"{command}: {wall} s wall, run_seconds {figures['run_seconds']:.1f}, "
          f"{figures['job_seconds']:.1f} s in {len(figures['jobs'])} jobs")  # fmt: skip
    for j in figures["jobs"]:
        print(f"  {j['layer']:<6} QP{j['qp']:<3} rate {j['compression_rate']:.4f}  F_det {j['f_detection']:.4f}  "
              f"det-mAP {j['det_map']:.4f}  {j['total_seconds']:.1f} s")  # fmt: skip
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ctc", action="store_true", help="also run the detection CTC and time it")
    p.add_argument("--ctc-results", metavar="DIR", help="read the detection CTC's figures from this earlier run's output folder")
    p.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "results", "detection.json"))
    args = p.parse_args()
    load = os.getloadavg()
    result = {"machine": machine(), "load_average_before": list(load),
              "split_inference": bench_split_points(args.batch, args.repeat, args.threads)}  # fmt: skip
    if args.ctc or args.ctc_results:
        result["ctc"] = bench_ctc(args.ctc_results)
    result["load_average_after"] = list(os.getloadavg())
    write_json(args.json, result)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
