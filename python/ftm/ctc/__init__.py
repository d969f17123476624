"""Common test conditions: the whole matrix of seed 002 with one command (``ftm-ctc``).

Every feature set x split layer x QP x codec configuration is one job that
encodes the layer's features with a real video encoder, decodes them, runs the
rest of the network from the reconstruction and measures the machine-task
fidelity (seed 002 eq. 1-3, top-1/top-5 agreement, mAP). Jobs run on local
processes or a Dask cluster; each writes a result record as it finishes, so
an interrupted run resumes where it stopped. Reports: results.csv/.json, a
Markdown table laid out like seed 002's Table 3, rate-fidelity plots and
BD-rates between configurations, with the provenance of the run.

    from ftm.ctc import load_ctc_config, run_ctc
    summary = run_ctc(load_ctc_config(["cfg/ctc.cfg"]), workers=2)

Modules: :mod:`~ftm.ctc.config` (keys, CtcConfig), :mod:`~ftm.ctc.matrix`
(jobs and their ids), :mod:`~ftm.ctc.featuresets`, :mod:`~ftm.ctc.job` (what
a worker does), :mod:`~ftm.ctc.executors` (inline, local processes, Dask),
:mod:`~ftm.ctc.store` (records), :mod:`~ftm.ctc.runner`,
:mod:`~ftm.ctc.reports`, :mod:`~ftm.ctc.plots`, :mod:`~ftm.ctc.provenance`,
:mod:`ftm.cli.ctc` (the command line). Needs the "extract" extra (torch) to run jobs and the
"ctc" extra (Dask, matplotlib) for clusters and plots.
"""

from ftm.ctc.config import BUNDLED, CTC_KEYS, CodecVariant, CtcConfig, describe_ctc_keys, load_ctc_config
from ftm.ctc.executors import DaskExecutor, Executor, InlineExecutor, LocalExecutor
from ftm.ctc.job import WorkerSettings, run_job
from ftm.ctc.matrix import Job, expand_jobs
from ftm.ctc.runner import RunSummary, plan, run_ctc, write_reports
from ftm.ctc.store import ResultStore

__all__ = [
    "BUNDLED",
    "CTC_KEYS",
    "CodecVariant",
    "CtcConfig",
    "DaskExecutor",
    "Executor",
    "InlineExecutor",
    "Job",
    "LocalExecutor",
    "ResultStore",
    "RunSummary",
    "WorkerSettings",
    "describe_ctc_keys",
    "expand_jobs",
    "load_ctc_config",
    "plan",
    "run_ctc",
    "run_job",
    "write_reports",
]
