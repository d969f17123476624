"""Run a common test condition: feature sets, jobs, records, reports.

    cfg = load_ctc_config(["cfg/ctc.cfg"])
    summary = run_ctc(cfg, workers=2)          # or scheduler="tcp://host:8786"

The output folder holds::

    jobs/<job id>.json        one record per job, written as the job finishes
    results.csv, results.json a row per job
    table3.md                 Table 3 of seed 002's layout, per feature set and configuration
    bd_rates.md               BD-rate / BD-fidelity between configurations (when there are several)
    plots/*.png               rate-fidelity curves, one panel per layer
    summary.txt               the fixed-width table printed at the end
    provenance.json           resolved config, FTM's version and git revision, encoders, machine
    featuresets/              the bundled feature set (unless FeatureSetDir says otherwise)

Only one runner may use an output folder at a time (a lock file says so).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ftm._atomic import write_text_atomic
from ftm.ctc.config import CtcConfig
from ftm.ctc.executors import DaskExecutor, Executor, LocalExecutor, Task, default_workers, threads_per_job
from ftm.ctc.featuresets import file_lock, open_feature_sets
from ftm.ctc.job import WorkerSettings, run_job
from ftm.ctc.matrix import Job, expand_jobs
from ftm.ctc.plots import write_plots
from ftm.ctc.provenance import collect_provenance
from ftm.ctc.reports import (
    bd_rate_rows,
    format_bd_markdown,
    format_encode_times,
    format_summary,
    format_table3,
    result_rows,
    results_csv,
    results_json,
)
from ftm.ctc.store import ResultStore, json_safe

__all__ = ["RunSummary", "plan", "run_ctc", "write_reports"]

LOCK_FILE = ".ftm-ctc.lock"


@dataclass
class RunSummary:
    """What a run did, and where its reports are."""

    output_dir: Path
    jobs: int  # in the matrix
    skipped: int  # finished by an earlier run
    ran: int  # run now
    ok: int  # of the matrix, after this run
    failed: int  # of the matrix, after this run
    seconds: float
    reports: Dict[str, Path] = field(default_factory=dict)
    rows: List[Dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def complete(self) -> bool:
        return self.ok == self.jobs


def plan(cfg: CtcConfig, log: Callable[[str], None] = print):
    """The feature sets (bundled one created if missing) and the jobs of the matrix."""
    sets = open_feature_sets(cfg, log)
    return sets, expand_jobs(cfg, sets)


def make_executor(workers: Optional[int], scheduler: Optional[str], threads: Optional[int], todo: int,
                  task: Task = run_job) -> Executor:  # fmt: skip
    """The Dask cluster at ``scheduler``, or ``workers`` local processes (default all cores, no more than
    ``todo`` jobs), running ``task``; ``threads`` per job (default: the cores shared out; 1 on Dask)."""
    if scheduler:
        return DaskExecutor(scheduler, WorkerSettings(threads_per_job(1, threads if threads is not None else 1)), task=task)
    requested = workers if workers is not None else default_workers()
    if requested < 1:
        raise ValueError(f"--jobs must be >= 1, got {requested}")
    used = max(1, min(requested, todo))
    return LocalExecutor(used, WorkerSettings(threads_per_job(used, threads)), task=task)


def pending_jobs(store: ResultStore, jobs: Sequence[Job]) -> Tuple[Dict[str, Dict[str, Any]], int, List[Job]]:
    """The records of ``jobs`` already in ``store`` (its leftovers of a killed run removed), how many finished,
    and the jobs to run, longest first so that the last jobs to finish are short ones."""
    store.prepare()
    records = store.load_all(j.job_id for j in jobs)
    finished = {job_id for job_id, r in records.items() if r.get("status") == "ok"}
    return records, len(finished), sorted((j for j in jobs if j.job_id not in finished), key=lambda j: -j.cost)


def run_ctc(
    cfg: CtcConfig,
    *,
    workers: Optional[int] = None,
    scheduler: Optional[str] = None,
    threads: Optional[int] = None,
    executor: Optional[Executor] = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    argv: Optional[Sequence[str]] = None,
) -> RunSummary:
    """Run every unfinished job of the matrix and write the reports.

    ``workers`` local processes (default: all cores), or the Dask cluster at
    ``scheduler``, or a given ``executor``; ``threads`` per job (default:
    the cores shared out among the local workers; 1 on Dask).
    """
    t0 = time.perf_counter()
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with file_lock(out / LOCK_FILE, f"output folder {out}", wait=False):
        _, jobs = plan(cfg, log)
        store = ResultStore(out)
        records, finished, todo = pending_jobs(store, jobs)
        others = store.others(j.job_id for j in jobs)
        if others:
            log(f"ftm-ctc: {len(others)} record(s) in {store.dir} belong to no job of this matrix; kept, not reported")
        own_executor = executor is None
        if executor is None:
            executor = make_executor(workers, scheduler, threads, len(todo))
        interrupted = False
        try:
            provenance = collect_provenance(cfg, executor.describe(), argv)
            provenance["matrix"] = {"jobs": len(jobs), "finished_before": finished, "to_run": len(todo)}
            write_text_atomic(out / "provenance.json", json.dumps(json_safe(provenance), indent=1) + "\n")
            run_jobs(executor, todo, store, records, len(jobs), finished, progress)
        except KeyboardInterrupt:
            interrupted = True  # the workers are stopped by now; the reports say what finished
        finally:
            if own_executor:
                executor.close()
        reports = write_reports(cfg, jobs, records, out, time.perf_counter() - t0)
        if interrupted:
            raise KeyboardInterrupt
    rows = reports.pop("_rows")
    ok = sum(1 for r in rows if r["status"] == "ok")
    failed = sum(1 for r in rows if r["status"] == "failed")
    return RunSummary(out, len(jobs), finished, len(todo), ok, failed, time.perf_counter() - t0, reports, rows)


def run_jobs(
    executor: Executor,
    todo: Sequence[Job],
    store: ResultStore,
    records: Dict[str, Dict[str, Any]],
    total: int,
    done: int,
    progress: bool,
    tool: str = "ftm-ctc",
) -> None:
    """Run ``todo`` on ``executor``, writing each record to ``store`` (and ``records``) as it arrives, with a bar
    of all ``total`` jobs, ``done`` of them finished before. Any pipeline's jobs (``tool`` names it in messages)."""
    from tqdm import tqdm

    bar = tqdm(total=total, initial=done, desc=tool, unit="job", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    failures = 0
    bar.set_postfix(failed=failures)
    results = executor.run(todo)
    try:
        for job, record in results:
            prior = records.get(job.job_id)
            record["attempt"] = int(prior.get("attempt", 1)) + 1 if prior else 1
            store.write(record)
            records[job.job_id] = record
            if record["status"] != "ok":
                failures += 1
                message = (record.get("error") or {}).get("message", "")
                bar.write(f"{tool}: job {job.job_id} failed: {message.splitlines()[0] if message else '?'}", file=sys.stderr)
            bar.set_postfix(failed=failures, refresh=False)
            bar.update(1)
    finally:
        results.close()  # an interrupted run stops its workers here
        bar.close()


def write_reports(
    cfg: CtcConfig, jobs: Sequence[Job], records: Dict[str, Dict[str, Any]], out: Path, seconds: float = 0.0
) -> Dict[str, Any]:
    """Every report of the output folder, from the records; their paths (and "_rows", the result rows)."""
    rows = result_rows(jobs, records)
    configurations = list(dict.fromkeys(r["configuration"] for r in rows))
    bd_rows = bd_rate_rows(rows, cfg.anchor) if len(configurations) > 1 else []
    summary = {
        "jobs": len(rows),
        "ok": sum(1 for r in rows if r["status"] == "ok"),
        "failed": sum(1 for r in rows if r["status"] == "failed"),
        "missing": sum(1 for r in rows if r["status"] == "missing"),
        "feature_sets": list(dict.fromkeys(r["feature_set"] for r in rows)),
        "layers": list(dict.fromkeys(r["layer"] for r in rows)),
        "qps": list(cfg.qps),
        "configurations": configurations,
        "run_seconds": seconds,
    }
    paths: Dict[str, Any] = {}

    def put(name: str, text: str) -> None:
        write_text_atomic(out / name, text)
        paths[name] = out / name

    put("results.csv", results_csv(rows))
    put("results.json", results_json(rows, bd_rows, summary))
    put("table3.md", format_table3(rows, cfg.qps))
    if bd_rows:
        put("bd_rates.md", format_bd_markdown(bd_rows) + (format_encode_times(rows, cfg.anchor) if cfg.anchor else ""))
    put("summary.txt", format_summary(rows))
    try:
        paths["plots"] = write_plots(rows, out / "plots")
    except ImportError as exc:  # matplotlib is in the "ctc" extra; the other reports stand without it
        paths["plots"] = []
        paths["plots_skipped"] = f'no plots: {exc} (pip install "ftm[ctc]")'

    paths["_rows"] = rows
    return paths
