"""Where jobs run: in this process, in local worker processes, or on a Dask cluster.

Every executor runs the same function, :func:`ftm.ctc.job.run_job`, and
yields ``(job, record)`` pairs as jobs finish, in whatever order they finish;
the runner writes each record as it arrives. An executor never raises for a
job that failed: a lost worker becomes a failed record of the jobs it took
with it.

Local workers are started with the "spawn" method: a forked child would
inherit the parent's torch thread pools and locks in whatever state they were
(torch is not fork-safe once used, and the runner uses it to extract the
bundled feature set). Each worker ignores SIGINT, so that Ctrl-C reaches the
runner, which kills the workers and the encoders they started itself, and
exits (killing its encoders) when the runner's process is gone: a killed
runner leaves no worker computing for nobody.
"""

from __future__ import annotations

import abc
import multiprocessing
import os
import signal
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple

from ftm.ctc.job import WorkerSettings, configure_process, failed_record, run_job
from ftm.ctc.matrix import Job
from ftm.ctc.process_tree import descendants, freeze, kill_processes
from ftm.errors import WorkerLost

__all__ = ["DaskExecutor", "Executor", "InlineExecutor", "LocalExecutor", "WorkerLost"]

Result = Tuple[Job, Dict[str, Any]]
_PARENT_POLL_SECONDS = 1.0
# The runner waits for results in slices of this length. A process-directed
# SIGINT may be delivered to any of the runner's threads; CPython then only
# flags it, and a main thread blocked in an untimed wait would see the flag
# when the next job ends, which may be minutes away. Waking up regularly lets
# Ctrl-C take effect within this time whichever thread the kernel chose.
_SIGNAL_POLL_SECONDS = 0.2


Task = Callable[[Any, WorkerSettings], Dict[str, Any]]


class Executor(abc.ABC):
    """Runs jobs and yields ``(job, record)`` as each finishes.

    ``task`` is the function that runs one job in a worker and returns its
    record without raising (a module-level function, so that workers can
    import it): :func:`ftm.ctc.job.run_job` for the CTC matrix, another
    pipeline's own for its jobs (``ftm-joint``). A job has ``job_id``,
    ``cost`` and ``describe()``.
    """

    def __init__(self, settings: WorkerSettings, task: Task = run_job) -> None:
        self.settings = settings
        self.task = task

    @abc.abstractmethod
    def run(self, jobs: Sequence[Job]) -> Iterator[Result]: ...

    @abc.abstractmethod
    def describe(self) -> Dict[str, Any]:
        """What ran the jobs, for provenance."""

    def close(self) -> None:
        pass


class InlineExecutor(Executor):
    """Jobs one after the other in this process (debugging, tests)."""

    def run(self, jobs: Sequence[Job]) -> Iterator[Result]:
        for job in jobs:
            yield job, self.task(job, self.settings)

    def describe(self) -> Dict[str, Any]:
        return {"executor": "inline", "workers": 1, "threads_per_job": self.settings.threads}


def _exit_with_parent(parent_pid: int) -> None:
    while True:
        time.sleep(_PARENT_POLL_SECONDS)
        if os.getppid() != parent_pid:
            kill_processes(descendants(os.getpid()))  # the encoder this worker is waiting for
            os._exit(1)


def _init_worker(settings: WorkerSettings, parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), name="ftm-ctc-parent-watch", daemon=True).start()
    configure_process(settings)


