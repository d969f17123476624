"""ftm-ctc end to end on bundled real features: reports, resumption, failures, Dask.

One tiny matrix (tests/data/ctc_tiny.cfg: 8 bundled inputs, block10 and
block15, QP 22 and 42, log and min-max quantizers) runs on local worker
processes once per module; the other tests compare against it. The bundled
feature set is extracted once into a shared FeatureSetDir.
"""

import csv
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from ftm.ctc import InlineExecutor, WorkerSettings, load_ctc_config, plan, run_ctc  # noqa: E402
from ftm.ctc.process_tree import descendants  # noqa: E402
from ftm.ctc.provenance import git_revision  # noqa: E402
from ftm.ctc.reports import CSV_COLUMNS  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "tests", "data", "ctc_tiny.cfg")
COMPARED = ("compressed_bytes", "compression_rate", "f_classification", "top1_agreement", "top5_overlap",
            "f_retrieval", "map_pristine", "map_reconstructed", "feature_mse", "frames")  # fmt: skip


def tiny(out, shared, *overrides):
    return load_ctc_config([TINY], [f"--OutputDir={out}", f"--FeatureSetDir={shared}", *overrides])


def records(out):
    return {p[:-5]: json.loads((out / "jobs" / p).read_text()) for p in sorted(os.listdir(out / "jobs")) if p.endswith(".json")}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return tmp_path_factory.mktemp("featuresets")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, shared):
    out = tmp_path_factory.mktemp("local")
    cfg = tiny(out, shared)
    summary = run_ctc(cfg, workers=2, threads=1, progress=False, log=lambda m: None)
    return cfg, out, summary


