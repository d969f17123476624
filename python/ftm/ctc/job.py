"""What a worker does for one job: encode, decode, evaluate; the job's result record.

:func:`run_job` is the one function every executor runs (in this process, in
local worker processes, on Dask workers). It never raises for a failure of
the job itself: the record then has ``status: "failed"`` and the error, with
the codec's command and stderr tail when a codec failed, so one bad job does
not stop the others.

Per worker process, the network is loaded once, the features of the last
layer used and the pristine task outputs of each layer are kept, and the
thread counts are set once (:func:`configure_process`). The pristine outputs
are computed by the same code and batching as the reconstructed ones
(:func:`ftm.models.split.task_outputs`), so a layer coded losslessly gives
fidelity exactly 1.

Decoding: ``ftm.encode_tensors`` decodes the stream it writes with the
configured decoder (and stores checksums of that reconstruction in the
stream); the job evaluates exactly that reconstruction, and its decode time
is the time of that decode.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import platform
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import numpy as np

from ftm.ctc.matrix import Job

__all__ = ["RECORD_FORMAT", "WorkerSettings", "base_record", "configure_process", "failed_record", "run_guarded", "run_job"]

RECORD_FORMAT = "ftm-ctc-job"
RECORD_VERSION = 1
_TRACEBACK_LINES = 30


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker runs jobs: threads for torch, FTM's pool and x265 (none of them changes a result)."""

    threads: int = 1


_lock = threading.Lock()  # a Dask worker may run jobs on several threads of one process
_state: Dict[str, Any] = {
    "threads": None, "networks": {}, "features": (None, None), "pristine": {}, "jobs": 0, "loads": 0, "malloc_users": 0,
}  # fmt: skip

# glibc mallopt parameters, and the mmap threshold glibc's own dynamic adjustment tops out at on 64-bit systems
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_DYNAMIC_MMAP_MAX = 32 << 20
_DEFAULT_MMAP_THRESHOLD = 128 << 10


@functools.lru_cache(maxsize=None)
def _glibc_mallopt():
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None


@contextlib.contextmanager
def _allocator_for_large_arrays() -> Iterator[bool]:
    """glibc's usual handling of large blocks while a job runs, where MALLOC_TRIM_THRESHOLD_ turned it off.

    Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536. Setting it
    also stops glibc from raising its mmap threshold as large blocks are
    freed, so every tensor above 128 KiB is a fresh mmap whose pages fault
    in again: measured, the evaluation of a job ran 2x slower on a Dask
    worker than in a local process. For the job's duration the thresholds
    are where glibc's own adjustment would take them (mmap 32 MiB, trim
    64 MiB); afterwards the worker gets back the settings it was started with.
    """
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    mallopt = _glibc_mallopt() if trim is not None else None
    if mallopt is None:
        yield False
        return
    with _lock:
        _state["malloc_users"] += 1
        if _state["malloc_users"] == 1:
            mallopt(_M_MMAP_THRESHOLD, _DYNAMIC_MMAP_MAX)
            mallopt(_M_TRIM_THRESHOLD, 2 * _DYNAMIC_MMAP_MAX)
    try:
        yield True
    finally:
        with _lock:
            _state["malloc_users"] -= 1
            if _state["malloc_users"] == 0:
                mallopt(_M_MMAP_THRESHOLD, _DEFAULT_MMAP_THRESHOLD)
                if trim.isdigit():
                    mallopt(_M_TRIM_THRESHOLD, int(trim))


def configure_process(settings: WorkerSettings) -> None:
    """Thread counts for this process: torch's intra-op pool, FTM's pool (once per process)."""
    with _lock:
        if _state["threads"] == settings.threads:
            return
        from ftm.kernels.threads import set_num_threads

        set_num_threads(settings.threads)
        try:
            from ftm.models.split import torch
        except ImportError:
            torch = None  # the job will report the missing extra
        if torch is not None:
            torch.set_num_threads(settings.threads)
            try:
                torch.set_num_interop_threads(1)  # allowed once, before any inter-op work
            except RuntimeError:
                pass
        _state["threads"] = settings.threads


