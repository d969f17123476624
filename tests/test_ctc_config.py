"""ftm-ctc's config and matrix: the shared HM-style parser, errors naming file:line, stable job ids.

No network runs here: matrices are expanded over small synthetic feature sets.
"""

import os

import numpy as np
import pytest

from ftm.errors import ConfigError
from ftm.settings import Key, read_settings
from ftm.stream.config import KEYS
from ftm.ctc import CtcConfig, expand_jobs, load_ctc_config
from ftm.cli.ctc import main as ctc_main
from ftm.ctc.matrix import job_cost

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFG = os.path.join(ROOT, "cfg")


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def fake_feature_set(path, layers=(("block15", (3, 4, 7, 7)),), seed=0):
    """A feature set of random tensors: expand_jobs needs only its manifest."""
    from ftm.extract.featureset import write_feature_set

    rng = np.random.default_rng(seed)
    n = layers[0][1][0]
    return write_feature_set(
        path,
        model={"name": "efficientnet-lite0"},
        layers={name: rng.random(shape, dtype=np.float32) for name, shape in layers},
        outputs={"descriptor": rng.random((n, 8), dtype=np.float32), "logits": rng.random((n, 5), dtype=np.float32)},
        images=[{"index": i, "name": f"img{i}", "label": None} for i in range(n)],
    )


def test_shipped_default_condition_is_seed_002():
    cfg = load_ctc_config([os.path.join(CFG, "ctc.cfg")])
    assert cfg.feature_sets == ("bundled",) and cfg.layers is None and cfg.images == 0
    assert cfg.qps == (12, 22, 32, 42)
    (variant,) = cfg.variants()
    assert variant.name == "x265-ffmpeg"
    for qp in cfg.qps:
        codec = cfg.codec(variant, qp)
        assert (codec.qp, codec.quantizer, codec.bit_depth, codec.packing, codec.intra_period, codec.encoder) == (
            qp, "log", 8, "channel", 1, "x265-ffmpeg",
        )  # fmt: skip


def test_shipped_compare_config_changes_what_each_name_says():
    cfg = load_ctc_config([os.path.join(CFG, "ctc_compare.cfg")])
    codecs = {v.name: cfg.codec(v, 22) for v in cfg.variants()}
    assert cfg.anchor == "x265-log" and list(codecs)[0] == "x265-log"
    anchor = codecs["x265-log"].as_keys()
    changed = {name: {k for k, v in c.as_keys().items() if anchor[k] != v} for name, c in codecs.items()}
    inter = {"IntraPeriod"}  # randomaccess is InterCoding's default
    assert changed == {
        "x265-log": set(), "x265-minmax": {"Quantizer"}, "x265-log10": {"BitDepth", "QPOffset"},
        "x265-tiled": {"Packing"}, "x265-ld": inter | {"InterCoding"}, "x265-ra": inter,
        "x265-ra-reordered": inter | {"ChannelOrder"}, "x265-tiled-reordered": {"Packing", "ChannelOrder"},
        "x265-tiled-minmax": {"Packing", "Quantizer"},
        "x265-tiled-minmax10": {"Packing", "Quantizer", "BitDepth", "QPOffset"},
        "hm-log": {"Encoder", "HmPictureHash"}, "vvenc": {"Encoder"}, "vvenc-ra": {"Encoder"} | inter,
        "vvenc-tiled": {"Encoder", "Packing"}, "vvenc-tiled-minmax": {"Encoder", "Packing", "Quantizer"},
        "xavs2": {"Encoder"}, "xavs2-tiled": {"Encoder", "Packing"},
    }  # fmt: skip


def test_later_values_win_and_configurations_accumulate(tmp_path):
    a = write(tmp_path, "a.cfg", "QPs : 22\nConfiguration : one Quantizer=log\nConfiguration : two Packing=tiled\n")
    b = write(tmp_path, "b.cfg", "QPs : 12, 42\nConfiguration : one Quantizer=minmax BitDepth=10\n")
    cfg = load_ctc_config([a, b], ["--Configuration=three Encoder=x265", "--Layers=block4,head"])
    assert cfg.qps == (12, 42) and cfg.layers == ("block4", "head")
    assert [(v.name, v.settings) for v in cfg.variants()] == [
        ("one", (("Quantizer", "minmax"), ("BitDepth", "10"))),  # b.cfg's line replaced a.cfg's, in place
        ("two", (("Packing", "tiled"),)),
        ("three", (("Encoder", "x265"),)),
    ]
    assert cfg.variants()[0].where == f"{b}:2" and cfg.variants()[2].where == "command line --Configuration=three Encoder=x265"
    assert cfg.where("qps") == f"{b}:1"


