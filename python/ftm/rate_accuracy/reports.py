"""Reports of a rate-accuracy sweep: seed 001's Table 1 layout, the full figures, BD-rates; CSV, JSON, Markdown.

Table 1 of Wang et al. (seed 001) has, for each method, a pair of columns
"BPP | Acc(%)" and one row per rate point, lowest rate first;
:func:`format_table1` writes that (with as many rows as the method with most
points, "-" where a method has fewer). BD-rates (Bjøntegaard, VCEG-M33;
:func:`ftm.metrics.bd_rate`) compare two methods' rate-accuracy curves: the
mean rate difference at equal verification accuracy, negative when the test
method needs fewer bits.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, fields
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from ftm._atomic import write_text_atomic
from ftm.rate_accuracy.runner import RatePoint, SweepResult

__all__ = ["LABELS", "bd_rate_table", "format_bd_rates", "format_details", "format_fig2", "format_table1", "write_reports"]

LABELS = {"pq": "PQ", "opq": "OPQ", "sq": "SQ", "sq-e": "SQ-E", "pro": "PRO", "pro-e": "PRO-E", "dmofc-sim": "SIM",
          "dmofc-dis": "DIS", "dmofc-combined": "COMBINED"}  # fmt: skip


def _label(method: str) -> str:
    return LABELS.get(method, method)


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" ---: " for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def format_table1(result: SweepResult) -> str:
    """Seed 001's Table 1 layout: per method, bits per dimension and verification accuracy (%)."""
    groups = result.by_method()
    methods = list(groups)
    header = [f"{_label(m)} {what}" for m in methods for what in ("BPP", "Acc(%)")]
    depth = max((len(v) for v in groups.values()), default=0)
    rows = []
    for i in range(depth):
        row = []
        for m in methods:
            p = groups[m][i] if i < len(groups[m]) else None
            row += [f"{p.bits_per_dimension:.2f}", f"{100 * p.accuracy:.2f}"] if p else ["-", "-"]
        rows.append(row)
    ref = result.reference
    note = (f"\nUncompressed float32 ({ref.bits_per_dimension:.0f} bits per dimension): accuracy {100 * ref.accuracy:.2f}%, "
            f"AUC {ref.auc:.4f}, EER {100 * ref.eer:.2f}%; {result.labelled_set['test']} test vectors of "
            f"{result.labelled_set['dims']} dimensions, {result.config['Pairs']} pairs in "
            f"{result.config['Folds']} folds.")  # fmt: skip
    return _markdown(header, rows) + "\n" + note


_DETAIL_COLUMNS = ("Method", "Setting", "BPP", "Bytes/vector", "Acc(%)", "Std(%)", "AUC", "EER(%)", "mAP", "Rank-1",
                   "MSE", "Train(s)", "Enc vec/s", "Dec vec/s")  # fmt: skip


def format_fig2(result: SweepResult) -> str:
    """Seed 000's Fig. 2 as a table: per information capacity, each metric's verification accuracy (%) and mAP."""
    groups = {m: {p.ic_bytes: p for p in ps} for m, ps in result.by_method().items() if m.startswith("dmofc-")}
    ics = sorted({ic for ps in groups.values() for ic in ps})
    header = ["IC (bytes)", "BPP"] + [f"{_label(m)} {what}" for m in groups for what in ("Acc(%)", "mAP", "CABAC BPP")]
    rows = []
    for ic in ics:
        any_point = next(ps[ic] for ps in groups.values() if ic in ps)
        row = [str(ic), f"{any_point.bits_per_dimension:.3f}"]
        for ps in groups.values():
            p = ps.get(ic)
            row += [f"{100 * p.accuracy:.2f}", f"{p.map:.4f}", f"{p.cabac_bits_per_dimension:.3f}"] if p else ["-", "-", "-"]
        rows.append(row)
    ref = result.reference
    return _markdown(header, rows) + (f"\n\nUncompressed float32: accuracy {100 * ref.accuracy:.2f}%, mAP {ref.map:.4f}. "
                                      "BPP: the stream's bits per dimension (the fixed-length latent and the headers); CABAC BPP: the same codes "
                                      "level-coded (LatentCoding : cabac).")  # fmt: skip


def _detail_row(p: RatePoint) -> List[str]:
    def rate(seconds: float) -> str:
        return f"{p.vectors / seconds:.0f}" if seconds > 0 else "-"

    return [_label(p.method), p.setting, f"{p.bits_per_dimension:.3f}", f"{p.bytes_per_vector:.1f}", f"{100 * p.accuracy:.2f}",
            f"{100 * p.accuracy_std:.2f}", f"{p.auc:.4f}", f"{100 * p.eer:.2f}", f"{p.map:.4f}", f"{p.rank1:.4f}",
            f"{p.mse:.4g}", f"{p.train_seconds:.1f}" if p.train_seconds else "-", rate(p.encode_seconds),
            rate(p.decode_seconds)]  # fmt: skip