class LocalExecutor(Executor):
    """A pool of ``workers`` local processes; each loads the network once and runs many jobs."""

    def __init__(self, workers: int, settings: WorkerSettings, start_method: str = "spawn", task: Task = run_job) -> None:
        super().__init__(settings, task)
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.start_method = start_method

    def describe(self) -> Dict[str, Any]:
        return {
            "executor": "local processes",
            "workers": self.workers,
            "start_method": self.start_method,
            "threads_per_job": self.settings.threads,
        }

    def run(self, jobs: Sequence[Job]) -> Iterator[Result]:
        if not jobs:
            return
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(jobs)),
            mp_context=multiprocessing.get_context(self.start_method),
            initializer=_init_worker,
            initargs=(self.settings, os.getpid()),
        )
        pending = {pool.submit(self.task, job, self.settings): job for job in jobs}
        try:
            while pending:
                done, _ = wait(pending, timeout=_SIGNAL_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    job = pending.pop(future)
                    try:
                        record = future.result()
                    except Exception as exc:  # BrokenProcessPool: a worker died (killed, out of memory)
                        record = failed_record(job, WorkerLost(f"the worker process running the job died: {exc}"))
                    yield job, record
        finally:
            if pending:  # interrupted: drop what has not started and stop what is running
                _stop_workers(pool)
            else:
                pool.shutdown(wait=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill every worker of ``pool`` and every encoder a worker started, now.

    The workers hold nothing worth a graceful exit (the runner writes every
    record), so they get SIGKILL, not SIGTERM and a grace period. Each is
    frozen first, so that none starts an encoder between the listing of its
    children and its death. The process list is taken before ``shutdown``:
    on Python < 3.14, ``shutdown(wait=False)`` empties it, and the workers
    would then compute on until their job ends.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    workers = [p.pid for p in processes if p.pid is not None]
    freeze(workers)
    encoders = [pid for worker in workers for pid in descendants(worker)]
    kill_processes(workers + encoders)
    for p in processes:
        p.join(timeout=5.0)


class DaskExecutor(Executor):
    """Jobs as tasks on a Dask distributed cluster (``pip install "ftm[ctc]"``).

    The workers must have FTM installed and see the feature sets at the same
    paths (a shared file system); the results come back to this process,
    which writes the records. Start one single-threaded worker process per
    core (``dask worker ADDRESS --nworkers N --nthreads 1``): torch's thread
    settings are per process.
    """

    def __init__(self, address: str, settings: WorkerSettings, timeout: float = 30.0, task: Task = run_job) -> None:
        super().__init__(settings, task)
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError('--scheduler needs Dask distributed: pip install "ftm[ctc]"') from exc
        self.address = address
        self.client = Client(address, set_as_default=False, timeout=timeout)

    def describe(self) -> Dict[str, Any]:
        import distributed

        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        return {
            "executor": "dask",
            "scheduler": self.address,
            "workers": len(workers),
            "worker_threads": sum(int(w.get("nthreads", 0)) for w in workers.values()),
            "threads_per_job": self.settings.threads,
            "distributed_version": distributed.__version__,
        }

    def run(self, jobs: Sequence[Job]) -> Iterator[Result]:
        from distributed import as_completed

        if not jobs:
            return
        run_token = uuid.uuid4().hex[:8]  # keys unique to this run: a cluster may serve other clients
        futures = {}
        for rank, job in enumerate(jobs):
            future = self.client.submit(
                self.task, job, self.settings, key=f"ftm-ctc-{job.job_id}-{run_token}", pure=False,
                priority=len(jobs) - rank,  # the runner orders jobs longest first
            )  # fmt: skip
            futures[future] = job
        remaining = set(futures)
        try:
            for future in as_completed(list(futures), loop=self.client.loop):
                remaining.discard(future)
                job = futures[future]
                try:
                    record = future.result()
                except Exception as exc:  # KilledWorker, a lost connection, a task cancelled elsewhere
                    record = failed_record(job, WorkerLost(f"the Dask task of the job failed: {type(exc).__name__}: {exc}"))
                future.release()
                yield job, record
        finally:
            if remaining:
                self.client.cancel(list(remaining))

    def close(self) -> None:
        self.client.close()


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def threads_per_job(workers: int, requested: Optional[int] = None) -> int:
    """Threads for each job: the cores shared out among the workers, at least 1 (no oversubscription)."""
    if requested is not None:
        if requested < 1:
            raise ValueError(f"threads per job must be >= 1, got {requested}")
        return requested
    return max(1, default_workers() // max(1, workers))