def test_paths_in_a_file_are_relative_to_it(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "codec.cfg", "Quantizer : minmax\n")
    ctc = write(tmp_path / "sub", "ctc.cfg", "CodecConfig : codec.cfg\nFeatureSets : sets/a, bundled\n")
    cfg = load_ctc_config([ctc])
    assert cfg.codec_config == (str(tmp_path / "sub" / "codec.cfg"),)
    assert cfg.feature_sets == (str(tmp_path / "sub" / "sets" / "a"), "bundled")
    assert cfg.codec(cfg.variants()[0]).quantizer == "minmax"
    monkeypatch.chdir(tmp_path / "sub")  # on the command line: relative to the working folder
    assert load_ctc_config([], ["--CodecConfig=codec.cfg"]).codec_config == ("codec.cfg",)


@pytest.mark.parametrize(
    "text, match",
    [
        ("QPs : 22\nQP : 22\n", r"bad\.cfg:2: unknown key 'QP' \(did you mean 'QPs'\?\)"),
        ("QPs : 22, x\n", r"bad\.cfg:1: QPs: expected integers, got 'x'"),
        ("QPs : 22, 22\n", r"bad\.cfg:1: QPs: a QP is listed twice"),
        ("Images : -1\n", r"bad\.cfg:1: Images: expected an integer >= 0"),
        ("Model : resnet\n", r"bad\.cfg:1: Model: unknown model .resnet.; FTM knows efficientnet-lite0, vgg16, resnet50"),
        ("Model : my.nets:make-net\n", r"bad\.cfg:1: Model: .* package\.module:function or path/to/file\.py:function"),
        ("\n\nConfiguration : a Quantiser=log\n",
         r"bad\.cfg:3: Configuration: configuration a: unknown key 'Quantiser' \(did you mean 'Quantizer'\?\)"),
        ("Configuration : a Quantizer=cubic\n", r"bad\.cfg:1: Configuration: configuration a: Quantizer: expected one of"),
        ("Configuration : a Quantizer\n", r"bad\.cfg:1: Configuration: configuration a: expected Key=Value"),
        ("Configuration : a QP=22\n", r"bad\.cfg:1: Configuration: configuration a: QP is set by the runner"),
        ("Configuration :\n", r"bad\.cfg:1: Configuration: expected a name"),
        ("Layers : block4, block4\n", r"bad\.cfg:1: Layers: a layer is listed twice"),
        ("this is not a setting\n", r"bad\.cfg:1: expected 'Key : Value'"),
        # valid one by one, inconsistent together: the line that defined the configuration is named
        ("QPs : 22\nConfiguration : t TileGrid=2x2\n", r"bad\.cfg:2: configuration t at QP 22 \(QPs: .*bad\.cfg:1\): TileGrid applies to Packing : tiled only"),
        ("QPs : 12, 60\n", r"bad\.cfg:1: configuration x265-ffmpeg at QP 60 .*: QP 60 is outside \[0, 51\], HEVC's range"),
    ],
)  # fmt: skip
def test_errors_name_file_and_line(tmp_path, text, match):
    path = write(tmp_path, "bad.cfg", text)
    with pytest.raises(ConfigError, match=match):
        load_ctc_config([path])


def test_override_errors_name_the_argument():
    with pytest.raises(ConfigError, match="command line --Qps=3: unknown key 'Qps'"):
        load_ctc_config([], ["--QPs=22", "--Qps=3"])


