"""ftm-ctc: run a common test condition (feature sets x layers x QPs x configurations), HM style.

    ftm-ctc -c cfg/ctc.cfg                          # seed 002's condition on the bundled feature set
    ftm-ctc -c cfg/ctc.cfg --QPs=22,42 -o out -j 2  # any key as --Key=Value; -o sets OutputDir
    ftm-ctc -c cfg/ctc_compare.cfg --scheduler tcp://10.0.0.5:8786

A rerun with the same output folder skips finished jobs and retries failed
ones. Exit status: 0 when every job succeeded, 1 when some failed (their
errors are in results.csv and jobs/*.json), 2 for a bad command line or
config, 130 when interrupted (finished jobs are kept).
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from ftm.cli._tool import check_overrides
from ftm.errors import ConfigError

PROG = "ftm-ctc"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Run a common test condition: code every layer of every feature set at every QP with every "
        "configuration, evaluate the machine tasks, and report (Table 3 layout, CSV/JSON, plots, BD-rates).",
        epilog="Any CTC key can be given as --Key=Value; --help-keys lists them.",
    )
    p.add_argument("-c", "--config", action="append", default=[], metavar="FILE", help="CTC config file (repeatable; later files win)")
    p.add_argument("-o", "--output", metavar="DIR", help="output folder (OutputDir)")
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="local worker processes (default: all cores)")
    p.add_argument("--threads", type=int, metavar="N", help="threads per job for torch, FTM and x265 (default: cores / workers; 1 on Dask)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the jobs on this Dask distributed scheduler instead of local processes")
    p.add_argument("--list", action="store_true", help="print the jobs of the matrix and their state, run nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--help-keys", action="store_true", help="list every CTC key and exit")
    return p


def _load(args: argparse.Namespace, rest: List[str]):
    from ftm.ctc.config import load_ctc_config

    check_overrides(rest)
    fields = {"output_dir": args.output} if args.output else {}
    return load_ctc_config(args.config, rest, **fields)


def _split_points(cfg):
    """The split points of the bundled set's model: the registry's, or a factory's (it is built, weights and all)."""
    from ftm.models import MODELS, load_network

    if cfg.model in MODELS:
        return MODELS[cfg.model].split_points
    return load_network(cfg.model, cfg.weights or None).split_points


def _list(cfg) -> int:
    """The jobs and their state, making nothing: a bundled set not made yet is listed by its cells."""
    from ftm.ctc.config import BUNDLED
    from ftm.ctc.featuresets import open_feature_sets
    from ftm.ctc.matrix import expand_jobs
    from ftm.ctc.store import ResultStore

    sets = open_feature_sets(cfg, log=lambda m: print(m, file=sys.stderr), create=False)
    store = ResultStore(cfg.output_dir)
    rows = []
    for job in expand_jobs(cfg, sets):
        record = store.load(job.job_id)
        rows.append((job.job_id, "todo" if record is None else record.get("status", "?")))
    if BUNDLED in cfg.feature_sets and BUNDLED not in sets:
        # a job's id ends with a digest of the layer's features, which do not exist yet
        for layer in cfg.layers or _split_points(cfg):
            for variant in cfg.variants():
                rows += [(f"{BUNDLED}.{layer}.qp{qp}.{variant.name}", "todo (the bundled feature set is made on the first run)")
                         for qp in cfg.qps]  # fmt: skip
    width = max((len(job_id) for job_id, _ in rows), default=0)
    for job_id, state in rows:
        print(f"{job_id.ljust(width)}  {state}")
    print(f"{len(rows)} jobs", file=sys.stderr)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args, rest = parser().parse_known_args(argv)
    if args.help_keys:
        from ftm.ctc.config import describe_ctc_keys

        print(describe_ctc_keys())
        return 0
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {args.jobs}")
    if args.threads is not None and args.threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {args.threads}")
    if args.scheduler and args.jobs is not None:
        raise ConfigError("--jobs applies to local processes; with --scheduler the cluster's workers run the jobs")
    cfg = _load(args, rest)
    if args.list:
        return _list(cfg)
    from ftm.ctc.runner import run_ctc

    try:
        summary = run_ctc(
            cfg, workers=args.jobs, scheduler=args.scheduler, threads=args.threads, progress=not args.no_progress,
            argv=[PROG, *(sys.argv[1:] if argv is None else argv)],
        )  # fmt: skip
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; every worker is stopped, finished jobs are kept in {cfg.output_dir}/jobs, "
              f"the reports of what finished are in {cfg.output_dir}, and the same command carries on "
              "from there", file=sys.stderr)  # fmt: skip
        return 130
    from ftm.ctc.reports import format_summary

    print(f"FTM common test conditions: {summary.jobs} jobs, {summary.skipped} finished before, {summary.ran} run now; "
          f"{summary.ok} ok, {summary.failed} failed; {summary.seconds:.1f} s")  # fmt: skip
    print(format_summary(summary.rows), end="")
    for name, path in summary.reports.items():
        if name == "plots":
            for png in path:
                print(f"plot: {png}")
        elif name == "plots_skipped":
            print(f"{PROG}: {path}", file=sys.stderr)
        else:
            print(f"report: {path}")
    return 0 if summary.complete else 1


def console() -> None:
    from ftm.cli._tool import console as run

    run(PROG, main)


if __name__ == "__main__":  # pragma: no cover
    console()