def test_end_to_end_reports(local_run):
    cfg, out, summary = local_run
    assert (summary.jobs, summary.ran, summary.ok, summary.failed) == (8, 8, 8, 0)
    recs = records(out)
    assert len(recs) == 8 and all(r["status"] == "ok" and r["attempt"] == 1 for r in recs.values())
    # at most two worker processes, each loading the network once for all the jobs it ran
    by_worker = {}
    for r in recs.values():
        by_worker.setdefault(r["worker"], []).append(r)
    assert 1 <= len(by_worker) <= 2 and max(len(runs) for runs in by_worker.values()) >= 4
    for runs in by_worker.values():
        assert sorted(r["worker_jobs"] for r in runs) == list(range(1, len(runs) + 1))
        assert all(r["worker_network_loads"] == 1 and r["threads"] == 1 for r in runs)

    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["layer"], r["configuration"], r["qp"]) for r in rows] == [
        (layer, c, qp) for layer in ("block10", "block15") for c in ("log", "minmax") for qp in ("22", "42")
    ]
    for row in rows:
        rec = recs[row["job_id"]]
        assert int(row["bits"]) == 8 * rec["compressed_bytes"] and int(row["images"]) == 8
        assert float(row["compression_rate"]) == pytest.approx(rec["compressed_bytes"] / rec["original_bytes"])
        assert rec["original_bytes"] == 8 * 4 * int(np.prod(rec["feature_shape"]))
        for key in ("f_classification", "f_retrieval", "top5_overlap", "map_reconstructed"):
            assert float(row[key]) == rec[key] and 0.0 <= rec[key] <= 1.0
        assert row["encoder"] == "x265-ffmpeg" and row["quantizer"] == row["configuration"]
    # lower QP: more bytes
    by = {(r["layer"], r["configuration"], int(r["qp"])): r for r in rows}
    assert all(int(by[(l, c, 22)]["bits"]) > int(by[(l, c, 42)]["bits"]) for l, c, _ in by)  # noqa: E741

    table = (out / "table3.md").read_text()
    assert "## efficientnet-lite0, feature set bundled (8 images), configuration log" in table
    assert "| Feat.   | QP22 rate |  fid. | QP42 rate |  fid. |" in table
    assert table.count("Classification (rate | F_classification at each QP)") == 2  # one per configuration
    minmax = table.split("configuration minmax")[1]
    for key in ("f_classification", "f_retrieval"):
        task = minmax.split(f"F_{key[2:]} at each QP")[1]
        for layer in ("block10", "block15"):
            r22, r42 = by[(layer, "minmax", 22)], by[(layer, "minmax", 42)]
            cells = [f"{float(r[f]):.3f}".rjust(w) for r in (r22, r42) for f, w in (("compression_rate", 9), (key, 5))]
            assert f"| {layer} | " + " | ".join(cells) + " |" in task

    bd = json.loads((out / "results.json").read_text())["bd_rates"]
    assert [(b["layer"], b["anchor"], b["test"]) for b in bd] == [("block10", "log", "minmax"), ("block15", "log", "minmax")]
    assert "## bundled: minmax against log" in (out / "bd_rates.md").read_text()
    for png in ("rate_fidelity_bundled_cls.png", "rate_fidelity_bundled_ret.png"):
        assert (out / "plots" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary_txt = (out / "summary.txt").read_text().splitlines()
    assert summary_txt[0].split()[:5] == ["FeatureSet", "Layer", "QP", "Config", "Status"] and len(summary_txt) == 9

    prov = json.loads((out / "provenance.json").read_text())
    assert prov["config"]["QPs"] == [22, 42] and prov["executor"]["executor"] == "local processes"
    assert prov["encoders"]["log"]["encoder"].startswith("x265-ffmpeg libx265")
    assert prov["machine"]["cpu_count"] >= 1 and "ftm" in prov["packages"]
    assert set(prov["config_files"]) >= {TINY}


def test_a_job_is_what_its_record_says(local_run, shared):
    """Recompute one job in this process with the public API and compare."""
    import torch

    import ftm
    from ftm.evaluation import evaluate_layer
    from ftm.extract.featureset import read_feature_set
    from ftm.models import load_network

    cfg, out, _ = local_run
    _, jobs = plan(cfg, log=lambda m: None)
    job = next(j for j in jobs if (j.layer, j.configuration, j.qp) == ("block15", "minmax", 22))
    rec = records(out)[job.job_id]
    fs = read_feature_set(job.feature_set_path)
    x = fs.features("block15")
    torch.set_num_threads(1)
    # Each image is its own tensor (CodingUnit : image), all in one stream.
    units = {f"block15/{i}": x[i : i + 1] for i in range(len(x))}
    coded = ftm.encode_tensors(units, ftm.Config.from_values({"Quantizer": "minmax", "QP": "22"}), progress=False)
    assert rec["compressed_bytes"] == len(coded.data) and rec["coding_unit"] == "image"
    decoded = ftm.decode_all(coded.data)
    report = evaluate_layer(load_network(), "block15", x, np.concatenate([decoded[k] for k in units]), labels=fs.labels(),
                            compressed_bytes=len(coded.data), batch_size=8)  # fmt: skip
    for key in ("f_classification", "top1_agreement", "f_retrieval", "map_reconstructed", "compression_rate"):
        assert rec[key] == report[key], key


def test_rerun_skips_finished_jobs(local_run):
    cfg, out, _ = local_run
    before = {p: (out / "jobs" / p).read_bytes() for p in os.listdir(out / "jobs")}
    summary = run_ctc(cfg, executor=InlineExecutor(WorkerSettings(1)), progress=False, log=lambda m: None)
    assert (summary.skipped, summary.ran, summary.ok) == (8, 0, 8)
    assert {p: (out / "jobs" / p).read_bytes() for p in os.listdir(out / "jobs")} == before


@pytest.fixture
def restore_environment():
    """Dask's nanny writes its workers' settings (MALLOC_TRIM_THRESHOLD_, OMP_NUM_THREADS) into this process's environment."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_dask_on_loopback_gives_the_local_results(local_run, shared, tmp_path, restore_environment):
    distributed = pytest.importorskip("distributed")
    _, local_out, _ = local_run
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:  # fmt: skip
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        summary = run_ctc(tiny(out, shared), scheduler=cluster.scheduler_address, progress=False, log=lambda m: None)
    assert (summary.ran, summary.ok) == (8, 8)
    local, dask = records(local_out), records(out)
    assert sorted(local) == sorted(dask)  # the same job ids
    for job_id, rec in dask.items():
        assert {k: rec[k] for k in COMPARED} == {k: local[job_id][k] for k in COMPARED}, job_id
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["executor"]["executor"] == "dask" and prov["executor"]["workers"] == 2


def _fake_hm(folder):
    """An 'HM' whose encoder fails the way a real tool does: a message on stderr and a non-zero status."""
    folder.mkdir()
    for tool in ("TAppEncoder", "TAppDecoder"):
        script = folder / tool
        script.write_text("#!/bin/sh\necho 'boom: this HM cannot code anything' >&2\nexit 3\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def test_failed_jobs_are_reported_and_retried(local_run, shared, tmp_path):
    hm = _fake_hm(tmp_path / "hm")
    out = tmp_path / "out"
    cfg = load_ctc_config([TINY], [
        f"--OutputDir={out}", f"--FeatureSetDir={shared}", "--Layers=block15",
        f"--Configuration=minmax Encoder=hm HmDir={hm}",  # replaces the min-max configuration
        "--Configuration=deep BitDepth=13",  # 13 bits: no x265 build codes them
    ])  # fmt: skip
    executor = InlineExecutor(WorkerSettings(1))
    summary = run_ctc(cfg, executor=executor, progress=False, log=lambda m: None)
    assert (summary.jobs, summary.ok, summary.failed, summary.complete) == (6, 2, 4, False)
    recs = records(out)
    by_config = {}
    for rec in recs.values():
        by_config.setdefault(rec["configuration"], []).append(rec)
    assert all(r["status"] == "ok" for r in by_config["log"])
    for rec in by_config["minmax"]:
        assert rec["status"] == "failed" and rec["error"]["type"] == "CodecError"
        assert "boom: this HM cannot code anything" in rec["error"]["stderr_tail"]
        assert rec["error"]["command"][0].endswith("TAppEncoder")
    for rec in by_config["deep"]:
        assert rec["status"] == "failed" and "13" in rec["error"]["message"]
    with open(out / "results.csv", newline="") as f:
        rows = {r["configuration"]: r for r in csv.DictReader(f)}
    assert rows["minmax"]["status"] == "failed" and rows["minmax"]["error"].startswith("CodecError: ")
    assert "| block15 |      fail | fail |      fail | fail |" in (out / "table3.md").read_text()
    # the log jobs gave the same figures as in the two-configuration run
    local = records(local_run[1])
    for rec in by_config["log"]:
        assert {k: rec[k] for k in COMPARED} == {k: local[rec["job_id"]][k] for k in COMPARED}

    again = run_ctc(cfg, executor=executor, progress=False, log=lambda m: None)
    assert (again.skipped, again.ran, again.failed) == (2, 4, 4)
    assert sorted(r["attempt"] for r in records(out).values()) == [1, 1, 2, 2, 2, 2]


def _children(pid):
    """The runner's worker processes (not multiprocessing's resource tracker, which leaves with the runner)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(p) for p in f.read().split()]
    except OSError:
        return []
    workers = []
    for child in children:
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if b"spawn_main" in f.read():
                    workers.append(child)
        except OSError:
            continue
    return workers


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _hanging_ffmpeg(tmp_path):
    """An ffmpeg that hangs (exec sleep) once the file ``hang`` exists, and the real one before."""
    import imageio_ffmpeg

    real = imageio_ffmpeg.get_ffmpeg_exe()
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\nif [ -e "{tmp_path / "hang"}" ]; then exec sleep 300; fi\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, tmp_path / "hang"