def test_cli_reports_config_errors_with_usage_status(tmp_path, capsys):
    from ftm.cli._tool import run_tool

    path = write(tmp_path, "bad.cfg", "QPs : 22\nLayerz : head\n")
    assert run_tool("ftm-ctc", ctc_main, ["-c", path]) == 2
    assert f"{path}:2: unknown key 'Layerz' (did you mean 'Layers'?)" in capsys.readouterr().err
    assert run_tool("ftm-ctc", ctc_main, ["-c", path, "stray"]) == 2
    assert run_tool("ftm-ctc", ctc_main, ["--help-keys"]) == 0
    assert "Configuration" in capsys.readouterr().out


def test_read_settings_serves_any_key_registry():
    keys = {k.name: k for k in (Key("Size", "size", int, "a size"), Key("Item", "items", str, "an item", repeat=True))}
    origins = {}
    values = read_settings([], ["--Size=3", "--Item=a", "--Size=4", "--Item=b"], keys, origins=origins)
    assert values == {"size": 4, "items": ("a", "b")}
    assert origins == {"size": "command line --Size=4", "items": ("command line --Item=a", "command line --Item=b")}
    assert all(not k.repeat for k in KEYS)


def test_jobs_cover_the_matrix_with_stable_ids(tmp_path):
    fs = fake_feature_set(tmp_path / "set", layers=(("block10", (3, 6, 14, 14)), ("block15", (3, 4, 7, 7))))
    path = write(tmp_path, "m.cfg", f"FeatureSets : {fs.path}\nQPs : 22, 42\nConfiguration : a\nConfiguration : b Quantizer=minmax\n")
    cfg = load_ctc_config([path])
    jobs = expand_jobs(cfg, {"set": fs})
    assert [(j.layer, j.configuration, j.qp) for j in jobs] == [
        (layer, c, qp) for layer in ("block10", "block15") for c in ("a", "b") for qp in (22, 42)
    ]
    assert len({j.job_id for j in jobs}) == 8
    assert jobs[0].job_id.startswith("set.block10.qp22.a.")
    assert [j.job_id for j in expand_jobs(load_ctc_config([path]), {"set": fs})] == [j.job_id for j in jobs]
    # a setting that changes results changes the id; one that changes only speed does not
    minmax_8 = expand_jobs(load_ctc_config([path], ["--Configuration=a BitDepth=10"]), {"set": fs})
    assert minmax_8[0].job_id != jobs[0].job_id and minmax_8[2].job_id == jobs[2].job_id
    threaded = expand_jobs(load_ctc_config([path], ["--Configuration=a Threads=3"]), {"set": fs})
    assert threaded[0].job_id == jobs[0].job_id
    # different tensors under the same names give different ids
    other = fake_feature_set(tmp_path / "other" / "set", layers=(("block10", (3, 6, 14, 14)), ("block15", (3, 4, 7, 7))), seed=1)
    assert expand_jobs(cfg, {"set": other})[0].job_id != jobs[0].job_id
    assert jobs[0].cost > jobs[4].cost and jobs[0].cost > jobs[1].cost  # more pixels, lower QP: longer
    assert job_cost((1, 1, 7, 7), 22) == job_cost((1, 1, 16, 16), 22)  # x265 pads to 16 x 16


def test_missing_layer_names_the_layers_line(tmp_path):
    fs = fake_feature_set(tmp_path / "set")
    path = write(tmp_path, "m.cfg", f"FeatureSets : {fs.path}\n# layers\nLayers : block15, head\n")
    with pytest.raises(ConfigError, match=r"m\.cfg:3: Layers: feature set set .* has no layer head; it has block15"):
        expand_jobs(load_ctc_config([path]), {"set": fs})


def test_defaults_without_configuration_lines():
    cfg = CtcConfig()
    assert [v.name for v in cfg.variants()] == ["x265-ffmpeg"]
    assert cfg.feature_set_root.as_posix() == "ctc-out/featuresets"


def test_one_runner_per_output_folder(tmp_path):
    from ftm.ctc import run_ctc
    from ftm.ctc.featuresets import FolderBusyError, file_lock
    from ftm.ctc.runner import LOCK_FILE

    cfg = load_ctc_config([], [f"--OutputDir={tmp_path}"])
    with file_lock(tmp_path / LOCK_FILE, "test"):
        with pytest.raises(FolderBusyError, match="in use by another process"):
            run_ctc(cfg, progress=False, log=lambda m: None)


