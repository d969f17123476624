"""A user's own network, named by its factory, through ftm-extract, ftm-eval and ftm-ctc (local processes, Dask).

The network is tests/data/user_network.py: FTM knows it only by the
reference, and imports it in every process that builds it.
"""

import json
import re
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="split inference needs torch (pip install 'ftm[extract]'); CI installs it")

from ftm.cli._tool import run_tool  # noqa: E402
from ftm.cli.eval import main as eval_main  # noqa: E402
from ftm.cli.extract import main as extract_main  # noqa: E402
from ftm.errors import ConfigError, ModelError  # noqa: E402
from ftm.models import load_network  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")
FILE = os.path.join(DATA, "user_network.py")
REF = f"{FILE}:make_network"
SHAPES = {"stage1": (8, 32, 32), "stage2": (16, 16, 16)}


def extract(out, *args):
    return run_tool("ftm-extract", extract_main, ["-o", str(out), "--limit", "3", "--views", "centre", "--no-progress",
                                                  "--threads", "1", *args])  # fmt: skip


def evaluate(tmp_path, *args):
    out = tmp_path / "fidelity.json"
    rc = run_tool("ftm-eval", eval_main, ["--threads", "1", "-o", str(out), *args])
    return rc, (json.loads(out.read_text()) if rc == 0 else None)


def test_a_factory_by_file_and_by_module(monkeypatch):
    net = load_network(REF)
    assert net.name == REF and net.info["name"] == REF and net.info["label"] == "tiny-cnn"
    assert net.feature_shapes() == SHAPES and net.preprocessing.size == 64
    monkeypatch.syspath_prepend(DATA)
    by_module = load_network("user_network:make_network")
    assert by_module.name == "user_network:make_network"
    x = torch.rand(2, 3, 64, 64)
    assert torch.equal(by_module(x).logits, net(x).logits)  # the same factory, the same network


@pytest.mark.parametrize(
    "ref, match",
    [
        (f"{FILE}:make_broken", r"the factory raised RuntimeError: this factory needs a GPU"),
        (f"{FILE}:make_wrong_type", r"returned a torch\.nn\.modules\.linear\.Linear, not an ftm\.models\.split\.SplitNetwork"),
        (f"{FILE}:make_without_preprocessing", r"network 'no-prep': info has no 'preprocessing'"),
        (f"{FILE}:make_without_std", r"network 'no-std': info\['preprocessing'\] is missing the field 'std'"),
        (f"{FILE}:nope", r"user_network\.py has no 'nope'"),
        (f"{FILE}:NOT_A_FUNCTION", r"'NOT_A_FUNCTION' is a int, not a function"),
        (f"{DATA}/missing.py:make", r"missing\.py' does not exist"),
        ("no_such_package.nets:make", r"no module named 'no_such_package'"),
        ("resnet", r"unknown model 'resnet'; FTM knows efficientnet-lite0, vgg16, resnet50, resnet101, resnet152"),
        ("my nets:make", r"expected a network of FTM's registry, package\.module:function or path/to/file\.py:function"),
    ],
)  # fmt: skip
def test_bad_factories_get_one_clear_line(ref, match):
    with pytest.raises(ModelError, match=match):
        load_network(ref)


def test_a_head_that_returns_no_network_outputs_is_named():
    net = load_network(f"{FILE}:make_with_a_bare_head")
    with pytest.raises(ModelError, match=r"network .*: its head returned a Tensor, not ftm\.models\.split\.NetworkOutputs"):
        net(torch.zeros(1, 3, 64, 64))


def test_a_network_made_by_hand_without_preprocessing_is_refused_clearly(tmp_path):
    """The issue's first try: SplitNetwork(...) passed to extract_feature_set used to fail with KeyError: 'preprocessing'."""
    from ftm.extract.pipeline import extract_feature_set
    from ftm.models.split import SplitNetwork

    sys_net = load_network(REF)
    net = SplitNetwork("mine", list(sys_net.stages.items()), sys_net.head, (3, 64, 64))
    with pytest.raises(ModelError, match=r"network 'mine': info has no 'preprocessing'"):
        extract_feature_set(tmp_path / "fs", network=net, limit=1)
    bad = SplitNetwork("mine", list(sys_net.stages.items()), sys_net.head, (3, 32, 32), preprocessing=sys_net.preprocessing)
    with pytest.raises(ModelError, match=r"input_shape \(3, 32, 32\) is not the \(3, 64, 64\) its preprocessing gives"):
        extract_feature_set(tmp_path / "fs", network=bad, limit=1)


