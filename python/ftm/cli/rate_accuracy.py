"""ftm-rate-accuracy: seed 001's comparison of vector codecs by rate and verification accuracy.

    ftm-rate-accuracy -c cfg/seed001.cfg                        # every codec on the default Fashion-MNIST set
    ftm-rate-accuracy -c cfg/seed001.cfg -o out --Methods=sq,pro --Epochs=5
    ftm-rate-accuracy -c cfg/seed001.cfg --LabelledSet=faces.npz
    ftm-rate-accuracy --merge out-pro/results.json out-opq/results.json -o merged

Trains (or reuses) every model, codes the test split through .ftm streams,
evaluates the decoded vectors and writes Table 1's layout, every figure,
BD-rates, CSV/JSON and the rate-accuracy, rate-AUC and rate-EER plots.
--merge writes the same reports from finished runs of one labelled set and
pair protocol (ftm.rate_accuracy.merge says what it checks first).
"""

from __future__ import annotations

import argparse
from typing import List, Optional

from ftm.cli._tool import check_overrides, report_parser

PROG = "ftm-rate-accuracy"


def parser() -> argparse.ArgumentParser:
    p = report_parser(PROG, "Compare vector codecs by rate and verification accuracy (seed 001).")
    p.add_argument("--merge", nargs="+", metavar="RESULTS", help="report on finished runs' results.json files together (with -o; no config or keys)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    from ftm.rate_accuracy.config import describe_sweep_keys, load_sweep_config

    args, rest = parser().parse_known_args(argv)
    if args.help_keys:
        print(describe_sweep_keys())
        return 0
    check_overrides(rest)
    if args.merge:
        return merge(args, rest)
    cfg = load_sweep_config(args.config, rest + ([f"--OutputDir={args.output}"] if args.output else []))
    from ftm.rate_accuracy.reports import format_table1, write_reports
    from ftm.rate_accuracy.runner import run_sweep

    result = run_sweep(cfg, progress=not args.no_progress)
    written = write_reports(result, cfg.output_dir, cfg.bd_method, plots=not args.no_plots)
    print(format_table1(result))
    print(f"wrote {', '.join(p.name for p in written)} in {cfg.output_dir}")
    return 0


def merge(args: argparse.Namespace, rest: List[str]) -> int:
    from ftm.errors import ConfigError

    if args.config or rest or not args.output:
        raise ConfigError("--merge takes finished runs' results.json files and -o DIR, and no config file or key")
    from ftm.rate_accuracy.merge import merge_sweeps
    from ftm.rate_accuracy.reports import format_table1, write_reports

    result = merge_sweeps(args.merge)
    written = write_reports(result, args.output, result.config["BdMethod"] or "pchip", plots=not args.no_plots)
    print(format_table1(result))
    print(f"wrote {', '.join(p.name for p in written)} in {args.output}")
    return 0


def console() -> None:
    from ftm.cli._tool import console as run

    run(PROG, main)


if __name__ == "__main__":
    console()
