"""Encode and decode throughput of seed 001's learned vector codecs against SQ, on the models of a sweep.

    python benchmarks/bench_learned.py --sweep rate-accuracy-out [--sweep another-run] [--repeat 3] [--out OUT.json]

For every rate point of finished ``ftm-rate-accuracy`` runs (their
results.json and models/; a point two runs share is timed once), codes the
test split as the sweep did (``ftm.encode_tensors`` with the point's
configuration, ``ftm.decode_all`` with its model) and reports the best of
``--repeat`` wall times as vectors per second: encoding excludes the check decode ``encode_tensors`` does
(reported apart), decoding includes parsing the stream and reading and
checking the model file, as a user's ``ftm-decode --Model`` does. Also the
size of each model file and its training time from its header, and the
load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from _timing import best_of, machine, print_table, write_json

from ftm.codecs.learned import read_model_file
from ftm.stream.coding import decode_all, encode_tensors
from ftm.train.run import load_labelled_set


def keys_of(point: dict, sweep: str, scale: float) -> dict:
    if point["method"] == "sq":
        qp = point["setting"].split()[1]
        return {"FeatureKind": "vector", "QP": qp, "Normalization": "scale", "Scale": repr(scale), "Reconstruction": "floor"}
    return {"FeatureKind": "learned", "Model": os.path.join(sweep, "models", point["model"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweep", required=True, action="append", help="output folder of ftm-rate-accuracy (repeatable)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "learned_throughput.json"))
    args = parser.parse_args()
    runs = []
    for sweep in args.sweep:
        with open(os.path.join(sweep, "results.json"), encoding="utf-8") as f:
            runs.append((sweep, json.load(f)))
    data = load_labelled_set(runs[0][1]["config"]["LabelledSet"])
    if any(data.digest != results["labelled_set"]["digest"] for _, results in runs):
        raise SystemExit("the labelled set is not the one every sweep used")
    x, _ = data.part("test")
    scale = runs[0][1]["labelled_set"]["sq_scale"]
    load_before = os.getloadavg()
    rows = []
    points = {}
    for sweep, results in runs:
        for point in results["points"]:
            points.setdefault((point["method"], point["setting"]), (sweep, point))
    for sweep, point in points.values():
        keys = keys_of(point, sweep, scale)
        coded = {}

        def encode() -> None:
            t0 = time.perf_counter()
            coded["result"] = encode_tensors({"test": x}, keys, progress=False)
            coded["seconds"] = time.perf_counter() - t0 - coded["result"].tensors[0].decode_seconds

        encodes = []
        for _ in range(args.repeat):
            encode()
            encodes.append(coded["seconds"])
        stream = coded["result"].data
        decode = best_of(lambda: decode_all(stream, model=keys.get("Model")), repeat=args.repeat)
        model = read_model_file(keys["Model"]) if "Model" in keys else None
        rows.append({
            "method": point["method"], "setting": point["setting"], "bpd": round(8 * len(stream) / x.size, 4),
            "encode_vectors_per_s": round(x.shape[0] / min(encodes)), "decode_vectors_per_s": round(x.shape[0] / decode),
            "model_bytes": os.path.getsize(keys["Model"]) if model else 0,
            "train_seconds": round(model.header.get("training", {}).get("seconds", 0.0), 1) if model else 0.0,
        })  # fmt: skip
        print(f"{point['method']:>6} {point['setting']:<16} enc {rows[-1]['encode_vectors_per_s']:>8}/s  "
              f"dec {rows[-1]['decode_vectors_per_s']:>8}/s", file=sys.stderr)  # fmt: skip
    print_table(rows, list(rows[0]))
    threads = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    write_json(args.out, {"machine": machine(), "load_average_before": [round(v, 2) for v in load_before],
                          "load_average_after": [round(v, 2) for v in os.getloadavg()], "threads": threads,
                          "vectors": int(x.shape[0]), "dims": int(x.shape[1]), "repeat": args.repeat,
                          "sweeps": [os.path.abspath(s) for s in args.sweep], "rows": rows})  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
