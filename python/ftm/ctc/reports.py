"""Reports of a matrix: results.csv / results.json, Table 3 in Markdown, BD-rate tables, a summary.

Everything is computed from the job records alone, so reports can be
regenerated at any time (every run ends by writing them) and always agree
with the records. Rows follow the matrix order: feature set, layer (network
order), configuration, QP.

Table 3 of seed 002 gives, for each layer (rows) and for each task, the
compression rate (eq. 1) and the fidelity (eq. 2 for classification, eq. 3
for retrieval) at QP 12, 22, 32 and 42. Both tasks here run on the same
images and the same bitstream, so the compression rate repeats under each
task, as the paper's layout has it.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ftm.ctc.matrix import Job
from ftm.ctc.store import json_safe

__all__ = [
    "CSV_COLUMNS",
    "TASKS",
    "bd_rate_rows",
    "format_bd_markdown",
    "format_encode_times",
    "format_summary",
    "format_table3",
    "result_rows",
    "results_csv",
    "results_json",
]

# Fidelity tasks: (key in a record, short name, title)
TASKS: Tuple[Tuple[str, str, str], ...] = (
    ("f_classification", "Cls", "Classification"),
    ("f_retrieval", "Ret", "Retrieval"),
    ("f_detection", "Det", "Detection"),
)

CSV_COLUMNS: Tuple[str, ...] = (
    "job_id", "status", "feature_set", "model", "layer", "qp", "configuration",
    "encoder", "decoder", "quantizer", "bit_depth", "packing",
    "images", "original_bytes", "compressed_bytes", "bits", "compression_rate",
    "f_classification", "top1_agreement", "top5_overlap", "f_retrieval", "map_pristine", "map_reconstructed",
    "f_detection", "det_map", "det_map50", "feature_mse", "frames_psnr", "encode_seconds", "decode_seconds", "eval_seconds", "total_seconds",
    "encoder_version", "attempt", "worker", "finished", "error",
)  # fmt: skip


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


def result_rows(jobs: Sequence[Job], records: Mapping[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One flat row per job (status "missing" when a job has no record yet)."""
    rows = []
    for job in jobs:
        record = records.get(job.job_id)
        row: Dict[str, Any] = {c: None for c in CSV_COLUMNS}
        row.update(
            job_id=job.job_id, status="missing", feature_set=job.feature_set, model=job.model, layer=job.layer,
            qp=job.qp, configuration=job.configuration, encoder=job.codec.encoder, decoder=job.codec.decoder,
            quantizer=job.codec.quantizer, bit_depth=job.codec.bit_depth, packing=job.codec.packing,
        )  # fmt: skip
        if record is not None:
            for column in CSV_COLUMNS:
                if column in record and column not in ("encoder", "decoder", "error"):
                    row[column] = record[column]
            error = record.get("error")
            if error:
                row["error"] = f"{error.get('type')}: {_first_line(error.get('message', ''))}"
        rows.append(row)
    return rows


def results_csv(rows: Sequence[Dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in CSV_COLUMNS})
    return out.getvalue()


def results_json(rows: Sequence[Dict[str, Any]], bd_rows: Sequence[Dict[str, Any]], summary: Dict[str, Any]) -> str:
    doc = {"format": "ftm-ctc-results", "format_version": 1, "summary": summary, "jobs": list(rows), "bd_rates": list(bd_rows)}
    return json.dumps(json_safe(doc), indent=1, allow_nan=False) + "\n"


def _fmt(value: Optional[float], digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}"


def _groups(rows: Sequence[Dict[str, Any]]) -> Dict[Tuple[str, str], List[Dict[str, Any]]]:
    """Rows by (feature set, configuration), in matrix order."""
    out: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
    for row in rows:
        out.setdefault((row["feature_set"], row["configuration"]), []).append(row)
    return out


