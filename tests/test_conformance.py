"""The conformance streams: valid ones decode to their MD5s, malformed ones are rejected."""

import json
import os
import shutil

import numpy as np
import pytest

from ftm.cli import conformance as conformance_cli
from ftm.errors import ConfigError
from ftm.stream.conformance import check_folder, check_malformed, check_stream

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "conformance")


def test_every_conformance_stream_passes():
    checks = check_folder(FOLDER)
    failures = [f"{c.name}: {c.problems}" for c in checks if not c.passed]
    assert not failures
    with open(os.path.join(FOLDER, "expected.json")) as f:
        manifest = json.load(f)
    assert len(manifest["streams"]) >= 6 and len(manifest["malformed"]) >= 10
    described = " ".join(e["description"] for e in manifest["streams"].values())
    for needed in ("8-bit", "10-bit", "min-max", "log", "tiled", "channel", "N = 3", "1x1", "VVC", "AVS2",
                   "random access", "low delay", "similarity order", "one picture"):
        assert needed in described


def test_a_wrong_expected_value_is_caught(tmp_path):
    folder = tmp_path / "conformance"
    shutil.copytree(FOLDER, folder)
    manifest = json.loads((folder / "expected.json").read_text())
    name = sorted(n for n, e in manifest["streams"].items() if "model" not in e)[0]
    tensor = next(iter(manifest["streams"][name]["tensors"].values()))
    tensor["codes_md5"] = "0" * 32  # normative; a wrong features MD5 alone passes within tolerance (test_tolerance.py)
    first_malformed = sorted(manifest["malformed"])[0]
    manifest["malformed"][first_malformed]["error"] = "a message no decoder prints"
    (folder / "expected.json").write_text(json.dumps(manifest))
    checks = {c.name: c for c in check_folder(str(folder))}
    assert not checks[name].passed and "codes" in checks[name].problems[0]
    assert not checks[first_malformed].passed
    assert sum(not c.passed for c in checks.values()) == 2


def test_cli_summary_and_trace(capsys):
    assert conformance_cli.main([FOLDER]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].endswith("passed, 0 failed")
    stream = os.path.join(FOLDER, "streams", "log8_channel_odd_shape.ftm")
    assert conformance_cli.main(["--trace", stream]) == 0
    trace = capsys.readouterr().out
    for element in ("magic", "box_type", "bit_depth", "max_log", "pack_mode", "hevc_payload", "codes_md5"):
        assert element in trace


def test_streams_a_decoder_cannot_decode_are_skipped_not_failed():
    with open(os.path.join(FOLDER, "expected.json")) as f:
        manifest = json.load(f)
    name = "vvc_log8_channel_odd_shape.ftm"
    check = check_stream(os.path.join(FOLDER, "streams", name), manifest["streams"][name], decoder="hm")
    assert check.passed and check.skipped == "the hm decoder does not decode VVC (H.266)" and check.tensors == 1
    # a stream that breaks the syntax is rejected by the parser whatever the decoder
    bad = check_malformed(os.path.join(FOLDER, "malformed", "vidc_codec_id_3.ftm"), "codec_id: 3", decoder="hm")
    assert bad.passed and not bad.skipped


def test_missing_folder_is_named():
    with pytest.raises(FileNotFoundError, match="not a conformance folder"):
        check_folder("/nonexistent")


def test_learned_streams_check_codes_exactly_and_features_within_tolerance(tmp_path):
    folder = tmp_path / "conformance"
    shutil.copytree(FOLDER, folder)
    manifest = json.loads((folder / "expected.json").read_text())
    learned = sorted(n for n, e in manifest["streams"].items() if "model" in e)
    assert {"learned_pro.ftm", "learned_pro_e.ftm", "learned_sq_e.ftm", "learned_pq.ftm", "learned_opq.ftm"} <= set(learned)
    entry = manifest["streams"]["learned_pro.ftm"]["tensors"]["embeddings"]
    reference = folder / entry["features_reference"]
    want = np.load(reference)
    tol = entry["features_tolerance"]
    np.save(reference, want * (1 + tol["rtol"] / 4))  # within the tolerance: passes
    assert {c.name: c for c in check_folder(str(folder))}["learned_pro.ftm"].passed
    np.save(reference, want + 10 * (tol["atol"] + tol["rtol"] * np.abs(want)))  # beyond it: caught
    manifest["streams"]["learned_pq.ftm"]["tensors"]["embeddings"]["codes_md5"] = "0" * 32
    (folder / "expected.json").write_text(json.dumps(manifest))
    checks = {c.name: c for c in check_folder(str(folder))}
    assert "beyond" in checks["learned_pro.ftm"].problems[0]
    assert "MD5 of the decoded codes" in checks["learned_pq.ftm"].problems[0]
    assert sum(not c.passed for c in checks.values()) == 2


def test_learned_malformed_streams_need_their_model(tmp_path):
    from ftm.stream.conformance import check_malformed

    path = os.path.join(FOLDER, "malformed", "learned_other_model.ftm")
    model = os.path.join(FOLDER, "models", "tiny_pro.safetensors")
    assert check_malformed(path, "give the model it was coded with", model=model).passed
    with pytest.raises(ConfigError, match="give the model file they were coded with"):
        check_malformed(path, "give the model it was coded with")  # no model: a usage error, not a verdict
