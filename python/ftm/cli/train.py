"""ftm-train: train a learned vector codec (seed 001, seed 000) on a labelled set and write its model file.

    ftm-train --Method=pro --Lambda=0.3 -o pro.safetensors              # on the default Fashion-MNIST set
    ftm-train --Method=pq --BitsPerDimension=2 -s sets/faces.npz -o pq2.safetensors
    ftm-train --Method=pro-e --LowModel=pro03.safetensors --HighModel=pro01.safetensors -o proe.safetensors
    ftm-train --Method=sq-e --QP=46 -o sqe46.safetensors
    ftm-train --codec dmofc --metric combined --ic 64 -o dmofc64.safetensors   # seed 000
    ftm-train -c train.cfg --Epochs=5

Settings come from -c files, then --Key=Value, then -s/-o/--codec/--metric/--ic; ``--help-keys``
lists them. The model file (safetensors weights and a JSON header) is what
``ftm-encode --Model`` and ``ftm-decode --Model`` take.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import List, Optional

from ftm.cli._tool import check_overrides
from ftm.errors import ConfigError

PROG = "ftm-train"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Train a learned vector codec (SQ-E, PRO, PRO-E, PQ, OPQ, DMOFC) into a model file.",
                                epilog="Any training key can be given as --Key=Value; --help-keys lists them.")  # fmt: skip
    p.add_argument("-c", "--config", action="append", default=[], metavar="FILE", help="config file (repeatable; later files win)")
    p.add_argument("-s", "--set", metavar="SET", help="labelled set: 'default', an embedding-set folder or a labelled .npz (LabelledSet)")
    p.add_argument("-o", "--output", metavar="FILE", help="the model file to write (ModelFile)")
    p.add_argument("--codec", metavar="METHOD", help="what to train (Method): sq-e, pro, pro-e, pq, opq, dmofc")
    p.add_argument("--metric", metavar="METRIC", help="DMOFC: sim, dis or combined (Metric)")
    p.add_argument("--ic", metavar="BYTES", help="DMOFC: information capacity in bytes (IC)")
    p.add_argument("--help-keys", action="store_true", help="list every training key and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    from ftm._atomic import check_output_path
    from ftm.train.config import TrainConfig, describe_train_keys

    args, rest = parser().parse_known_args(argv)
    if args.help_keys:
        print(describe_train_keys())
        return 0
    check_overrides(rest)
    named = (("LabelledSet", args.set), ("ModelFile", args.output), ("Method", args.codec), ("Metric", args.metric), ("IC", args.ic))
    short = [f"--{k}={v}" for k, v in named if v is not None]
    cfg = TrainConfig.load(args.config, rest + short)
    if not cfg.model_file:
        raise ConfigError("say where to write the model: -o FILE (ModelFile)")
    check_output_path(cfg.model_file, "model file (-o / ModelFile)")
    from ftm.train.run import load_labelled_set, train_to_file

    data = load_labelled_set(cfg.labelled_set, progress=not args.no_progress)
    command = " ".join(shlex.quote(a) for a in [PROG, *(sys.argv[1:] if argv is None else argv)])
    model, trained = train_to_file(cfg, data, cfg.model_file, progress=not args.no_progress, command=command)
    last = ", ".join(f"{k} {v:.4g}" for k, v in trained.fit.report.items())
    loss = f"final loss {trained.fit.losses[-1]:.4g}" if trained.fit.losses else "trained"
    print(f"{model.method} model of {model.dims}-d vectors on {int((data.split == 0).sum())} training vectors of set {data.digest[:16]}: "
          f"{loss}{', ' + last if last else ''}; {trained.fit.seconds:.1f} s")  # fmt: skip
    print(f"wrote {cfg.model_file} (sha256 {model.sha256})")
    return 0


def console() -> None:
    from ftm.cli._tool import console as run

    run(PROG, main)


if __name__ == "__main__":
    console()
