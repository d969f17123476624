"""BD-rates of one sweep's methods against an anchor method measured in another sweep of the same set.

    python benchmarks/bd_across_sweeps.py TEST/results.json ANCHOR/results.json ANCHOR_METHOD [OUT.md]

For anchors whose models do not depend on the settings that differ between
the two runs (PQ and OPQ do not train in epochs): both results.json files
must come from the same labelled set (digest), test split and pairs, which
is checked. Prints (and writes) a table: every method of TEST against
ANCHOR_METHOD of ANCHOR, BD-rate in % on verification accuracy and on AUC
(pchip, as ftm-rate-accuracy's bd_rates.md; negative: the test method needs
fewer bits).
"""

import json
import math
import sys

from ftm.metrics.bjontegaard import bd_rate

test_run, anchor_run = (json.load(open(path)) for path in sys.argv[1:3])
anchor_method = sys.argv[3]
for key in ("digest", "test", "dims"):
    if test_run["labelled_set"][key] != anchor_run["labelled_set"][key]:
        sys.exit(f"the two sweeps differ in their labelled set's {key}: {test_run['labelled_set'][key]} and {anchor_run['labelled_set'][key]}")
for key in ("Pairs", "Folds", "PairSeed"):
    if test_run["config"][key] != anchor_run["config"][key]:
        sys.exit(f"the two sweeps differ in {key}")


def curve(run, method, fidelity):
    points = [p for p in run["points"] if p["method"] == method]
    return [p["bits_per_dimension"] for p in points], [p[fidelity] for p in points]


lines = [f"# BD-rate (%) against {anchor_method.upper()} of {sys.argv[2]}, pchip interpolation", "",
         "| test | on accuracy | on AUC |", "| --- | ---: | ---: |"]  # fmt: skip
for method in dict.fromkeys(p["method"] for p in test_run["points"] if p["method"] != anchor_method):
    cells = []
    for fidelity in ("accuracy", "auc"):
        try:
            value = bd_rate(*curve(anchor_run, anchor_method, fidelity), *curve(test_run, method, fidelity), "pchip")
        except ValueError:  # the curves share too few distinct fidelities
            value = float("nan")
        cells.append("-" if math.isnan(value) else f"{value:+.1f}")
    lines.append(f"| {method.upper()} | {cells[0]} | {cells[1]} |")
text = "\n".join(lines) + "\n"
print(text, end="")
if len(sys.argv) > 4:
    with open(sys.argv[4], "w") as f:
        f.write(text)