def _network(record: Dict[str, Any]):
    """The network a feature set's manifest names, with its weights, built once per worker process.

    A user's factory is imported here, by the reference the manifest holds:
    spawned processes and Dask workers see nothing the runner registered.
    """
    key = json.dumps(record, sort_keys=True, default=str)
    with _lock:
        net = _state["networks"].get(key)
        if net is None:
            from ftm.models import network_from_record

            net = _state["networks"][key] = network_from_record(record)
            _state["loads"] += 1
        return net


def _features(path: str, layer: str) -> Tuple[Any, np.ndarray]:
    """The feature set and one layer's features; the last layer read stays in memory (stem: 200 MB)."""
    from ftm.extract.featureset import read_feature_set

    with _lock:
        key, value = _state["features"]
        if key != (path, layer):
            _state["features"] = (None, None)  # free the old layer before reading the next
            fs = read_feature_set(path)
            value = (fs, fs.features(layer))
            _state["features"] = ((path, layer), value)
        return value


def _pristine_outputs(network, path: str, layer: str, pristine: np.ndarray, batch_size: int):
    from ftm.models.split import task_outputs

    key = (path, network.name, layer, batch_size)
    with _lock:
        cached = _state["pristine"].get(key)
    if cached is None:
        cached = task_outputs(network, layer, pristine, batch_size)
        with _lock:
            _state["pristine"][key] = cached
    return cached


def _count_job() -> int:
    with _lock:
        _state["jobs"] += 1
        return _state["jobs"]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def base_record(job: Job) -> Dict[str, Any]:
    # another pipeline's jobs (ftm-joint's) name their own record format
    fmt = getattr(job, "record_format", (RECORD_FORMAT, RECORD_VERSION))
    return {"format": fmt[0], "format_version": fmt[1], **job.describe()}


def failed_record(job: Job, exc: BaseException, seconds: float = 0.0, tb: Optional[str] = None) -> Dict[str, Any]:
    """The record of a job that failed with ``exc``."""
    record = base_record(job)
    error = {
        "type": type(exc).__name__,
        "message": getattr(exc, "message", None) or str(exc),
        "command": list(getattr(exc, "command", []) or []),
        "stderr_tail": getattr(exc, "stderr_tail", "") or "",
        "traceback": tb,
    }
    record.update(status="failed", error=error, total_seconds=seconds, worker=_worker(), finished=_now())
    return record


def run_guarded(job: Any, settings: WorkerSettings, body: Callable[[Any, WorkerSettings], Dict[str, Any]]) -> Dict[str, Any]:
    """The record of another pipeline's job: ``body``'s figures, or the failure it raised (never raises)."""
    t0 = time.perf_counter()
    try:
        configure_process(settings)
        figures = body(job, settings)
    except Exception as exc:  # the job failed; the worker carries on with the next one
        lines = traceback.format_exc().splitlines()
        return failed_record(job, exc, time.perf_counter() - t0, "\n".join(lines[-_TRACEBACK_LINES:]))
    record = base_record(job)
    record.update(figures)
    record.update(status="ok", total_seconds=time.perf_counter() - t0, worker=_worker(), finished=_now())
    return record


def run_job(job: Job, settings: WorkerSettings = WorkerSettings()) -> Dict[str, Any]:
    """Encode, decode and evaluate one job; its result record (never raises for a job failure)."""
    t0 = time.perf_counter()
    try:
        configure_process(settings)
        with _allocator_for_large_arrays() as tuned:
            record = _run(job, settings, t0)
        record["malloc_tuned"] = tuned
        return record
    except Exception as exc:  # the job failed; the worker carries on with the next one
        lines = traceback.format_exc().splitlines()
        return failed_record(job, exc, time.perf_counter() - t0, "\n".join(lines[-_TRACEBACK_LINES:]))


def _coding_units(job: Job, pristine: np.ndarray) -> Dict[str, np.ndarray]:
    """The tensors one job codes: each image's feature on its own (seed 002
    3.1: one feature is one video sequence, quantized with its own m and M),
    or the whole set as one N x C x H x W tensor. One stream either way; its
    size is the job's rate."""
    if job.coding_unit == "set":
        return {job.layer: pristine}
    return {f"{job.layer}/{i}": pristine[i : i + 1] for i in range(len(pristine))}


