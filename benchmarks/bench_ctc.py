"""Benchmarks of the common-test-condition runner (ftm-ctc).

scaling: one matrix run with ``--jobs 1`` against ``--jobs 2``, then
``--jobs 2`` against a Dask cluster of two single-threaded worker processes
on loopback; each run starts from an empty output folder (so it includes
starting its workers and loading the network in each) and shares one
pre-extracted feature set. Every job runs with one thread (``--threads 1``),
so that the ratios measure the processes, not thread pools inside a job.
Each comparison is ``--rounds`` pairs of back-to-back runs in alternating
order; the median of the pairs' ratios is reported, with every run's time
and the load average (other work on the machine skews the ratios).

    python benchmarks/bench_ctc.py scaling [--images 0] [--rounds 3] [--work /tmp/ftm-bench-ctc]

dask-profiler: the same matrix with ``--jobs 2``, on Dask with its defaults
and on Dask with its statistical profiler off, interleaved in each round.

    python benchmarks/bench_ctc.py dask-profiler [--rounds 2]

full: the default test condition (cfg/ctc.cfg: the bundled feature set,
all six layers, QP 12/22/32/42, x265) with all cores; prints the wall time
and Table 3, and copies the report files (no features, no bitstreams) to
``--save``.

    python benchmarks/bench_ctc.py full [--work /tmp/ftm-bench-ctc] [--save benchmarks/results/ctc_default]

batching: the default test condition twice from one pre-extracted feature set,
side by side: every image's sequence coded in its own encoder and decoder
processes (``BatchedCoding=0``, FTM 0.1's way) and all images of a job in one
encoder and one decoder process (``BatchedCoding=1``, the default); the wall
times, their ratio, that the job records agree, and where each job's time
goes (inside the external encoder and decoder, the network, and the rest: the
harness; process start-up is inside the external time, estimated apart from
the measured start-up of the bundled ffmpeg times the processes a job starts).

    python benchmarks/bench_ctc.py batching [--json benchmarks/results/ctc_batching.json]

The same for any CTC config, keys overridden with ``--set``:

    FTM_HM_DIR=... python benchmarks/bench_ctc.py full --config cfg/ctc_compare.cfg \
        --set=--Images=24 --set=--Layers=block4,block10,block15 --save benchmarks/results/ctc_compare_small
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = str(ROOT / "cfg" / "ctc.cfg")
REPORT_FILES = ("table3.md", "results.csv", "results.json", "summary.txt", "provenance.json", "bd_rates.md")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# Dask's nanny writes its workers' settings (MALLOC_TRIM_THRESHOLD_, OMP_NUM_THREADS, ...) into the
# environment of the process that hosts it, here this one: the local runs get the environment from before.
CLEAN_ENV = dict(os.environ)


def ftm_ctc(args: List[str]) -> float:
    """Wall time of one ftm-ctc run (it must succeed)."""
    command = [sys.executable, "-m", "ftm.cli.ctc", *args, "--no-progress"]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=CLEAN_ENV)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds


def _run(name: str, out: Path, base: List[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    if name.startswith("dask2"):
        import dask
        from distributed import LocalCluster

        # dask2-noprof: workers without Dask's statistical profiler (a stack sample every 10 ms)
        profile = {"distributed.worker.profile.enabled": name != "dask2-noprof"}
        with dask.config.set(profile), LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                    host="127.0.0.1", dashboard_address=None) as cluster:  # fmt: skip
            return ftm_ctc([*base, "-o", str(out), "--scheduler", cluster.scheduler_address])
    return ftm_ctc([*base, "-o", str(out), "-j", name[-1]])


def _pairs(a: str, b: str, rounds: int, work: Path, base: List[str]) -> List[Dict[str, float]]:
    """``rounds`` runs of a and b back to back, the order swapped every round (ABBA), so a drift of
    the machine's load falls on both; each pair's ratio compares runs made under similar load."""
    pairs = []
    for r in range(rounds):
        times: Dict[str, float] = {}
        for name in (a, b) if r % 2 == 0 else (b, a):
            times[name] = _run(name, work / f"{name}-{r}", base)
            print(f"  round {r + 1} {name}: {times[name]:.1f} s (load {load()})", flush=True)
        pairs.append(times)
    return pairs


def _scaling_matrix(work: Path, images: int) -> List[str]:
    """ftm-ctc arguments of the scaling matrix, its feature set extracted once, outside the timings."""
    cfg = work / "scaling.cfg"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(
        f"FeatureSets : bundled\nImages : {images}\nLayers : block4, block10, block15\nQPs : 12, 22, 32, 42\n"
        f"CodecConfig : {ROOT / 'cfg' / 'ctc_qp22.cfg'}\nConfiguration : x265 Encoder=x265-ffmpeg\n"
    )
    base = ["-c", str(cfg), f"--FeatureSetDir={work / 'featuresets'}", "--threads", "1"]
    subprocess.run([sys.executable, "-m", "ftm.cli.ctc", *base, "-o", str(work / "warmup"), "--list"], check=True,
                   capture_output=True, env=CLEAN_ENV)  # fmt: skip
    return base


def scaling(work: Path, images: int, rounds: int) -> Dict[str, object]:
    base = _scaling_matrix(work, images)
    print(f"load average before: {load()}")
    local = _pairs("jobs1", "jobs2", rounds, work, base)
    dask = _pairs("jobs2", "dask2", rounds, work, base)
    print(f"load average after: {load()}")
    speedups = sorted(p["jobs1"] / p["jobs2"] for p in local)
    overheads = sorted(p["dask2"] / p["jobs2"] - 1.0 for p in dask)
    jobs = len(list((work / "jobs1-0" / "jobs").glob("*.json")))
    result = {
        "matrix": f"bundled set, {images or 126} images, layers block4/block10/block15, QP 12/22/32/42, x265: {jobs} jobs",
        "local_pairs": local,
        "dask_pairs": dask,
        "speedup_median": statistics.median(speedups),
        "dask_overhead_median": statistics.median(overheads),
    }
    print(result["matrix"])
    print("speed-up --jobs 2 over --jobs 1 per round: " + ", ".join(f"{x:.2f}x" for x in speedups)
          + f"; median {result['speedup_median']:.2f}x (target >= 1.8x)")  # fmt: skip
    print("Dask (2 workers) over --jobs 2 per round: " + ", ".join(f"{100 * x:+.1f}%" for x in overheads)
          + f"; median {100 * result['dask_overhead_median']:+.1f}% (target <= 10%)")  # fmt: skip
    return result


def dask_profiler(work: Path, images: int, rounds: int) -> Dict[str, object]:
    """--jobs 2, Dask with its defaults and Dask without its profiler, interleaved, ``rounds`` times."""
    base = _scaling_matrix(work, images)
    print(f"load average before: {load()}")
    rows = []
    for r in range(rounds):
        times = {name: _run(name, work / f"{name}-p{r}", base) for name in ("jobs2", "dask2", "dask2-noprof")}
        over = {name: times[name] / times["jobs2"] - 1.0 for name in ("dask2", "dask2-noprof")}
        print(f"  round {r + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
              + f"; over --jobs 2: Dask {100 * over['dask2']:+.1f}%, without profiler {100 * over['dask2-noprof']:+.1f}%"
              + f" (load {load()})", flush=True)  # fmt: skip
        rows.append(times)
    return {"rounds": rows}


def full(work: Path, save: Optional[Path], config: str, overrides: List[str]) -> Dict[str, object]:
    out = work / ("full" if not overrides and config == DEFAULT_CONFIG else Path(config).stem)
    print(f"load average before: {load()}")
    seconds = ftm_ctc(["-c", config, "-o", str(out), *overrides])
    print(f"load average after: {load()}")
    print(f"{config} {' '.join(overrides)}, all cores: {seconds:.1f} s wall "
          "(bundled feature set extraction included when it was missing)")  # fmt: skip
    print((out / "table3.md").read_text())
    if (out / "bd_rates.md").is_file():
        print((out / "bd_rates.md").read_text())
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        for name in REPORT_FILES:
            if (out / name).is_file():
                shutil.copy2(out / name, save / name)
        (save / "plots").mkdir(exist_ok=True)
        for png in (out / "plots").glob("*.png"):
            shutil.copy2(png, save / "plots" / png.name)
        print(f"reports copied to {save}")
    summary = json.loads((out / "results.json").read_text())["summary"]
    return {"seconds": seconds, "summary": summary}


def _startup_seconds() -> float:
    """Median wall time of starting the bundled ffmpeg and letting it exit (``-version``)."""
    from ftm.codecs.video.ffmpeg import find_ffmpeg

    exe = find_ffmpeg()
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _shares(out: Path, processes_per_job) -> Dict[str, float]:
    records = [json.loads(p.read_text()) for p in sorted((out / "jobs").glob("*.json"))]
    total = sum(r["total_seconds"] for r in records)
    external = sum(r["external_seconds"] for r in records)
    network = sum(r["eval_seconds"] for r in records)
    startup = _startup_seconds() * sum(processes_per_job(r) for r in records)
    return {
        "job_seconds": total,
        "external_seconds": external,
        "network_seconds": network,
        "harness_share": (total - external - network) / total,
        "startup_share_estimate": startup / total,
        "outside_share": (total - external - network + startup) / total,
    }


def batching(work: Path, config: str) -> Dict[str, object]:
    """The default CTC with per-image processes and with batched coding, from one feature set."""
    sets = work / "featuresets"
    base = ["-c", config, f"--FeatureSetDir={sets}"]
    subprocess.run([sys.executable, "-m", "ftm.cli.ctc", *base, "-o", str(work / "warmup"), "--QPs=42",
                    "--Layers=head"], check=True, capture_output=True, env=CLEAN_ENV)  # fmt: skip
    runs = {}
    for mode, flag in (("per-image", "0"), ("batched", "1")):
        out = work / f"batching-{mode}"
        shutil.rmtree(out, ignore_errors=True)
        print(f"load average before {mode}: {load()}", flush=True)
        seconds = ftm_ctc([*base, "-o", str(out), f"--Configuration=x265-ffmpeg Encoder=x265-ffmpeg BatchedCoding={flag}"])
        images = lambda r: int(r["images"])  # noqa: E731
        per_job = (lambda r: 2 * images(r)) if flag == "0" else (lambda r: 2)
        runs[mode] = {"seconds": seconds, **_shares(out, per_job)}
        print(f"{mode}: {seconds:.1f} s wall; outside encoder, decoder and network: "
              f"{100 * runs[mode]['outside_share']:.1f}% of job time (harness {100 * runs[mode]['harness_share']:.1f}%, "
              f"process start-up {100 * runs[mode]['startup_share_estimate']:.1f}% estimated)", flush=True)  # fmt: skip
    a, b = (json.loads((work / f"batching-{m}" / "results.json").read_text())["jobs"] for m in ("per-image", "batched"))
    keys = ("compressed_bytes", "f_classification", "f_retrieval", "feature_mse")
    same = all(all(x[k] == y[k] for k in keys) for x, y in zip(a, b)) and len(a) == len(b)
    speedup = runs["per-image"]["seconds"] / runs["batched"]["seconds"]
    print(f"batched over per-image: {speedup:.2f}x (goal >= 3x); job records agree: {same}")
    return {"config": config, "runs": runs, "speedup": speedup, "records_agree": same, "jobs": len(a)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("scaling", "dask-profiler", "full", "batching"))
    p.add_argument("--json", default=None, help="batching: also write the figures here")
    p.add_argument("--work", default="/tmp/ftm-bench-ctc", help="scratch folder (feature sets, outputs)")
    p.add_argument("--images", type=int, default=0, help="scaling, dask-profiler: bundled inputs in the matrix (0: all 126)")
    p.add_argument("--rounds", type=int, default=3, help="scaling: pairs of runs for each comparison; dask-profiler: rounds")
    p.add_argument("--save", default=None, help="full: copy the reports here")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="full: the CTC config (default: cfg/ctc.cfg)")
    p.add_argument("--set", action="append", default=[], metavar="--Key=Value", help="full: a CTC key override (repeatable)")
    args = p.parse_args()
    work = Path(args.work)
    if args.what == "scaling":
        scaling(work, args.images, args.rounds)
    elif args.what == "dask-profiler":
        dask_profiler(work, args.images, args.rounds)
    elif args.what == "batching":
        result = batching(work, args.config)
        if args.json:
            from _timing import machine, write_json

            write_json(args.json, {"machine": machine(), **result})
    else:
        full(work, Path(args.save) if args.save else None, args.config, args.set)


if __name__ == "__main__":
    main()