def test_coding_unit_splits_images():
    from ftm.ctc.job import _coding_units

    x = np.zeros((3, 2, 4, 4), np.float32)
    image, whole = (load_ctc_config([], [f"--CodingUnit={u}"]) for u in ("image", "set"))
    assert image.coding_unit == "image" and whole.coding_unit == "set"

    class FakeJob:
        layer = "block4"

        def __init__(self, unit):
            self.coding_unit = unit

    per_image = _coding_units(FakeJob("image"), x)
    assert list(per_image) == ["block4/0", "block4/1", "block4/2"] and per_image["block4/1"].shape == (1, 2, 4, 4)
    assert list(_coding_units(FakeJob("set"), x)) == ["block4"]
    with pytest.raises(ConfigError, match="CodingUnit: expected one of image, set"):
        load_ctc_config([], ["--CodingUnit=batch"])


def test_list_makes_nothing_and_the_matrix_is_checked_before_any_work(tmp_path, capsys):
    from ftm.cli._tool import run_tool

    out = tmp_path / "out"
    cfg = write(tmp_path, "c.cfg", "FeatureSets : bundled\nLayers : block4, head\nQPs : 22, 42\n")
    assert run_tool("ftm-ctc", ctc_main, ["-c", cfg, "-o", str(out), "--list"]) == 0
    listed = capsys.readouterr()
    assert listed.out.count("todo (the bundled feature set is made on the first run)") == 4
    assert "bundled.block4.qp22.x265-ffmpeg" in listed.out and "4 jobs" in listed.err
    assert not out.exists()  # no feature set, no lock file, no folder
    bad = write(tmp_path, "bad.cfg", "FeatureSets : bundled\nLayers : block3\n")
    assert run_tool("ftm-ctc", ctc_main, ["-c", bad, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.cfg:2: Layers: efficientnet-lite0 (the bundled feature set) has no layer block3" in err
    assert not out.exists()


def test_images_applies_to_the_bundled_set_only(tmp_path):
    folder = tmp_path / "myset"
    folder.mkdir()
    with pytest.raises(ConfigError, match="Images applies to the bundled feature set only"):
        load_ctc_config([], [f"--FeatureSets={folder}", "--Images=4"])


def test_anchor_names_a_configuration(tmp_path):
    path = write(tmp_path, "a.cfg", "Configuration : one\nConfiguration : two Packing=tiled\nAnchor : two\n")
    assert load_ctc_config([path]).anchor == "two"
    with pytest.raises(ConfigError, match=r"a.cfg:3: Anchor 'three' is not a configuration; they are one, two"):
        load_ctc_config([write(tmp_path, "a.cfg", "Configuration : one\nConfiguration : two Packing=tiled\nAnchor : three\n")])


def test_bd_rates_against_an_anchor_and_encode_times():
    from ftm.ctc.reports import bd_rate_rows, format_encode_times

    rows = []
    for config, scale, seconds in (("a", 1.0, 1.0), ("b", 0.5, 3.0), ("c", 0.8, 2.0)):
        for qp, fidelity in ((22, 0.9), (32, 0.7), (42, 0.4)):
            rows.append({"feature_set": "s", "layer": "l", "configuration": config, "status": "ok", "qp": qp,
                         "compressed_bytes": scale * 1000 / (qp - 20), "f_classification": fidelity,
                         "f_retrieval": fidelity, "encode_seconds": seconds})  # fmt: skip
    against = bd_rate_rows(rows, anchor="b")
    assert [(r["anchor"], r["test"]) for r in against] == [("b", "a"), ("b", "c")]
    assert against[0]["bd_rate_cls"] == pytest.approx(100.0)  # a needs twice b's bytes at equal fidelity
    assert [(r["anchor"], r["test"]) for r in bd_rate_rows(rows)] == [("a", "b"), ("a", "c"), ("b", "c")]
    table = format_encode_times(rows, "a")
    assert "| b | 9.0 | 3.00 | 3.00 |" in table and "| c | 6.0 | 2.00 | 2.00 |" in table
    rows[-1]["status"] = "failed"
    assert "| c | n/a | n/a | n/a |" in format_encode_times(rows, "a")
