"""Result records on disk: one JSON file per job, ``<output>/jobs/<job id>.json``.

A record is written atomically (temporary name, then rename) by the process
that runs the matrix, as soon as the job's result arrives, so a crash or a
Ctrl-C loses no finished job and never leaves half a record. A rerun treats a
job as finished when its record exists with ``status: "ok"``; a failed job's
record is replaced when the job runs again (its ``attempt`` counts up).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from ftm._atomic import write_text_atomic

__all__ = ["ResultStore", "json_safe"]

JOBS_DIR = "jobs"


class ResultStore:
    """The job records under an output folder."""

    def __init__(self, output_dir) -> None:
        self.root = Path(output_dir)
        self.dir = self.root / JOBS_DIR

    def path(self, job_id: str) -> Path:
        return self.dir / f"{job_id}.json"

    def prepare(self) -> List[str]:
        """Create the folder and remove temporaries a killed run left behind; their names."""
        self.dir.mkdir(parents=True, exist_ok=True)
        stale = [p for p in self.dir.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
        for p in stale:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        return [p.name for p in stale]

    def load(self, job_id: str) -> Optional[Dict[str, Any]]:
        """The record of ``job_id``, or None when there is none (or it is not a record: the job runs again)."""
        try:
            text = self.path(job_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            return None
        if not isinstance(record, dict) or record.get("job_id") != job_id:
            return None
        return record

    def load_all(self, job_ids: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        """Records of the given jobs that exist."""
        out = {}
        for job_id in job_ids:
            record = self.load(job_id)
            if record is not None:
                out[job_id] = record
        return out

    def write(self, record: Dict[str, Any]) -> None:
        text = json.dumps(json_safe(record), indent=1, allow_nan=False)
        write_text_atomic(self.path(record["job_id"]), text + "\n")

    def others(self, job_ids: Iterable[str]) -> List[str]:
        """Ids of records on disk that belong to no job of the current matrix (kept, not reported)."""
        wanted = set(job_ids)
        if not self.dir.is_dir():
            return []
        return sorted(
            p.stem for p in self.dir.glob("*.json") if not p.name.startswith(".") and p.stem not in wanted
        )


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has neither) and tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
