"""Core FTM, the metrics and the feature-set reader never need torch."""

import subprocess
import sys
import textwrap

BLOCK_TORCH = textwrap.dedent(
    """
    import sys
    sys.modules["torch"] = None  # any "import torch" now raises ImportError
    import ftm, ftm.metrics, ftm.data, ftm.evaluate, ftm.extract, ftm.extract.featureset, ftm.extract.images
    assert ftm.data.default_features().shape == (1, 40, 28, 28)
    assert ftm.metrics.f_classification([[1, 0]], [[1, 0]]) == 1.0
    assert "bjontegaard" not in sys.modules and "scipy" not in sys.modules  # loaded only for BD-rate
    try:
        from ftm.models import load_network
        load_network()
    except ImportError as exc:
        print(exc)
    else:
        raise SystemExit("torch was not needed?")
    """
)


def test_core_metrics_and_feature_sets_import_without_torch():
    done = subprocess.run([sys.executable, "-c", BLOCK_TORCH], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'pip install "ftm[extract]"' in done.stdout


def test_ftm_eval_without_torch_names_the_extra(tmp_path):
    code = BLOCK_TORCH.split("try:")[0] + textwrap.dedent(
        f"""
        from ftm.extract.featureset import write_feature_set
        import numpy as np
        write_feature_set({str(tmp_path / "fs")!r}, model={{"name": "efficientnet-lite0"}},
                          layers={{"head": np.zeros((1, 2, 1, 1), np.float32)}}, outputs={{}}, images=[{{"index": 0}}])
        np.save({str(tmp_path / "r.npy")!r}, np.zeros((1, 2, 1, 1), np.float32))
        from ftm.cli._tool import run_tool
        from ftm.cli.eval import main
        raise SystemExit(run_tool("ftm-eval", main, ["-f", {str(tmp_path / "fs")!r}, "-r", {str(tmp_path / "r.npy")!r},
                                                     "-o", {str(tmp_path / "f.json")!r}]))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert 'ftm-eval: error:' in done.stderr and 'pip install "ftm[extract]"' in done.stderr


def test_learned_streams_code_and_decode_without_torch():
    import os

    models = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conformance", "models")
    code = BLOCK_TORCH.split("try:")[0] + textwrap.dedent(
        f"""
        import numpy as np
        import ftm.codecs.learned, ftm.metrics.verification, ftm.extract.embeddings
        x = np.random.default_rng(0).laplace(size=(5, 16)).astype(np.float32)
        for name in ("pro", "pro_e", "sq_e", "pq", "opq"):
            model = {models!r} + f"/tiny_{{name}}.safetensors"
            result = ftm.encode_tensors(x, {{"FeatureKind": "learned", "Model": model}}, progress=False)
            assert np.array_equal(ftm.decode(result.data, model=model), result.reconstruction["features"])
        assert "torch" not in [m.split(".")[0] for m in sys.modules if sys.modules[m] is not None]
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
