"""Own features without a network: ftm-eval on plain arrays with the user's own outputs (numpy only)."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ftm.cli._tool import run_tool
from ftm.cli.eval import main
from ftm.errors import InputError
from ftm.evaluation import evaluate_arrays
from ftm.metrics import task_fidelity

RNG = np.random.default_rng(7)
X = np.maximum(RNG.normal(size=(6, 4, 5, 5)), 0).astype(np.float32)
W = RNG.normal(size=(4, 7)).astype(np.float32)


def head(f):
    d = f.mean((2, 3))
    return {"descriptor": d, "logits": d @ W}


def test_evaluate_arrays_matches_the_metrics_and_checks_its_inputs():
    r = X + 0.01
    rep = evaluate_arrays(X, r, outputs_pristine=head(X), outputs_reconstructed=head(r), labels=list("aabbcc"), compressed_bytes=60)
    expected = task_fidelity(head(X)["logits"], head(r)["logits"], head(X)["descriptor"], head(r)["descriptor"],
                             labels=list("aabbcc"), compressed_bytes=60, original_bytes=X.size * 4)  # fmt: skip
    assert {k: rep[k] for k in expected} == expected
    assert rep["feature_mse"] == pytest.approx(1e-4, rel=1e-3) and rep["outputs"] == ["descriptor", "logits"]
    with pytest.raises(InputError, match=r"the pristine outputs hold \['logits'\] and the reconstructed ones \['descriptor'\]"):
        evaluate_arrays(X, r, outputs_pristine={"logits": head(X)["logits"]}, outputs_reconstructed={"descriptor": head(r)["descriptor"]})
    with pytest.raises(InputError, match="3 pristine and 3 reconstructed rows for 6 images"):
        evaluate_arrays(X, r, outputs_pristine={"logits": head(X)["logits"][:3]}, outputs_reconstructed={"logits": head(r)["logits"][:3]})
    with pytest.raises(InputError, match="pristine shape"):
        evaluate_arrays(X, r[:2])


def files(tmp_path, r):
    np.save(tmp_path / "p.npy", X)
    np.savez(tmp_path / "r.npz", features=r)
    np.savez(tmp_path / "op.npz", **head(X))
    np.savez(tmp_path / "or.npz", **head(r))
    (tmp_path / "labels.txt").write_text("a\na\nb\nb\nc\nc\n")


def run(tmp_path, *args):
    out = tmp_path / "f.json"
    rc = run_tool("ftm-eval", main, ["-o", str(out), *args])
    return rc, (json.loads(out.read_text()) if rc == 0 else None)


def test_ftm_eval_on_plain_arrays_and_own_outputs(tmp_path, capsys):
    r = X * 0.8
    files(tmp_path, r)
    rc, rep = run(tmp_path, "-p", str(tmp_path / "p.npy"), "-r", str(tmp_path / "r.npz"), "--bytes", "100",
                  "--outputs-pristine", str(tmp_path / "op.npz"), "--outputs-reconstructed", str(tmp_path / "or.npz"),
                  "--labels", str(tmp_path / "labels.txt"))  # fmt: skip
    assert rc == 0 and rep["layer"] == "p" and rep["images"] == 6 and rep["compressed_bytes"] == 100
    assert rep["f_classification"] == 1.0  # scaling every feature keeps the arg-max
    assert rep["f_retrieval"] == 1.0 and rep["map_pristine"] is not None
    out = capsys.readouterr().out
    assert out.startswith("FTM fidelity: own outputs (descriptor, logits) at p, 6 images")
    # no outputs: rate and feature error only, the rest printed as '-'
    rc, rep = run(tmp_path, "-p", str(tmp_path / "p.npy"), "-r", str(tmp_path / "r.npz"), "--bytes", "100")
    assert rc == 0 and rep["f_classification"] is None and rep["feature_mse"] > 0
    row = capsys.readouterr().out.splitlines()[2].split()
    assert row[4] == f"{100 / X.nbytes:.6f}" and row[5:11] == ["-"] * 6


def test_ftm_eval_plain_array_errors(tmp_path, capsys):
    files(tmp_path, X)
    p, r = str(tmp_path / "p.npy"), str(tmp_path / "r.npz")
    assert run(tmp_path, "-p", p, "-r", r, "--outputs-pristine", str(tmp_path / "op.npz"))[0] == 2
    assert "give --outputs-pristine and --outputs-reconstructed together" in capsys.readouterr().err
    assert run(tmp_path, "-p", p, "-r", r, "-m", "vgg16")[0] == 2
    assert "-m needs -l/--layer" in capsys.readouterr().err
    assert run(tmp_path, "-f", str(tmp_path), "-r", r, "--labels", str(tmp_path / "labels.txt"))[0] == 2
    assert "--labels applies to plain arrays (-p)" in capsys.readouterr().err
    np.savez(tmp_path / "bad.npz", scores=np.zeros((6, 2)))
    assert run(tmp_path, "-p", p, "-r", r, "--outputs-pristine", str(tmp_path / "bad.npz"),
               "--outputs-reconstructed", str(tmp_path / "or.npz"))[0] == 1  # fmt: skip
    assert "no array named 'logits' or 'descriptor'; it holds ['scores']" in capsys.readouterr().err


def test_ftm_eval_on_own_outputs_needs_no_torch(tmp_path):
    files(tmp_path, X * 0.5)
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["torch"] = None  # any "import torch" now raises ImportError
        from ftm.cli._tool import run_tool
        from ftm.cli.eval import main
        d = {str(tmp_path)!r}
        raise SystemExit(run_tool("ftm-eval", main, ["-p", d + "/p.npy", "-r", d + "/r.npz", "-o", d + "/f.json",
                                                     "--outputs-pristine", d + "/op.npz", "--outputs-reconstructed", d + "/or.npz"]))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "f.json").read_text())["top1_agreement"] == 1.0