def test_ftm_extract_and_eval_with_a_factory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(DATA)  # a relative file reference is recorded with its absolute path
    assert extract(tmp_path / "fs", "-m", "user_network.py:make_network") == 0
    manifest = json.loads((tmp_path / "fs" / "manifest.json").read_text())
    assert manifest["model"]["name"] == REF and manifest["model"]["label"] == "tiny-cnn"
    assert manifest["count"] == 3 and list(manifest["layers"]) == ["stage1", "stage2"]
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)  # ftm-eval rebuilds the network from the manifest alone
    np.save(tmp_path / "same.npy", _features(tmp_path / "fs", "stage1"))
    rc, rep = evaluate(tmp_path, "-f", str(tmp_path / "fs"), "-l", "stage1", "-r", str(tmp_path / "same.npy"))
    assert rc == 0 and rep["model"] == REF and rep["f_classification"] == 1.0 and rep["f_retrieval"] == 1.0
    assert run_tool("ftm-extract", extract_main, ["--list-layers", "-m", REF]) == 0
    assert re.search(r"^stage2 +16 x 16 x 16 +16,384$", capsys.readouterr().out, re.M)
    assert extract(tmp_path / "x", "-m", REF, "-l", "stage3") == 2
    err = capsys.readouterr().err
    assert "unknown split point(s) ['stage3']" in err and "choose from ['stage1', 'stage2']" in err


def _features(folder, layer):
    from ftm.extract.featureset import read_feature_set

    return read_feature_set(folder).features(layer)


def test_a_network_with_one_task_gets_the_figures_of_that_task(tmp_path):
    from ftm.evaluation import evaluate_layer
    from ftm.extract.pipeline import extract_feature_set

    net = load_network(f"{FILE}:make_classifier_only")
    fs = extract_feature_set(tmp_path / "fs", network=net, limit=4, layers=["stage2"])
    assert list(fs.manifest["outputs"]) == ["logits"] and fs.outputs()["logits"].shape == (4, 10)
    x = fs.features("stage2")
    rep = evaluate_layer(net, "stage2", x, x * 0.5)
    assert rep["f_classification"] is not None and rep["f_retrieval"] is None and rep["images"] == 4


def test_a_factorys_weights_file_is_recorded_and_checked(tmp_path, capsys):
    weights = tmp_path / "tiny.pth"
    state = load_network(REF).state_dict()
    state = {k: v * 0.5 if k.endswith("weight") else v for k, v in state.items()}
    torch.save(state, weights)
    assert extract(tmp_path / "fs", "-m", REF, "--weights", str(weights), "-l", "stage2") == 0
    model = json.loads((tmp_path / "fs" / "manifest.json").read_text())["model"]
    from ftm.models.weights import file_sha256

    assert model["weights_path"] == str(weights.resolve()) and model["weights_sha256"] == file_sha256(weights)
    np.save(tmp_path / "r.npy", _features(tmp_path / "fs", "stage2") * 0.9)
    rc, rep = evaluate(tmp_path, "-f", str(tmp_path / "fs"), "-r", str(tmp_path / "r.npy"))
    assert rc == 0 and rep["images"] == 3
    torch.save({k: v * 0.25 for k, v in state.items()}, weights)  # the file changed since extraction
    rc, _ = evaluate(tmp_path, "-f", str(tmp_path / "fs"), "-r", str(tmp_path / "r.npy"))
    assert rc == 1 and "the feature set was made with weights of sha256" in capsys.readouterr().err


def test_unknown_models_on_every_command_line(tmp_path, capsys):
    from ftm.ctc.config import load_ctc_config

    assert extract(tmp_path / "x", "-m", "resnet") == 2
    assert "unknown model 'resnet'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=r"command line --Model=vgg: Model: unknown model .vgg."):
        load_ctc_config([], ["--Model=vgg"])
    cfg = load_ctc_config([os.path.join(DATA, "ctc_user.cfg")])
    assert cfg.model == REF  # a file named in a config file is relative to it


