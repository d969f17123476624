"""ftm-joint's grid points as jobs of FTM's runner: resumable by content digest, run by the CTC executors.

Each texture QP and each feature QP is one job (:func:`run_joint_job`, run
by :mod:`ftm.ctc.executors` in local worker processes or on a Dask
cluster, its record written atomically by :class:`ftm.ctc.store.ResultStore`
as it arrives). A job reads what the run prepared in the output folder: the
images and labels (``inputs.npz``) and the features of the lossless
images (``lossless.npy``: coded by feature jobs, and the classifier's
training data for ``Task : classification``); it writes the .ftm stream of its
record under ``streams/``. Its id ends with a digest of everything its
result depends on (the images' digest, the network, the QP, the encoder,
the recognition task and its protocol, the feature scale), so a rerun skips finished
points and a changed setting makes new ones. Where tools live (HmDir) and
thread counts are left out.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Dict, List, Tuple

import numpy as np

from ftm._atomic import write_bytes_atomic
from ftm.ctc.job import WorkerSettings, run_guarded

__all__ = ["JOB_FORMAT", "JointJob", "embedder", "plan_jobs", "run_joint_job", "STREAMS_DIR"]

JOB_FORMAT = 1  # bump when the meaning of a job's result changes, so old records are not reused
STREAMS_DIR = "streams"


@dataclass(frozen=True)
class JointJob:
    """One grid point: code the images' texture (kind "texture") or their lossless features ("feature") at ``qp``."""

    job_id: str
    kind: str
    qp: int
    inputs: str  # inputs.npz: images, labels
    inputs_digest: str
    lossless: str  # lossless.npy: the features of the lossless images (feature jobs)
    network: str
    network_weights: str
    encoder: str
    hm_dir: str
    scale: float  # the vector codec's scale (feature jobs)
    pairs: int
    folds: int
    pair_seed: int
    task: str  # D_f's recognition task
    streams_dir: str
    cost: float  # relative work, to start the longest jobs first
    record_format: ClassVar[Tuple[str, int]] = ("ftm-joint-job", 1)

    def describe(self) -> Dict[str, Any]:
        return {"job_id": self.job_id, "kind": self.kind, "qp": self.qp, "inputs_digest": self.inputs_digest,
                "network": self.network, "network_weights": self.network_weights,
                "encoder": self.encoder if self.kind == "texture" else None,
                "scale": self.scale if self.kind == "feature" else None,
                "pairs": self.pairs, "folds": self.folds, "pair_seed": self.pair_seed, "task": self.task}  # fmt: skip


def plan_jobs(cfg, inputs: Path, inputs_digest: str, lossless: Path, scale: float, weights_digest: str, out: Path) -> List[JointJob]:
    """The jobs of a run: one per texture QP, one per feature QP."""
    jobs = []
    for kind, qps in (("texture", cfg.texture_qps), ("feature", cfg.feature_qps)):
        for qp in qps:
            payload = {"format": JOB_FORMAT, "kind": kind, "qp": qp, "inputs": inputs_digest, "network": cfg.network,
                       "weights": weights_digest, "pairs": [cfg.pairs, cfg.folds, cfg.pair_seed]}  # fmt: skip
            if cfg.task != "verification":  # verification's digests stay those of the runs before Task existed
                payload["task"] = cfg.task
            if kind == "texture":
                payload["encoder"] = cfg.encoder
            else:
                payload["scale"] = scale
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]
            jobs.append(JointJob(
                f"{kind}-qp{qp}-{digest}", kind, qp, str(inputs), inputs_digest, str(lossless), cfg.network,
                cfg.network_weights, cfg.encoder, cfg.hm_dir, scale, cfg.pairs, cfg.folds, cfg.pair_seed,
                cfg.task, str(out / STREAMS_DIR), 10.0 if kind == "texture" else 1.0,  # a texture job runs the network too
            ))  # fmt: skip
    return jobs


_lock = threading.Lock()  # a Dask worker may run jobs on several threads of one process
_cache: Dict[Any, Any] = {}


def _cached(key, load):
    with _lock:
        if key not in _cache:
            _cache[key] = load()
        return _cache[key]


def embedder(network):
    """Images (N x H x W grey or N x H x W x 3) to N x D descriptors: each image seen whole, resized (as the default embedding set)."""
    from ftm.extract.images import FULL_VIEWS, Photo
    from ftm.extract.labelled import embed_photos

    def embed(x: np.ndarray) -> np.ndarray:
        photos = [Photo(str(i), None, lambda a=a: a) for i, a in enumerate(x)]
        return embed_photos(photos, network, views=FULL_VIEWS)

    return embed


def _inputs(job: JointJob) -> Tuple[np.ndarray, np.ndarray]:
    def load():
        with np.load(job.inputs, allow_pickle=False) as f:
            return f["images"], f["labels"]

    return _cached(("inputs", job.inputs, job.inputs_digest), load)


def _network(job: JointJob):
    from ftm.models import load_network

    return _cached(("network", job.network, job.network_weights), lambda: load_network(job.network, job.network_weights or None))


def _measure(job: JointJob, settings: WorkerSettings) -> Dict[str, Any]:
    from ftm.joint.experiment import feature_point, texture_point
    from ftm.joint.recognition import recognition

    images, labels = _inputs(job)
    lossless = _cached(("lossless", job.lossless, job.inputs_digest), lambda: np.load(job.lossless, allow_pickle=False))
    score = _cached(("score", job.inputs_digest, job.lossless, job.task, job.pairs, job.folds, job.pair_seed),
                    lambda: recognition(job.task, labels, lossless, job.pairs, job.folds, job.pair_seed))  # fmt: skip
    if job.kind == "texture":
        point, stream = texture_point(images, score, embedder(_network(job)), job.qp, job.encoder, job.hm_dir)
    else:
        point, stream = feature_point(lossless, score, job.qp, job.scale)
    name = f"{job.job_id}.ftm"
    write_bytes_atomic(Path(job.streams_dir) / name, stream)
    return {"point": point, "stream": f"{STREAMS_DIR}/{name}"}


def run_joint_job(job: JointJob, settings: WorkerSettings = WorkerSettings()) -> Dict[str, Any]:
    """Measure one grid point; its record (never raises for a job failure)."""
    return run_guarded(job, settings, _measure)