def _coded_figures(tensors, bit_depth: int) -> Dict[str, Any]:
    """Frame counts, times and the codes' PSNR over all of a job's tensors."""
    peak = float(2**bit_depth - 1) ** 2
    frames = sum(t.num_frames for t in tensors)
    # PSNR over every frame of the job: the mean of the per-tensor MSEs, weighted by frames.
    mse = sum(t.num_frames * (0.0 if np.isinf(t.frames_psnr) else peak / 10 ** (t.frames_psnr / 10)) for t in tensors) / max(frames, 1)
    return {
        "frames": frames,
        "frame_shape": list(tensors[0].frame_shape),
        "frames_psnr": None if mse == 0 else float(10 * np.log10(peak / mse)),
        "encode_seconds": sum(t.encode_seconds for t in tensors),
        "decode_seconds": sum(t.decode_seconds for t in tensors),
        "external_seconds": sum(t.external_seconds for t in tensors),
    }


def _run(job: Job, settings: WorkerSettings, t0: float) -> Dict[str, Any]:
    from ftm._version import __version__
    from ftm.evaluation import evaluate_layer
    from ftm.stream.coding import encode_tensors

    fs, pristine = _features(job.feature_set_path, job.layer)
    network = _network(fs.manifest["model"])
    load_seconds = time.perf_counter() - t0

    codec = job.codec.replace(threads=settings.threads)
    t1 = time.perf_counter()
    units = _coding_units(job, pristine)
    result = encode_tensors(units, codec, progress=False)
    code_seconds = time.perf_counter() - t1
    reconstruction = np.concatenate([result.reconstruction[name] for name in units])
    coded = _coded_figures(result.tensors, codec.bit_depth)

    t2 = time.perf_counter()
    outputs = _pristine_outputs(network, job.feature_set_path, job.layer, pristine, job.batch_size)
    report = evaluate_layer(
        network, job.layer, pristine, reconstruction, labels=fs.labels(), compressed_bytes=len(result.data),
        batch_size=job.batch_size, pristine_outputs=outputs, matching=job.detection_matching,
        pixel_inclusive=job.pixel_inclusive,
    )  # fmt: skip
    eval_seconds = time.perf_counter() - t2

    record = base_record(job)
    record.update(
        status="ok",
        error=None,
        images=report["images"],
        feature_shape=report["feature_shape"],
        original_bytes=report["original_bytes"],
        compressed_bytes=report["compressed_bytes"],
        bits=8 * report["compressed_bytes"],
        compression_rate=report["compression_rate"],
        f_classification=report["f_classification"],
        top1_agreement=report["top1_agreement"],
        top5_overlap=report.get("top5_overlap"),
        f_retrieval=report["f_retrieval"],
        map_pristine=report["map_pristine"],
        map_reconstructed=report["map_reconstructed"],
        retrieval=report["retrieval"],
        f_detection=report["f_detection"],
        det_map=report["det_map"],
        det_map50=report["det_map50"],
        detection=report["detection"],
        feature_mse=report["feature_mse"],
        feature_max_abs_error=report["feature_max_abs_error"],
        coding_unit=job.coding_unit,
        frames=coded["frames"],
        frame_shape=coded["frame_shape"],
        frames_psnr=coded["frames_psnr"],
        encoder_version=result.encoder[1],
        decoder_version=" ".join(result.decoder),
        encode_seconds=coded["encode_seconds"],
        decode_seconds=coded["decode_seconds"],
        external_seconds=coded["external_seconds"],  # of encode + decode, inside the external encoder and decoder
        codec_seconds=code_seconds,
        eval_seconds=eval_seconds,
        load_seconds=load_seconds,
        total_seconds=time.perf_counter() - t0,
        threads=settings.threads,
        worker=_worker(),
        worker_jobs=_count_job(),  # jobs this worker process has run, this one included
        worker_network_loads=_state["loads"],
        python=platform.python_version(),
        ftm_version=__version__,
        finished=_now(),
    )
    return record