# ftm-ctc: the user's network in spawned local processes and on Dask workers


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return tmp_path_factory.mktemp("user-featuresets")


def user_ctc(out, shared):
    from ftm.ctc import load_ctc_config

    return load_ctc_config([os.path.join(DATA, "ctc_user.cfg")], [f"--OutputDir={out}", f"--FeatureSetDir={shared}"])


def _records(out):
    return {p[:-5]: json.loads((out / "jobs" / p).read_text()) for p in sorted(os.listdir(out / "jobs")) if p.endswith(".json")}


FIGURES = ("compressed_bytes", "f_classification", "top1_agreement", "f_retrieval", "feature_mse", "frames")


@pytest.fixture(scope="module")
def local_user_run(tmp_path_factory, shared):
    pytest.importorskip("matplotlib")
    from ftm.ctc import run_ctc

    out = tmp_path_factory.mktemp("user-local")
    summary = run_ctc(user_ctc(out, shared), workers=2, threads=1, progress=False, log=lambda m: None)
    return out, summary


def test_ftm_ctc_runs_a_users_network_in_two_local_processes(local_user_run, shared):
    out, summary = local_user_run
    assert (summary.jobs, summary.ok, summary.failed) == (2, 2, 0)
    recs = _records(out)
    assert sorted(r["layer"] for r in recs.values()) == ["stage1", "stage2"]
    assert all(r["model"] == REF and r["images"] == 8 and r["worker_network_loads"] == 1 for r in recs.values())
    assert all(0.0 <= r["f_classification"] <= 1.0 and r["f_retrieval"] is not None for r in recs.values())
    (folder,) = [p for p in shared.iterdir() if not p.name.startswith(".")]
    assert folder.name.startswith("make_network-") and folder.name.endswith("-bundled-first8")


def test_ftm_ctc_runs_a_users_network_on_dask_workers(local_user_run, shared, tmp_path):
    distributed = pytest.importorskip("distributed")
    from ftm.ctc import run_ctc

    saved = dict(os.environ)  # Dask's nanny writes its workers' settings into this process's environment
    try:
        # port 0 for the scheduler's HTTP server: a fixed port may be taken by another cluster on the machine
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address="127.0.0.1:0") as cluster:  # fmt: skip
            summary = run_ctc(user_ctc(tmp_path, shared), scheduler=cluster.scheduler_address, progress=False,
                              log=lambda m: None)  # fmt: skip
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert (summary.ran, summary.ok) == (2, 2)
    local, dask = _records(local_user_run[0]), _records(tmp_path)
    assert sorted(local) == sorted(dask)
    for job_id, rec in dask.items():
        assert {k: rec[k] for k in FIGURES} == {k: local[job_id][k] for k in FIGURES}, job_id


def test_ftm_ctc_imports_a_factory_module_by_name_in_each_worker(local_user_run, shared, tmp_path, monkeypatch):
    """package.module:function: each spawned worker imports the module itself (from PYTHONPATH / sys.path)."""
    from ftm.ctc import load_ctc_config, run_ctc

    monkeypatch.syspath_prepend(DATA)
    monkeypatch.setenv("PYTHONPATH", DATA)
    cfg = load_ctc_config([os.path.join(DATA, "ctc_user.cfg")], [
        f"--OutputDir={tmp_path}", f"--FeatureSetDir={shared}", "--Model=user_network:make_network", "--Layers=stage2",
    ])  # fmt: skip
    summary = run_ctc(cfg, workers=2, threads=1, progress=False, log=lambda m: None)
    assert (summary.ok, summary.failed) == (1, 0)
    (rec,) = _records(tmp_path).values()
    assert rec["model"] == "user_network:make_network" and rec["worker"].split(":")[1] != str(os.getpid())
    (local,) = [r for r in _records(local_user_run[0]).values() if r["layer"] == "stage2"]
    assert {k: rec[k] for k in FIGURES} == {k: local[k] for k in FIGURES}  # the same network, named either way
