"""ftm-joint: seed 003's joint texture and feature coding with TFQI bit allocation, against compress-then-analyze.

    ftm-joint -c cfg/joint.cfg                      # 500 Fashion-MNIST test images, offline
    ftm-joint -c cfg/joint.cfg --Images=2000 -o out -j 2
    ftm-joint -c cfg/joint.cfg --ImageFolder=lfw-crops --Encoder=hm

Codes the images all intra at every texture QP and their features (from
the lossless images) at every feature QP, each point a job of FTM's runner
(local processes, -j, or Dask, --scheduler; a rerun skips finished points),
fits seed 003's R-D models, allocates each budget by TFQI and compares
with spending it all on texture (features from the decoded images);
report.md, results.json, allocations.csv, the plots and pairs/ (the .ftm
stream of each chosen image + feature pair) go to OutputDir.
"""

from __future__ import annotations

import argparse
from typing import List, Optional

from ftm.cli._tool import check_overrides, report_parser
from ftm.errors import ConfigError

PROG = "ftm-joint"


def parser() -> argparse.ArgumentParser:
    p = report_parser(PROG, "Joint texture and feature coding with TFQI bit allocation (seed 003).")
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the grid points on this Dask scheduler instead (ftm[ctc])")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    from ftm.joint.config import describe_joint_keys, load_joint_config

    args, rest = parser().parse_known_args(argv)
    if args.help_keys:
        print(describe_joint_keys())
        return 0
    check_overrides(rest)
    cfg = load_joint_config(args.config, rest + ([f"--OutputDir={args.output}"] if args.output else []))
    from ftm.joint.reports import bd_rates, write_reports
    from ftm.joint.run import run

    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {args.jobs}")
    result = run(cfg, progress=not args.no_progress, workers=args.jobs, scheduler=args.scheduler, argv=argv)
    written = write_reports(result, cfg.output_dir, plots=not args.no_plots)
    for w1, bd in bd_rates(result).items():
        tfqi, acc = (("-" if v is None else f"{v:+.1f}%") for v in (bd["tfqi"], bd["accuracy"]))
        print(f"w1 = {w1:g}: BD-rate of the TFQI allocation against compress-then-analyze {tfqi} at equal TFQI, {acc} at equal accuracy")
    print(f"wrote {', '.join(p.name for p in written)} in {cfg.output_dir}")
    return 0


def console() -> None:
    from ftm.cli._tool import console as run_console

    run_console(PROG, main)


if __name__ == "__main__":
    console()
