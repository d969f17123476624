"""How fast Ctrl-C stops an ``ftm-ctc`` run: its workers and their encoders, then the runner.

    python benchmarks/bench_ctrl_c.py [--trials 10] [--jobs 2] [--out benchmarks/results/ctrl_c.json]

Runs the tiny CTC of the tests (tests/data/ctc_tiny.cfg, 16 jobs at QP
12-42) again and again, each time sending SIGINT to the runner at a random
moment after its first job has finished, so that the workers are in the
middle of a job (network, ffmpeg's x265, evaluation). For each trial it
records the seconds from the signal until every worker and every process
below one is gone (exited or a zombie; the issue's goal is 2 s), until the
runner has exited (it writes the reports of what finished first), how many
processes were stopped, and the load average. Linux only (reads /proc).
The first trial also extracts the bundled feature set into a temporary
folder; that time is not counted.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from _timing import machine, write_json

from ftm.ctc.process_tree import descendants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "tests", "data", "ctc_tiny.cfg")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _workers(runner: int) -> list:
    return [p for p in descendants(runner) if b"spawn_main" in _cmdline(p)]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def trial(folder: str, shared: str, jobs: int, rng: random.Random) -> dict:
    out = os.path.join(folder, "out")
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "ftm.cli.ctc", "-c", TINY, "-o", out, f"--FeatureSetDir={shared}",
               "--QPs=12,22,32,42", "-j", str(jobs), "--threads", "1", "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    records = os.path.join(out, "jobs")
    while not (os.path.isdir(records) and any(n.endswith(".json") for n in os.listdir(records))):
        if proc.poll() is not None:
            raise SystemExit(f"bench_ctrl_c: the run ended before its first job did: {proc.stderr.read().decode()[-500:]}")
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 1.5))  # land anywhere in the next job
    workers = _workers(proc.pid)
    tree = workers + [p for w in workers for p in descendants(w)]
    load = os.getloadavg()[0]
    sent = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    stopped = None
    while stopped is None or proc.poll() is None:
        if stopped is None and not any(_alive(p) for p in tree):
            stopped = time.monotonic() - sent
        time.sleep(0.005)
    exited = time.monotonic() - sent
    proc.stderr.read()
    return {"workers": len(workers), "processes": len(tree), "stopped_s": round(stopped, 4),
            "runner_exit_s": round(exited, 3), "returncode": proc.returncode, "load_average": load}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of each run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the moments the signal is sent")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        raise SystemExit("bench_ctrl_c: Linux only (the worker processes are found in /proc)")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-ctrl-c-") as folder:
        shared = os.path.join(folder, "featuresets")
        subprocess.run([sys.executable, "-m", "ftm.cli.ctc", "-c", TINY, "-o", os.path.join(folder, "warm"),
                        f"--FeatureSetDir={shared}", "--list"], check=True, capture_output=True)  # fmt: skip
        subprocess.run([sys.executable, "-m", "ftm.cli.ctc", "-c", TINY, "-o", os.path.join(folder, "warm"),
                        f"--FeatureSetDir={shared}", "--QPs=22", "-j", "1", "--no-progress"], check=True, capture_output=True)  # fmt: skip
        trials = []
        for i in range(args.trials):
            trials.append(trial(folder, shared, args.jobs, rng))
            print(f"trial {i}: {trials[-1]}", flush=True)
    stops = [t["stopped_s"] for t in trials]
    exits = [t["runner_exit_s"] for t in trials]
    summary = {
        "goal_s": 2.0,
        "stopped_s": {"median": statistics.median(stops), "max": max(stops)},
        "runner_exit_s": {"median": statistics.median(exits), "max": max(exits)},
        "all_returned_130": all(t["returncode"] == 130 for t in trials),
    }
    print(f"workers and encoders gone after SIGINT: median {summary['stopped_s']['median']:.3f} s, max {max(stops):.3f} s "
          f"(goal 2 s); runner exited: median {summary['runner_exit_s']['median']:.2f} s, max {max(exits):.2f} s")  # fmt: skip
    if args.out:
        write_json(args.out, {"benchmark": "ctrl_c", "config": TINY, "jobs": args.jobs, "seed": args.seed,
                              "machine": machine(), "summary": summary, "trials": trials})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