def format_details(result: SweepResult) -> str:
    """Every point with all its figures: rate, accuracy, AUC, EER, retrieval, error, times."""
    rows = [_detail_row(result.reference)] + [_detail_row(p) for ps in result.by_method().values() for p in ps]
    return _markdown(_DETAIL_COLUMNS, rows)


def bd_rate_table(result: SweepResult, fidelity: str = "accuracy", method: str = "pchip") -> Dict[Tuple[str, str], float]:
    """{(anchor, test): BD-rate in %} over every ordered pair of methods (NaN where the curves cannot be compared)."""
    from ftm.metrics.bjontegaard import bd_rate

    groups = result.by_method()
    out: Dict[Tuple[str, str], float] = {}
    for anchor, a in groups.items():
        for test, t in groups.items():
            if anchor == test:
                continue
            try:
                out[(anchor, test)] = bd_rate([p.bits_per_dimension for p in a], [getattr(p, fidelity) for p in a],
                                              [p.bits_per_dimension for p in t], [getattr(p, fidelity) for p in t], method)  # fmt: skip
            except ValueError:  # too few distinct points for the interpolation
                out[(anchor, test)] = float("nan")
    return out


def format_bd_rates(table: Dict[Tuple[str, str], float]) -> str:
    """A matrix: rows are test methods, columns anchors; BD-rate in % (negative: the test method saves bits)."""
    methods = list(dict.fromkeys([a for a, _ in table] + [t for _, t in table]))
    rows = []
    for test in methods:
        row = [_label(test)]
        for anchor in methods:
            v = table.get((anchor, test))
            row.append("" if anchor == test else "-" if v is None or math.isnan(v) else f"{v:+.1f}")
        rows.append(row)
    return _markdown(["test \\ anchor"] + [_label(m) for m in methods], rows)


def _csv(result: SweepResult) -> str:
    buf = io.StringIO()
    names = [f.name for f in fields(RatePoint)]
    w = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
    w.writeheader()
    for p in [result.reference] + result.points:
        w.writerow(asdict(p))
    return buf.getvalue()


def provenance(result: SweepResult) -> dict:
    """What produced a sweep's reports: versions, revision, machine, settings, the labelled set, every model file."""
    from datetime import datetime, timezone

    from ftm._version import __version__
    from ftm.ctc.provenance import git_revision, machine_info
    from ftm.train.provenance import software_versions

    models = [{"method": p.method, "setting": p.setting, "file": p.model, "sha256": p.model_sha256,
               "train_seconds": p.train_seconds} for p in result.points if p.model]  # fmt: skip
    return {"format": "ftm-rate-accuracy-provenance", "format_version": 1,
            "written": datetime.now(timezone.utc).isoformat(timespec="seconds"), "ftm_version": __version__,
            "git": git_revision(), "software": software_versions(), "machine": machine_info(), "config": result.config,
            "labelled_set": result.labelled_set, "models": models}  # fmt: skip


def write_reports(result: SweepResult, out_dir, bd_method: str = "pchip", plots: bool = True) -> List[Path]:
    """table1.md, details.md, bd_rates.md, points.csv, results.json, provenance.json and (with ``plots``) the PNG plots."""
    from ftm.ctc.store import json_safe  # here: the ctc package is not needed to import the reports

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    bd = {f: bd_rate_table(result, f, bd_method) for f in ("accuracy", "auc")}
    texts = {
        "table1.md": "# Rate and verification accuracy, seed 001 Table 1 layout\n\n" + format_table1(result) + "\n",
        "details.md": "# Every rate point\n\n" + format_details(result) + "\n",
        "bd_rates.md": "\n\n".join(f"# BD-rate (%) on verification {f}, {bd_method} interpolation\n\n{format_bd_rates(t)}"
                                   for f, t in bd.items()) + "\n",  # fmt: skip
        "points.csv": _csv(result),
        "results.json": json.dumps(json_safe({**result.as_dict(), "bd_rates": {f: {f"{a}->{t}": v for (a, t), v in tab.items()}
                                                                               for f, tab in bd.items()}}), indent=1) + "\n",  # fmt: skip
    }
    texts["provenance.json"] = json.dumps(json_safe(provenance(result)), indent=1, default=str) + "\n"
    if any(p.method.startswith("dmofc-") for p in result.points):
        texts["fig2.md"] = "# Accuracy and mAP per information capacity and metric, seed 000 Fig. 2 layout\n\n" + format_fig2(result) + "\n"
    for name, text in texts.items():
        write_text_atomic(out / name, text)
        written.append(out / name)
    if plots:
        from ftm.rate_accuracy.plots import write_plots

        written += write_plots(result, out)
    return written
