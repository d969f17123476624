"""One ``ftm-joint`` run: the images, the network, the grid as resumable jobs, the analysis, the pair streams.

The output folder holds what the jobs read (``inputs.npz``: the images and
labels; ``lossless.npy``: the features of the lossless images, made once
and reused while the images and the network are the same), the job
records (``jobs/``) and streams (``streams/``), and, once every point is
measured, ``pairs/``: for each weight and budget, the .ftm stream of the
pair the TFQI allocation chose (its image record and its feature record),
which ``ftm-decode`` decodes to both. A rerun runs only the points whose
records are missing or failed; one run at a time holds the folder.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from ftm._atomic import write_bytes_atomic, write_text_atomic
from ftm.ctc.executors import Executor
from ftm.ctc.featuresets import file_lock
from ftm.ctc.runner import make_executor, pending_jobs, run_jobs
from ftm.ctc.store import ResultStore
from ftm.errors import InputError, JobsFailedError
from ftm.joint.config import JointConfig
from ftm.joint.experiment import JointResult, JointSettings, analyse, feature_scale
from ftm.joint.jobs import STREAMS_DIR, embedder, plan_jobs, run_joint_job
from ftm.joint.recognition import recognition

__all__ = ["load_images", "run"]

LOCK_FILE = ".ftm-joint.lock"
PAIRS_DIR = "pairs"


def _image(a: np.ndarray, colour: bool) -> np.ndarray:
    """H x W grey or H x W x 3 RGB uint8 (an alpha channel dropped; a grey image repeated where the set is colour)."""
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[2] in (3, 4):
        a = a[..., :3]
    elif a.ndim != 2:
        raise InputError(f"an image must be H x W or H x W x 3, got shape {a.shape}")
    if a.dtype != np.uint8:
        raise InputError(f"images must hold 8-bit samples, got {a.dtype}")
    return np.repeat(a[..., None], 3, axis=2) if colour and a.ndim == 2 else a


def load_images(cfg: JointConfig) -> Tuple[np.ndarray, np.ndarray]:
    """N x H x W (grey) or N x H x W x 3 (colour, if any image is) uint8 images and their class ids."""
    from ftm.extract.embeddings import class_ids
    from ftm.extract.images import balanced_subset, folder_photos

    if cfg.image_folder:
        photos = balanced_subset(folder_photos(cfg.image_folder), cfg.images)
    else:
        from ftm.extract.fashion_mnist import fashion_mnist_photos

        photos = fashion_mnist_photos("test", cfg.images)
    arrays = [p.load() for p in photos]
    colour = any(np.ndim(a) == 3 for a in arrays)
    images = [_image(a, colour) for a in arrays]
    if len({im.shape for im in images}) != 1:
        raise InputError(f"the images must share one size to be coded as one sequence; found {sorted({im.shape for im in images})[:3]}")
    labels, _ = class_ids([p.label for p in photos])
    return np.stack(images), np.asarray(labels)


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(repr((a.dtype.str, a.shape)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _file_digest(path: str) -> str:
    if not path:
        return ""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest() if hasattr(hashlib, "file_digest") else hashlib.sha256(f.read()).hexdigest()


def _prepare(cfg: JointConfig, out: Path, log: Callable[[str], None]):
    """inputs.npz and lossless.npy (kept when they already hold these images through this network); their digests."""
    from ftm.models import load_network

    images, labels = load_images(cfg)
    inputs_digest = _digest(images, labels)
    weights_digest = _file_digest(cfg.network_weights)
    inputs, lossless, meta = out / "inputs.npz", out / "lossless.npy", out / "lossless.json"
    key = {"inputs": inputs_digest, "network": cfg.network, "weights": weights_digest}
    try:
        fresh = json.loads(meta.read_text()) != key or not inputs.is_file() or not lossless.is_file()
    except (OSError, ValueError):
        fresh = True
    if fresh:
        import io

        log(f"ftm-joint: {len(images)} images of {images.shape[1]} x {images.shape[2]}; embedding the lossless images "
            f"with {cfg.network}")  # fmt: skip
        buffer = io.BytesIO()
        np.savez(buffer, images=images, labels=labels)
        write_bytes_atomic(inputs, buffer.getvalue())
        features = embedder(load_network(cfg.network, cfg.network_weights or None))(images)
        buffer = io.BytesIO()
        np.save(buffer, features, allow_pickle=False)
        write_bytes_atomic(lossless, buffer.getvalue())
        write_text_atomic(meta, json.dumps(key) + "\n")
    else:
        features = np.load(lossless, allow_pickle=False)
    return images, labels, features, inputs, inputs_digest, lossless, weights_digest


def run(cfg: JointConfig, progress: bool = True, workers: Optional[int] = None, scheduler: Optional[str] = None,
        executor: Optional[Executor] = None, argv: Optional[Sequence[str]] = None) -> JointResult:  # fmt: skip
    """Measure every unfinished grid point as a job, then fit, allocate and write the pair streams."""
    def log(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with file_lock(out / LOCK_FILE, f"output folder {out}", wait=False):
        images, labels, lossless, inputs, digest, lossless_path, weights_digest = _prepare(cfg, out, log)
        accuracy = recognition(cfg.task, labels, lossless, cfg.pairs, cfg.folds, cfg.pair_seed)(lossless)
        scale = feature_scale(lossless)
        jobs = plan_jobs(cfg, inputs, digest, lossless_path, scale, weights_digest, out)
        (out / STREAMS_DIR).mkdir(exist_ok=True)
        store = ResultStore(out)
        records, finished, todo = pending_jobs(store, jobs)
        own = executor is None
        executor = executor or make_executor(workers, scheduler, None, len(todo), task=run_joint_job)
        try:
            run_jobs(executor, todo, store, records, len(jobs), finished, progress, tool="ftm-joint")
        finally:
            if own:
                executor.close()
        failed = [records[j.job_id] for j in jobs if records.get(j.job_id, {}).get("status") != "ok"]
        if failed:
            first = (failed[0].get("error") or {}).get("message", "?").splitlines()[0]
            raise JobsFailedError(f"{len(failed)} of {len(jobs)} points failed (first: {failed[0]['job_id']}: {first}); "
                                  f"their records are in {store.dir}; run again to retry them")  # fmt: skip
        points = {j.job_id: records[j.job_id]["point"] for j in jobs}
        settings = JointSettings(cfg.texture_qps, cfg.feature_qps, cfg.weights, cfg.encoder, cfg.pairs, cfg.folds, cfg.pair_seed,
                                 cfg.task)  # fmt: skip
        result = analyse(settings, len(images), int(images.shape[1] * images.shape[2]), accuracy,
                         [points[j.job_id] for j in jobs if j.kind == "texture"],
                         [points[j.job_id] for j in jobs if j.kind == "feature"])  # fmt: skip
        _write_pairs(result, jobs, records, out)
        result.run = {"images_digest": digest, "network": cfg.network, "network_weights_sha256": weights_digest,
                      "executor": executor.describe(), "jobs": len(jobs), "jobs_run": len(todo),
                      "wall_seconds": time.perf_counter() - t0, "argv": list(argv or []), **_versions()}  # fmt: skip
    return result


def _versions() -> Dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from ftm._version import __version__

    out = {"ftm_version": __version__, "numpy": np.__version__}
    try:
        out["torch"] = version("torch")
    except PackageNotFoundError:  # torch is optional; the record says it is absent
        out["torch"] = "absent"
    return out


def _write_pairs(result: JointResult, jobs, records: Dict[str, dict], out: Path) -> None:
    """pairs/w<w1>-budget<k>.ftm: the image record and the feature record the model-based allocation chose."""
    from ftm.stream.coding import join_streams

    stream_of = {(j.kind, j.qp): out / records[j.job_id]["stream"] for j in jobs}
    budgets = sorted({row["budget"] for row in result.allocations}, reverse=True)
    for row in result.allocations:
        if row.get("texture_qp") is None:
            continue
        name = f"{PAIRS_DIR}/w{row['w1']:g}-budget{budgets.index(row['budget'])}.ftm"
        pair = join_streams([stream_of["texture", row["texture_qp"]].read_bytes(), stream_of["feature", row["feature_qp"]].read_bytes()])
        (out / PAIRS_DIR).mkdir(exist_ok=True)
        write_bytes_atomic(out / name, pair)
        row["pair_stream"], row["pair_bits_per_image"] = name, 8 * len(pair) / result.images
