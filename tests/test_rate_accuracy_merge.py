"""ftm-rate-accuracy --merge: finished sweeps of one set and one evaluation as one report, and what it refuses."""

import json
from dataclasses import asdict

import pytest

from ftm.cli._tool import run_tool
from ftm.errors import InputError
from ftm.rate_accuracy.merge import merge_sweeps
from ftm.rate_accuracy.runner import RatePoint

CONFIG = {"LabelledSet": "default", "Pairs": 6000, "Folds": 10, "PairSeed": 0, "QueryFraction": 0.1, "BdMethod": "pchip",
          "SqScale": None, "Epochs": 40, "BatchSize": 32, "LearningRate": 1e-4, "Seed": 0, "Hidden": 0, "LatentDims": 5120,
          "RClip": 20.0, "CodeBits": 8, "KmeansIterations": 25, "OpqIterations": 50}  # fmt: skip
SET = {"digest": "ab" * 32, "test": 2000, "dims": 1280, "sq_scale": 0.17, "feature_head": None}


def point(method, setting, bits, accuracy, **extra):
    return asdict(RatePoint(method, setting, bits, bits * 160, int(bits * 320000), accuracy, 0.01, accuracy + 0.05, 1 - accuracy,
                            0.5, 0.7, 1.0, vectors=2000, **extra))  # fmt: skip


def run(tmp_path, name, points, config=None, labelled_set=None):
    folder = tmp_path / name
    folder.mkdir()
    results = {"config": {**CONFIG, **(config or {})}, "labelled_set": {**SET, **(labelled_set or {})},
               "reference": point("uncompressed", "float32", 32.0, 0.80), "points": points}  # fmt: skip
    (folder / "results.json").write_text(json.dumps(results))
    return str(folder / "results.json")


SQ = [point("sq", f"QP {qp}", bits, acc) for qp, bits, acc in ((52, 0.12, 0.74), (46, 0.39, 0.79), (40, 0.78, 0.80))]
PRO = [point("pro", f"lambda {lam}", bits, acc, model=f"pro-{lam}.ftmm", train_seconds=1600.0)
       for lam, bits, acc in ((0.1, 0.22, 0.807), (0.03, 0.50, 0.808), (0.01, 1.02, 0.810))]  # fmt: skip
OPQ = [point("opq", f"{b:g} bpd", float(b), acc, model=f"opq-{b}.ftmm") for b, acc in ((1, 0.81), (2, 0.805), (4, 0.80))]


def test_the_union_of_two_runs_with_their_sources(tmp_path):
    a = run(tmp_path, "pro", SQ + PRO)
    b = run(tmp_path, "opq", SQ[1:] + OPQ, config={"Epochs": 3})  # OPQ does not train in epochs, SQ not at all
    result = merge_sweeps([a, b])
    assert result.config["Methods"] == ["opq", "sq", "pro"]
    assert [(p.method, p.setting) for p in result.by_method()["sq"]] == [("sq", "QP 52"), ("sq", "QP 46"), ("sq", "QP 40")]
    assert len(result.by_method()["opq"]) == 3 and result.by_method()["pro"][0].train_seconds == 1600.0
    sources = result.config["MergedFrom"]
    assert [s["methods"] for s in sources] == [["sq", "pro"], ["opq"]]
    assert sources[1]["config"]["Epochs"] == 3 and len(sources[0]["sha256"]) == 64


def test_the_cli_writes_every_report_with_bd_rates_across_runs(tmp_path, capsys):
    from ftm.cli.rate_accuracy import main

    a, b = run(tmp_path, "pro", SQ + PRO), run(tmp_path, "opq", OPQ)
    out = tmp_path / "merged"
    assert run_tool("ftm-rate-accuracy", main, ["--merge", a, b, "-o", str(out), "--no-plots"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("| OPQ BPP | OPQ Acc(%) | SQ BPP")
    merged = json.loads((out / "results.json").read_text())
    assert "pro->opq" in merged["bd_rates"]["accuracy"] and "opq->pro" in merged["bd_rates"]["accuracy"]
    provenance = json.loads((out / "provenance.json").read_text())
    assert [s["results"] for s in provenance["config"]["MergedFrom"]] == [a, b]


@pytest.mark.parametrize("change, message", [
    ({"labelled_set": {"digest": "cd" * 32}}, "the labelled set's digest"),
    ({"config": {"Pairs": 3000}}, "the evaluation's Pairs"),
    ({"config": {"Epochs": 3}, "points": PRO}, "pro's setting Epochs is 3"),
    ({"points": [point("sq", "QP 46", 0.39, 0.70)]}, "sq QP 46 coded to"),
    ({"points": [dict(point("pq", "1 bpd", 1.0, 0.8), accuracy=None, method="hash")]}, "unknown method 'hash'"),
])  # fmt: skip
def test_runs_that_differ_are_refused_with_the_reason(tmp_path, change, message):
    a = run(tmp_path, "a", SQ + PRO)
    b = run(tmp_path, "b", change.get("points", OPQ), change.get("config"), change.get("labelled_set"))
    with pytest.raises(InputError, match=message):
        merge_sweeps([a, b])


def test_unreadable_or_foreign_files_and_misuse_are_one_line_errors(tmp_path, capsys):
    from ftm.cli.rate_accuracy import main

    a = run(tmp_path, "a", SQ)
    (tmp_path / "other.json").write_text(json.dumps({"points": []}))
    with pytest.raises(InputError, match="not a results.json"):
        merge_sweeps([a, str(tmp_path / "other.json")])
    with pytest.raises(InputError, match="cannot read"):
        merge_sweeps([a, str(tmp_path / "missing.json")])
    with pytest.raises(InputError, match="two or more"):
        merge_sweeps([a])
    assert run_tool("ftm-rate-accuracy", main, ["--merge", a, a]) != 0  # no -o
    assert "--merge takes" in capsys.readouterr().err
