"""HM-style configs: files, overrides, and errors that name file and line."""

import os

import pytest

from ftm.errors import ConfigError
from ftm.stream.config import KEYS, Config, describe_codec_keys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_ctc_configs_define_seed_002_conditions():
    for qp in (12, 22, 32, 42):
        cfg = Config.load([os.path.join(ROOT, "cfg", f"ctc_qp{qp}.cfg")])
        assert (cfg.qp, cfg.quantizer, cfg.bit_depth, cfg.packing, cfg.intra_period) == (qp, "log", 8, "channel", 1)
        assert cfg.channel_order is None and not cfg.log_nonnegative


def test_later_files_and_overrides_win(tmp_path):
    a = write(tmp_path, "a.cfg", "QP : 22\nBitDepth : 10   # comment\n\n# full-line comment\nPacking : tiled\n")
    b = write(tmp_path, "b.cfg", "QP : 32\n")
    cfg = Config.load([a, b], ["--QP=37", "--TileGrid=2x4"])
    assert (cfg.qp, cfg.bit_depth, cfg.packing, cfg.tile_grid) == (37, 10, "tiled", (2, 4))
    assert cfg.sources == (a, b, "--QP=37", "--TileGrid=2x4")
    assert Config.load([a], qp=12).qp == 12


@pytest.mark.parametrize(
    "text, match",
    [
        ("QP : 22\nQPP : 3\n", r"bad\.cfg:2: unknown key 'QPP' \(did you mean 'QP'\?\)"),
        ("QP : abc\n", r"bad\.cfg:1: QP: expected an integer, got 'abc'"),
        ("BitDepth : 17\n", r"bad\.cfg:1: BitDepth: expected an integer in \[8, 16\], got 17"),
        ("Quantizer : cubic\n", r"bad\.cfg:1: Quantizer: expected one of log, minmax; got 'cubic'"),
        ("just some words\n", r"bad\.cfg:1: expected 'Key : Value'"),
        ("TileGrid : 3by4\n", r"bad\.cfg:1: TileGrid: expected 'auto' or ROWSxCOLS"),
        ("ChannelOrder : 0,2,2\n", r"bad\.cfg:1: ChannelOrder: expected each channel index"),
        ("LogNonNegative : maybe\n", r"bad\.cfg:1: LogNonNegative: expected 0 or 1"),
        ("MinMaxLow : nan\n", r"bad\.cfg:1: MinMaxLow: expected a finite number"),
    ],
)
def test_errors_name_file_and_line(tmp_path, text, match):
    path = write(tmp_path, "bad.cfg", text)
    with pytest.raises(ConfigError, match=match):
        Config.load([path])


def test_override_errors_name_the_argument():
    with pytest.raises(ConfigError, match="command line --Qp=3: unknown key 'Qp'"):
        Config.load([], ["--QP=22", "--Qp=3"])
    with pytest.raises(ConfigError, match="expected --Key=Value"):
        Config.load([], ["QP=22"])


@pytest.mark.parametrize(
    "fields, match",
    [
        ({"quantizer": "minmax", "minmax_range": "fixed"}, "needs MinMaxLow and MinMaxHigh"),
        ({"quantizer": "minmax", "minmax_range": "fixed", "minmax_low": 2.0, "minmax_high": 1.0}, "must be below"),
        ({"tile_grid": (2, 2)}, "Packing : tiled only"),
        ({"feature_kind": "vector", "normalization": "scale"}, "positive Scale"),
        ({"normalization": "l2"}, "Normalization applies to FeatureKind : vector, not to"),
        ({"hm_picture_hash": False}, "HmPictureHash applies to Encoder : hm, not to"),
        ({"feature_kind": "vector", "packing": "tiled"}, "Packing applies to FeatureKind : map"),
        ({"qp": 52}, r"QP 52 is outside \[0, 51\], HEVC's range at BitDepth 8"),
        ({"feature_kind": "vector", "qp": 99}, r"QP 99 is outside \[-48, 63\], the scalar quantizer's range"),
        ({"qp": -13, "bit_depth": 10}, r"\[-12, 51\]"),
    ],
)
def test_inconsistent_settings(fields, match):
    with pytest.raises(ConfigError, match=match):
        Config(**fields)


def test_missing_file_and_unknown_field():
    with pytest.raises(ConfigError, match="does not exist"):
        Config.load(["/nonexistent.cfg"])
    with pytest.raises(ConfigError, match="Config has no setting 'bogus'"):
        Config.load([], bogus=1)


def test_vector_qp_range_is_the_scalar_quantizers():
    assert Config(feature_kind="vector", qp=-40).qp == -40


def test_every_key_is_documented_and_round_trips():
    text = describe_codec_keys()
    for key in KEYS:
        assert key.name in text
    cfg = Config()
    assert set(cfg.as_keys()) == {k.name for k in KEYS}
    values = {k: ("" if v is None else ",".join(map(str, v)) if isinstance(v, tuple) else str(int(v)) if isinstance(v, bool) else str(v))
              for k, v in cfg.as_keys().items()}
    assert Config.from_values(values) == cfg
