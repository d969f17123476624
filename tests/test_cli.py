"""ftm-encode and ftm-decode as a user runs them."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ftm
from ftm.cli import decode as decode_cli
from ftm.cli import encode as encode_cli
from ftm.cli._tool import run_tool

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CTC22 = os.path.join(ROOT, "cfg", "ctc_qp22.cfg")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def encode(argv):
    return run_tool("ftm-encode", encode_cli.main, argv)


def decode(argv):
    return run_tool("ftm-decode", decode_cli.main, argv)


def test_main_job_on_the_bundled_input(tmp_path, capsys):
    out = str(tmp_path / "features.ftm")
    assert encode(["-c", CTC22, "-b", out]) == 0
    table = capsys.readouterr().out
    header = next(line for line in table.splitlines() if line.startswith("Tensor"))
    row = next(line for line in table.splitlines() if line.startswith("features"))
    total = next(line for line in table.splitlines() if line.startswith("TOTAL"))
    columns = dict(zip(header.split(), row.split()))
    assert columns["Shape"] == "1x40x28x28" and columns["QP"] == "22" and columns["Frames"] == "40"
    summary = json.loads((tmp_path / "features.json").read_text())
    size = os.path.getsize(out)
    assert int(dict(zip(header.split(), total.split()))["Bits"]) == size * 8 == summary["total"]["bits"]
    assert summary["total"]["compression_rate"] == pytest.approx(size / (40 * 28 * 28 * 4))
    assert summary["config"]["QP"] == 22 and summary["tensors"][0]["psnr_db"] > 30
    np.testing.assert_array_equal(ftm.decode(read(out)).shape, (1, 40, 28, 28))


def test_short_options_override_and_reconstruction(tmp_path):
    x = {"a": np.random.default_rng(0).random((1, 3, 5, 5)).astype(np.float32), "b": np.ones((2, 2, 3, 3), np.float32)}
    src = str(tmp_path / "in.npz")
    np.savez(src, **x)
    out, recon = str(tmp_path / "o.ftm"), str(tmp_path / "r.safetensors")
    assert encode(["-c", CTC22, "--QP=12", "-q", "32", "-i", src, "-b", out, "-o", recon, "--quiet"]) == 0
    summary = json.loads((tmp_path / "o.json").read_text())
    assert summary["config"]["QP"] == 32 and [t["name"] for t in summary["tensors"]] == ["a", "b"]
    from ftm.io import load_features

    written = load_features(recon)
    decoded = ftm.decode_all(read(out))
    for k in x:
        np.testing.assert_array_equal(written[k], decoded[k])


def test_decode_verifies_md5(tmp_path, capsys):
    out = str(tmp_path / "f.ftm")
    assert encode(["-c", CTC22, "-b", out, "--quiet"]) == 0
    digest = ftm.stream.records.md5(ftm.decode(read(out))).hex()
    target = str(tmp_path / "r.npy")
    assert decode(["-b", out, "-o", target, "--verify-md5", digest]) == 0
    assert digest in capsys.readouterr().out
    np.testing.assert_array_equal(np.load(target), ftm.decode(read(out)))
    os.unlink(target)
    assert decode(["-b", out, "-o", target, "--verify-md5", "0" * 32]) == 1
    assert "expected 00000000" in capsys.readouterr().err
    assert not os.path.exists(target)  # nothing written on a mismatch
    assert decode(["-b", out, "--verify-md5", "xyz"]) == 2


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["--QP=99"], 2, "QP 99 is outside [0, 51]"),
        (["--Qp=22"], 2, "unknown key 'Qp'"),
        (["stray"], 2, "unrecognized argument 'stray'"),
        (["-i", "/nonexistent.npy"], 1, "does not exist"),
        (["--Encoder=hm", "--HmDir=/nonexistent"], 1, "HM folder '/nonexistent'"),
    ],
)
def test_errors_are_one_clear_line(tmp_path, capsys, argv, code, message):
    out = str(tmp_path / "x.ftm")
    assert encode(["-c", CTC22, "-b", out] + argv) == code
    err = capsys.readouterr().err
    assert err.startswith("ftm-encode: error:") and message in err
    assert not os.path.exists(out) and not os.path.exists(str(tmp_path / "x.json"))


@pytest.mark.parametrize(
    "make, code, message",
    [
        (lambda d: ["-i", str(d / "empty.npy")], 1, "empty.npy' is empty (0 bytes)"),
        (lambda d: ["-i", str(d / "garbage.npy")], 1, "garbage.npy' is not a .npy file"),
        (lambda d: ["-i", str(d / "garbage.npz")], 1, "garbage.npz' is not a .npz file"),
        (lambda d: ["-i", str(d / "objects.npy")], 1, "holds Python objects"),
        (lambda d: ["-i", str(d / "empty.npz")], 1, "empty.npz' is empty"),
        (lambda d: ["-i", str(d)], 1, "is a folder; give a .npy"),
        (lambda d: ["-b", str(d)], 2, "bitstream file (-b / BitstreamFile) '" ),
        (lambda d: ["-b", str(d / "no" / "x.ftm")], 2, "no/x.ftm': the folder"),
        (lambda d: ["-o", str(d)], 2, "reconstruction file (-o / ReconFile)"),
        (lambda d: ["-o", str(d / "r.txt")], 2, "unsupported extension '.txt'"),
        (lambda d: ["-b", str(d / "x.ftm"), "--SummaryFile=" + str(d / "x.ftm")], 2, "must differ"),
    ],
)
def test_inputs_and_outputs_are_checked_before_any_work(tmp_path, capsys, make, code, message):
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "garbage.npy").write_bytes(b"\x00" * 100)
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    before = set(os.listdir(tmp_path))
    assert encode(["-c", CTC22, "-b", str(tmp_path / "x.ftm")] + make(tmp_path)) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ftm-encode: error:") and message in err, err
    assert set(os.listdir(tmp_path)) == before  # nothing written, no temporary left


def test_decode_checks_its_output_before_decoding(tmp_path, capsys):
    out = str(tmp_path / "f.ftm")
    assert encode(["-c", CTC22, "-b", out, "--quiet"]) == 0
    assert decode(["-b", out, "-o", str(tmp_path / "r.bmp")]) == 2
    assert "unsupported extension '.bmp'" in capsys.readouterr().err
    assert decode(["-b", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_bad_config_file_names_file_and_line(tmp_path, capsys):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("QP : 22\nBitDepht : 10\n")
    assert encode(["-c", str(cfg)]) == 2
    assert f"{cfg}:2: unknown key 'BitDepht' (did you mean 'BitDepth'?)" in capsys.readouterr().err


def test_decode_rejects_a_corrupt_stream(tmp_path, capsys):
    bad = tmp_path / "bad.ftm"
    bad.write_bytes(b"FTM\x1a\x01\x00\x00\x00garbage")
    assert decode(["-b", str(bad)]) == 1
    assert "ftm-decode: error: tensor 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["-c", CTC22, "-q", "99"], "command line --QP=99: QP 99 is outside [0, 51], HEVC's range at BitDepth 8"),
        (["-c", CTC22, "--BitDepth=10", "--QP=99"], "command line --QP=99: QP 99 is outside [-12, 51], HEVC's range at BitDepth 10"),
        (["-c", "vector_qp22.cfg", "-q", "99"], "command line --QP=99: QP 99 is outside [-48, 63], the scalar quantizer's range"),
        (["-c", CTC22, "-q", "x"], "command line --QP=x: QP: expected an integer, got 'x'"),
    ],
)
def test_a_bad_qp_has_one_wording_and_one_exit_status(args, message, capsys):
    assert encode(args) == 2
    assert capsys.readouterr().err.strip() == f"ftm-encode: error: {message}"


def test_shipped_configs_and_conformance_streams_are_found_from_any_folder(tmp_path):
    run = subprocess.run(["ftm-encode", "-c", "ctc_qp22.cfg", "--quiet"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "features.ftm").is_file() and (tmp_path / "features.json").is_file()
    run = subprocess.run(["ftm-encode", "-c", "no_such.cfg"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and "nor among the configs FTM ships: ctc.cfg" in run.stderr
    run = subprocess.run(["ftm-conformance"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and " 0 failed" in run.stdout, run.stdout + run.stderr


def test_console_scripts_are_installed(tmp_path):
    out = str(tmp_path / "f.ftm")
    run = subprocess.run(["ftm-encode", "-c", CTC22, "-b", out, "--quiet"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    run = subprocess.run(["ftm-decode", "-b", out], capture_output=True, text=True)
    assert run.returncode == 0 and "1x40x28x28" in run.stdout
    run = subprocess.run([sys.executable, "-m", "ftm.cli.encode", "--help-keys"], capture_output=True, text=True)
    assert run.returncode == 0 and "BitDepth" in run.stdout