def _ordered(values) -> list:
    seen: Dict[Any, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def _markdown_rows(rows: Sequence[Sequence[str]]) -> List[str]:
    """A Markdown table padded to fixed widths, so that it reads as well in a terminal as rendered."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    cells = lambda r: "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"  # noqa: E731
    rule = "|" + "|".join(("-" * (w + 2)) if i == 0 else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"
    return [cells(rows[0]), rule] + [cells(r) for r in rows[1:]]


def format_table3(rows: Sequence[Dict[str, Any]], qps: Sequence[int]) -> str:
    """Markdown tables laid out like Table 3 of seed 002: per task, the rate and the fidelity at each QP.

    The paper sets the tasks side by side (rate | fidelity at QP 12..42 for
    each); here each task has a table of its own, one above the other, so
    that a table fits a terminal.
    """
    lines = [
        "# Lossy feature compression results (Comp.Rate | Fidelity)",
        "",
        "Laid out like Table 3 of seed 002, one table per task. Rate: compressed bytes (the whole .ftm stream)",
        "over the float32 features (eq. 1); every task reads the same stream, so the rates repeat across tasks.",
        "Fidelity: F_classification (eq. 2, top-1 agreement of the one-hot outputs) and F_retrieval (eq. 3,",
        "mean bubble index of the leave-one-out rankings), F_detection (eq. 4, a detector's feature sets).",
        "`fail`: the job failed (see results.csv); `-`: no result. A task no job of a table reports is left out.",
    ]
    for (feature_set, configuration), group in _groups(rows).items():
        first = group[0]
        images = next((r["images"] for r in group if r.get("images")), None)
        lines += ["", f"## {first['model']}, feature set {feature_set}" + (f" ({images} images)" if images else "")
                  + f", configuration {configuration}"]  # fmt: skip
        by_cell = {(r["layer"], r["qp"]): r for r in group}
        layers = _ordered(r["layer"] for r in group)
        for key, short, title in _reported(group):
            table = [["Feat."] + [h for qp in qps for h in (f"QP{qp} rate", "fid.")]]
            for layer in layers:
                cells = [layer]
                for qp in qps:
                    row = by_cell.get((layer, qp))
                    if row is None or row["status"] == "missing":
                        cells += ["-", "-"]
                    elif row["status"] != "ok":
                        cells += ["fail", "fail"]
                    else:
                        cells += [_fmt(row["compression_rate"]), _fmt(row[key])]
                table.append(cells)
            lines += ["", f"{title} (rate | F_{title.lower()} at each QP)", ""] + _markdown_rows(table)
    return "\n".join(lines) + "\n"


def _reported(rows: Sequence[Dict[str, Any]]) -> Tuple[Tuple[str, str, str], ...]:
    """The tasks some ok row reports; without any, every task but detection (the layout before FTM had a detector)."""
    tasks = tuple(t for t in TASKS if any(r["status"] == "ok" and r.get(t[0]) is not None for r in rows))
    return tasks or tuple(t for t in TASKS if t[1] != "Det")


def _curve(rows: Sequence[Dict[str, Any]], key: str) -> Tuple[List[float], List[float]]:
    ok = [r for r in rows if r["status"] == "ok" and r.get(key) is not None and r.get("compressed_bytes")]
    return [float(r["compressed_bytes"]) for r in ok], [float(r[key]) for r in ok]


def _bd(fn, anchor, test) -> Optional[float]:
    if len(anchor[0]) < 2 or len(test[0]) < 2:
        return None
    try:
        value = fn(anchor[0], anchor[1], test[0], test[1])
    except ValueError:  # too few distinct points on a curve
        return None
    return value if math.isfinite(value) else None


def bd_rate_rows(rows: Sequence[Dict[str, Any]], anchor: str = "") -> List[Dict[str, Any]]:
    """BD-rate and BD-fidelity between every two configurations, per feature set, layer and task.

    The anchor of a pair is the configuration listed first, or ``anchor``,
    which is then paired with every other configuration only. Rates are the
    compressed bytes (both code the same tensor, so this is the compression
    rate up to a constant); interpolation is pchip (:func:`ftm.metrics.bd_rate`).
    None where a curve has fewer than two distinct points or the curves do
    not overlap.
    """
    from ftm.metrics import bd_fidelity, bd_rate

    configurations = _ordered(r["configuration"] for r in rows)
    if anchor:
        pairs = [(anchor, c) for c in configurations if c != anchor]
    else:
        pairs = list(itertools.combinations(configurations, 2))
    out = []
    for feature_set in _ordered(r["feature_set"] for r in rows):
        for anchor, test in pairs:
            for layer in _ordered(r["layer"] for r in rows if r["feature_set"] == feature_set):
                cell = {"feature_set": feature_set, "layer": layer, "anchor": anchor, "test": test}
                for key, short, _ in TASKS:
                    pick = lambda c: [r for r in rows if (r["feature_set"], r["layer"], r["configuration"]) == (feature_set, layer, c)]  # noqa: E731
                    a, t = _curve(pick(anchor), key), _curve(pick(test), key)
                    cell[f"bd_rate_{short.lower()}"] = _bd(bd_rate, a, t)
                    cell[f"bd_fidelity_{short.lower()}"] = _bd(bd_fidelity, a, t)
                out.append(cell)
    return out


def format_bd_markdown(bd_rows: Sequence[Dict[str, Any]]) -> str:
    lines = [
        "# BD-rate and BD-fidelity between configurations",
        "",
        "BD-rate: mean bitrate difference of the test configuration against the anchor at equal fidelity",
        "(percent; negative: the test needs fewer bits). BD-fidelity: mean fidelity difference at equal rate",
        "(positive: the test is more faithful). pchip interpolation over the QPs of the matrix",
        "(ftm.metrics.bd_rate). `n/a`: a curve has fewer than two distinct points, or the curves do not overlap",
        "(fidelity saturates at 1 on the upper layers).",
    ]
    for (feature_set, anchor, test), group in _bd_groups(bd_rows).items():
        lines += ["", f"## {feature_set}: {test} against {anchor}", ""]
        tasks = [t for t in TASKS if any(row[f"bd_fidelity_{t[1].lower()}"] is not None for row in group)]
        tasks = tasks or [t for t in TASKS if t[1] != "Det"]
        header = ["Layer"] + [f"BD-rate {s} (%)" for _, s, _ in tasks] + [f"BD-fid. {s}" for _, s, _ in tasks]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|")
        for row in group:
            cells = [row["layer"]]
            cells += [_na(row[f"bd_rate_{s.lower()}"], "{:+.2f}") for _, s, _ in tasks]
            cells += [_na(row[f"bd_fidelity_{s.lower()}"], "{:+.4f}") for _, s, _ in tasks]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def format_encode_times(rows: Sequence[Dict[str, Any]], anchor: str) -> str:
    """Encode seconds of each configuration (summed over its jobs: every image, QP and layer) against the anchor's."""
    configurations = _ordered(r["configuration"] for r in rows)
    layers = _ordered(r["layer"] for r in rows)

    def seconds(configuration: str, layer: Optional[str] = None) -> Optional[float]:
        picked = [r for r in rows if r["configuration"] == configuration and layer in (None, r["layer"])]
        if not picked or any(r["status"] != "ok" or r.get("encode_seconds") is None for r in picked):
            return None
        return sum(float(r["encode_seconds"]) for r in picked)

    lines = ["", f"## Encode time against {anchor}", "",
             "FTM's encode of each job (quantization, packing and the external encoder; summed over the jobs of",
             "a configuration, every QP), and its ratio to the anchor's. The jobs ran side by side on a shared",
             "machine: ratios are rough.", ""]  # fmt: skip
    header = ["Configuration", "Encode (s)", "x anchor"] + [f"x anchor {layer}" for layer in layers]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|")
    base = {layer: seconds(anchor, layer) for layer in [None, *layers]}
    for configuration in configurations:
        cells = [configuration, _na(seconds(configuration), "{:.1f}")]
        for layer in [None, *layers]:
            mine = seconds(configuration, layer)
            cells.append("n/a" if mine is None or not base[layer] else f"{mine / base[layer]:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _bd_groups(bd_rows):
    out: Dict[Tuple[str, str, str], List[Dict[str, Any]]] = {}
    for row in bd_rows:
        out.setdefault((row["feature_set"], row["anchor"], row["test"]), []).append(row)
    return out


def _na(value: Optional[float], fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


SUMMARY_COLUMNS = (
    ("FeatureSet", "feature_set", "{}"), ("Layer", "layer", "{}"), ("QP", "qp", "{}"),
    ("Config", "configuration", "{}"), ("Status", "status", "{}"), ("Bits", "bits", "{}"),
    ("CompRate", "compression_rate", "{:.6f}"), ("F_cls", "f_classification", "{:.4f}"),
    ("Top1", "top1_agreement", "{:.4f}"), ("Top5", "top5_overlap", "{:.4f}"), ("F_ret", "f_retrieval", "{:.4f}"),
    ("mAP_r", "map_reconstructed", "{:.4f}"), ("F_det", "f_detection", "{:.4f}"), ("detmAP", "det_map", "{:.4f}"), ("Enc(s)", "encode_seconds", "{:.2f}"),
    ("Dec(s)", "decode_seconds", "{:.2f}"), ("Eval(s)", "eval_seconds", "{:.2f}"),
)  # fmt: skip


def format_summary(rows: Sequence[Dict[str, Any]]) -> str:
    """A fixed-width table, one row per job; no field holds whitespace ('-' for none), so scripts can split lines."""
    table = [[title for title, _, _ in SUMMARY_COLUMNS]]
    for row in rows:
        cells = []
        for _, key, fmt in SUMMARY_COLUMNS:
            value = row.get(key)
            text = "-" if value is None else fmt.format(value)
            cells.append("_".join(text.split()) or "-")
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(SUMMARY_COLUMNS))]
    lines = []
    for r in table:
        lines.append(" ".join(c.ljust(w) if i < 5 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    return "\n".join(lines) + "\n"
