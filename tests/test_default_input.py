"""The bundled default input (issue 3): a real feature tensor that needs numpy only to read."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ftm.data import default_features, default_features_info, default_features_path


def sha256(a):
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(a).astype("<f4").tobytes()).hexdigest()


def test_default_features_match_their_provenance():
    x = default_features()
    info = default_features_info()
    assert x.shape == (1, 40, 28, 28) == tuple(info["shape"]) and x.dtype == np.float32 and info["dtype"] == "float32"
    assert sha256(x) == info["sha256"]
    assert default_features_path().stat().st_size < 300_000
    assert info["model"]["name"] == "efficientnet-lite0" and info["layer"] == "block4"
    assert info["image"]["source"] == "skimage/chelsea" and info["command"] == "python scripts/make_default_input.py"
    # ReLU6 has not run at a block output: real features, signed, and not constant.
    assert x.min() < 0 < x.max() and np.unique(x).size > 10_000


def test_the_script_regenerates_the_bundled_tensor():
    pytest.importorskip("torch", reason="regenerating the default input needs torch (pip install 'ftm[extract]')")
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_default_input.py"
    spec = importlib.util.spec_from_file_location("make_default_input", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    features, info = module.make_default_input()
    # Other CPUs may round the last bits differently (the committed file is from one machine).
    np.testing.assert_allclose(features, default_features(), rtol=1e-5, atol=1e-5)
    assert info["shape"] == default_features_info()["shape"]