def _start(out, shared, ffmpeg):
    command = [sys.executable, "-m", "ftm.cli.ctc", "-c", TINY, "-o", str(out), f"--FeatureSetDir={shared}",
               "--QPs=12,22,32,42", "-j", "1", "--threads", "1", "--no-progress"]  # fmt: skip
    env = dict(os.environ, IMAGEIO_FFMPEG_EXE=str(ffmpeg))
    # The runner must get Ctrl-C as a terminal gives it. A test run started in the background by a
    # non-interactive shell (nohup ... &, some CI runners) ignores SIGINT, and an ignored signal stays
    # ignored across exec: a handled one is reset to the default, which Python turns into KeyboardInterrupt.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env)
    finally:
        signal.signal(signal.SIGINT, previous)


def _records_in(out):
    return {p for p in os.listdir(out / "jobs") if p.endswith(".json")} if (out / "jobs").is_dir() else set()


def _interrupt_while_encoding(proc, out, sig, hang, before=frozenset()):
    """Once a job of this run has finished, make the next encode hang, and send ``sig`` while it does.

    The worker is then waiting for an encoder that would take 300 s: a worker
    or an encoder left running (a worker used to run on to the end of its
    job) outlives the bound below by minutes, so the bound needs no tuning to
    the machine's load. How fast the stop really is, benchmarks/bench_ctrl_c.py
    measures (timed assertions in tests fail on loaded machines).
    """
    deadline = time.monotonic() + 120
    while not _records_in(out) - before:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no job finished in time"
        time.sleep(0.02)
    hang.touch()
    workers = _children(proc.pid)
    assert workers
    while not any(_command(pid).startswith(b"sleep") for w in workers for pid in descendants(w)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no encode started in time"
        time.sleep(0.02)
    tree = workers + [pid for w in workers for pid in descendants(w)]
    sent = time.monotonic()
    _send(proc.pid, sig)
    limit = 15.0  # Ctrl-C: killed at once; a killed runner: its workers notice within a second
    while any(_alive(pid) for pid in tree):
        if time.monotonic() - sent >= limit:
            left = {pid: (_state(pid), _command(pid)[:60]) for pid in tree if _alive(pid)}
            runner = {"state": _state(proc.pid), "threads": _threads(proc.pid)}
            proc.kill()
            raise AssertionError(f"a worker or its encoder outlived the {signal.Signals(sig).name} by {limit:.0f} s: "
                                 f"{left}; runner {runner}; its stderr: {proc.communicate()[1][-2000:]!r}")  # fmt: skip
        time.sleep(0.05)
    proc.communicate(timeout=60)
    hang.unlink()
    return proc.returncode


def _send(pid, sig):
    """``sig`` to the runner; SIGINT to one of its threads other than the main one where the C library can.

    The kernel may deliver a process-directed Ctrl-C to any thread; CPython
    then only flags it for the main thread, which must not be sitting in an
    untimed wait (before the fix the runner then waited for the hung encoder).
    """
    if sig == signal.SIGINT:
        import ctypes

        others = [int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid]
        libc = ctypes.CDLL(None, use_errno=True)
        if others and hasattr(libc, "tgkill") and libc.tgkill(pid, others[0], int(sig)) == 0:
            return
    os.kill(pid, sig)


def _state(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return {k: v.strip() for k, v in (line.split(":", 1) for line in f) if k in ("State", "SigBlk", "SigPnd", "ShdPnd", "SigCgt", "SigIgn")}
    except OSError:
        return None


def _threads(pid):
    try:
        return {t: _state_of_thread(pid, t) for t in os.listdir(f"/proc/{pid}/task")}
    except OSError:
        return None


def _state_of_thread(pid, tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            fields = dict(line.split(":", 1) for line in f)
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            name = f.read().strip()
        return (name, fields["State"].strip(), fields["SigBlk"].strip(), fields["SigPnd"].strip())
    except (OSError, KeyError):
        return None


def _command(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the worker processes")
def test_interrupted_and_killed_runs_lose_nothing_and_count_nothing_twice(local_run, shared, tmp_path):
    out = tmp_path / "out"
    ffmpeg, hang = _hanging_ffmpeg(tmp_path)
    proc = _start(out, shared, ffmpeg)
    assert _interrupt_while_encoding(proc, out, signal.SIGINT, hang) == 130
    first = {p: (out / "jobs" / p).read_bytes() for p in os.listdir(out / "jobs") if p.endswith(".json")}
    assert 1 <= len(first) < 16
    with open(out / "results.csv", newline="") as f:  # the reports of what finished were written
        statuses = [r["status"] for r in csv.DictReader(f)]
    assert statuses.count("ok") == len(first) and statuses.count("missing") == 16 - len(first)

    proc = _start(out, shared, ffmpeg)
    assert _interrupt_while_encoding(proc, out, signal.SIGKILL, hang, set(first)) == -signal.SIGKILL
    second = {p: (out / "jobs" / p).read_bytes() for p in os.listdir(out / "jobs") if p.endswith(".json")}
    assert all(second[p] == data for p, data in first.items())  # nothing finished was redone

    done = subprocess.run([sys.executable, "-m", "ftm.cli.ctc", "-c", TINY, "-o", str(out), f"--FeatureSetDir={shared}",
                           "--QPs=12,22,32,42", "-j", "2", "--no-progress"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    finished_before = int(re.search(r"(\d+) finished before", done.stdout).group(1))
    assert finished_before == len(second)
    final = records(out)
    assert len(final) == 16 and all(r["status"] == "ok" and r["attempt"] == 1 for r in final.values())
    assert all((out / "jobs" / p).read_bytes() == data for p, data in second.items())
    assert not [p for p in os.listdir(out / "jobs") if not p.endswith(".json")]  # no temporaries left
    with open(out / "results.csv", newline="") as f:
        ids = [r["job_id"] for r in csv.DictReader(f)]
    assert sorted(ids) == sorted(final) and len(set(ids)) == 16
    local = records(local_run[1])  # the QP 22 and 42 jobs are those of the module's run
    assert sum(1 for job_id in final if job_id in local) == 8
    for job_id in set(final) & set(local):
        assert {k: final[job_id][k] for k in COMPARED} == {k: local[job_id][k] for k in COMPARED}


def test_git_revision_is_unknown_outside_a_checkout(tmp_path):
    assert git_revision([tmp_path]) == {"revision": "unknown"}
    if shutil.which("git") and (os.path.isdir(os.path.join(ROOT, ".git")) or os.path.isfile(os.path.join(ROOT, ".git"))):
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        assert git_revision([ROOT])["revision"] == head


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_allocator_settings_apply_only_where_malloc_trimming_was_forced(monkeypatch):
    import platform

    from ftm.ctc import job

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with job._allocator_for_large_arrays() as tuned:
        assert tuned is False
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # what Dask's nanny gives its workers
    with job._allocator_for_large_arrays() as tuned:
        assert tuned is (platform.libc_ver()[0] == "glibc")
        assert job._state["malloc_users"] == (1 if tuned else 0)
    assert job._state["malloc_users"] == 0


HM_DIR = os.environ.get("FTM_HM_DIR")


@pytest.mark.parametrize("encoder", ["x265-ffmpeg", "x265", "hm"])
def test_batched_coding_gives_each_image_the_stream_it_gets_alone(local_run, encoder):
    """One encoder and one decoder process for the images of a job: the same bytes, image by image."""
    import ftm
    from ftm.extract.featureset import read_feature_set

    if encoder == "x265" and shutil.which("x265") is None:
        pytest.skip("the x265 command-line encoder is not installed")
    if encoder == "hm" and not HM_DIR:
        pytest.skip("HM is not built here: set FTM_HM_DIR to a folder holding TAppEncoder and TAppDecoder")
    cfg, _, _ = local_run
    fs = read_feature_set(next(iter(plan(cfg, log=lambda m: None)[0].values())).path)
    features = fs.features("block15")
    units = {f"block15/{i}": features[i : i + 1] for i in range(len(features))}
    settings = {"QP": "32", "Encoder": encoder, "Decoder": "hm" if encoder == "hm" else "ffmpeg"}
    if encoder == "hm":
        settings["HmDir"] = HM_DIR
    batched = ftm.encode_tensors(units, {**settings, "BatchedCoding": "1"}, progress=False)
    alone = ftm.encode_tensors(units, {**settings, "BatchedCoding": "0"}, progress=False)
    assert len(units) == 8 and batched.data == alone.data
    for name in units:
        assert np.array_equal(batched.reconstruction[name], alone.reconstruction[name])
    assert np.array_equal(ftm.decode_all(batched.data)["block15/3"], alone.reconstruction["block15/3"])
