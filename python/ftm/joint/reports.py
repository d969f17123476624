"""Reports of seed 003's experiment: the grids, the fits, the allocations, rate-TFQI and rate-accuracy, BD-rates.

``results.json`` (everything), ``allocations.csv``, ``report.md`` (the
tables and BD-rates of the proposed scheme against compress-then-analyze on
TFQI and on accuracy, per w1, and the gap of the model-based choice to the
oracle) and, with plots, ``rd_fits.png`` (seed 003 Fig. 2),
``rate_tfqi.png`` (Fig. 4) and ``rate_accuracy.png`` (Fig. 6).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ftm._atomic import write_bytes_atomic, write_text_atomic
from ftm.joint.experiment import JointResult
from ftm.metrics.tfqi import ExponentialModel

__all__ = ["bd_rates", "format_report", "oracle_gap", "write_reports"]


def _curve(rows: List[dict], w1: float, rate: str, value: str):
    points = sorted((r[rate], r[value]) for r in rows if r["w1"] == w1 and r.get(rate) is not None and r.get(value) is not None)
    return [p[0] for p in points], [p[1] for p in points]


def _bd(anchor, test) -> Optional[float]:
    from ftm.metrics.bjontegaard import bd_rate

    if min(len(anchor[0]), len(test[0])) < 2:  # a curve needs two points
        return None
    try:
        v = bd_rate(anchor[0], anchor[1], test[0], test[1])
    except ValueError:
        return None
    return None if math.isnan(v) else v


def bd_rates(result: JointResult) -> Dict[float, Dict[str, Optional[float]]]:
    """Per w1: BD-rate (%) of the proposed scheme against CTA at equal TFQI and at equal accuracy."""
    out = {}
    for w1 in result.settings["weights"]:
        rows = result.allocations
        out[w1] = {"tfqi": _bd(_curve(rows, w1, "budget", "cta_tfqi"), _curve(rows, w1, "rate", "tfqi")),
                   "accuracy": _bd(_curve(rows, w1, "budget", "cta_accuracy"), _curve(rows, w1, "rate", "accuracy"))}  # fmt: skip
    return out


def _f(v, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def _task(result: JointResult) -> str:
    return result.settings.get("task", "verification")


def _pct(v) -> str:
    return "-" if v is None else f"{v:+.1f}%"


def format_report(result: JointResult) -> str:
    px = result.pixels
    lines = [f"# Joint texture and feature coding (seed 003): {result.images} images of {px} pixels", "",
             f"{_task(result).capitalize()} accuracy of the features of the lossless images: {100 * result.lossless_accuracy:.2f}%.", "",
             "## Texture (HEVC all intra)", "", "| QP | bits/image | bpp | MSE | PSNR (dB) | CTA accuracy (%) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    lines += [f"| {t['qp']} | {t['bits_per_image']:.1f} | {t['bits_per_image'] / px:.3f} | {t['mse']:.2f} | {t['psnr']:.2f} | "
              f"{100 * t['cta_accuracy']:.2f} |" for t in result.texture]  # fmt: skip
    lines += ["", "## Feature (SQ + CABAC, from the lossless images)", "", "| QP | bits/image | accuracy (%) | D_f |",
              "| ---: | ---: | ---: | ---: |"]  # fmt: skip
    lines += [f"| {f['qp']} | {f['bits_per_image']:.1f} | {100 * f['accuracy']:.2f} | {f['error_rate']:.4f} |" for f in result.feature]
    t, f = result.fits["texture"], result.fits["feature"]
    lines += ["", "## Fits (eq. 9; R in bits per image)", "",
              f"- D_t = {t['a']:.4g} e^({t['b']:.4g} R_t), R^2 = {t['r_squared']:.4f}",
              f"- D_f = {f['a']:.4g} e^({f['b']:.4g} R_f) + {f['c']:.4g} e^({f['d']:.4g} R_f), R^2 = {f['r_squared']:.4f}", ""]  # fmt: skip
    bd = bd_rates(result)
    for w1 in result.settings["weights"]:
        lines += [f"## w1 = {w1:g}", "",
                  "| budget (bits/image) | CTA TFQI | CTA acc (%) | proposed QPs (t, f) | rate | TFQI | TFQI - CTA | acc (%) | "
                  "oracle QPs | oracle TFQI | gap |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
        rows = [r for r in result.allocations if r["w1"] == w1]
        for r in rows:
            gain = None if r["tfqi"] is None else r["tfqi"] - r["cta_tfqi"]
            lines.append(f"| {r['budget']:.1f} | {r['cta_tfqi']:.4f} | {100 * r['cta_accuracy']:.2f} | "
                         f"{r['texture_qp']}, {r['feature_qp']} | {_f(r['rate'], '.1f')} | {_f(r['tfqi'], '.4f')} | "
                         f"{_f(gain, '+.4f')} | {_f(None if r['accuracy'] is None else 100 * r['accuracy'], '.2f')} | "
                         f"{r['oracle_texture_qp']}, {r['oracle_feature_qp']} | {_f(r['oracle_tfqi'], '.4f')} | {_f(oracle_gap(r), '.4f')} |")  # fmt: skip
        gaps = [g for g in map(oracle_gap, rows) if g is not None]
        lines += ["", f"BD-rate of the proposed scheme against CTA: {_pct(bd[w1]['tfqi'])} at equal TFQI, "
                      f"{_pct(bd[w1]['accuracy'])} at equal accuracy (pchip; '-' where the curves do not overlap).",
                  "" if not gaps else
                  f"Model-based against oracle allocation: the same QP pair at {sum(g == 0 for g in gaps)} of {len(gaps)} "
                  f"budgets; TFQI below the oracle's by {np.mean(gaps):.4f} on average, {max(gaps):.4f} at most.", ""]  # fmt: skip
    return "\n".join(lines + _provenance(result))


def oracle_gap(row: dict) -> Optional[float]:
    """How far the model-based choice's TFQI falls below the oracle's at one budget (0: the same pair)."""
    return None if row["tfqi"] is None or row["oracle_tfqi"] is None else row["oracle_tfqi"] - row["tfqi"]


def _provenance(result: JointResult) -> List[str]:
    run = result.run
    if not run:
        return []
    encoders = sorted({t.get("encoder_version", "") for t in result.texture} - {""})
    executor = run.get("executor", {})
    return ["## Run", "",
            f"- images: {result.images}, sha256 {run.get('images_digest', '?')[:16]}...; network {run.get('network')}",
            (f"- verification pairs: {result.settings['pairs']} in {result.settings['folds']} folds, seed {result.settings['pair_seed']}"
             if _task(result) == "verification" else
             f"- classification: logistic regression fitted on half of each class (seed {result.settings['pair_seed']}), tested on the other half"),
            f"- texture encoder: {', '.join(encoders) or '?'}",
            f"- {run.get('jobs')} grid points, {run.get('jobs_run')} run now on {executor.get('executor', '?')} "
            f"({executor.get('workers', '?')} workers); wall time {run.get('wall_seconds', 0):.1f} s",
            f"- FTM {run.get('ftm_version', '?')}, numpy {run.get('numpy', '?')}, torch {run.get('torch', '?')}", ""]  # fmt: skip


def _csv(result: JointResult) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(result.allocations[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(result.allocations)
    return buf.getvalue()


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _plots(result: JointResult, out: Path) -> List[Path]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    written = []
    fig = Figure(figsize=(9, 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, (name, grid, rate, value) in zip(axes, (("texture", result.texture, "bits_per_image", "mse"),
                                                    ("feature", result.feature, "bits_per_image", "error_rate"))):  # fmt: skip
        r = np.array([p[rate] for p in grid])
        model = ExponentialModel(**result.fits[name])
        xs = np.linspace(r.min(), r.max(), 200)
        ax.plot(r, [p[value] for p in grid], "o", label="measured")
        ax.plot(xs, model(xs), "-", label=f"fit, R^2 = {model.r_squared:.3f}")
        ax.set_xlabel("bits per image")
        ax.set_ylabel("D_t (MSE)" if name == "texture" else "D_f (error rate)")
        ax.legend(fontsize=8)
    written.append(out / "rd_fits.png")
    write_bytes_atomic(written[-1], _png(fig))
    for name, (cta, proposed, label) in {"rate_tfqi.png": (("budget", "cta_tfqi"), ("rate", "tfqi"), "TFQI"),
                                         "rate_accuracy.png": (("budget", "cta_accuracy"), ("rate", "accuracy"), "accuracy")}.items():  # fmt: skip
        weights = result.settings["weights"]
        fig = Figure(figsize=(3.6 * len(weights), 3.4), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        for ax, w1 in zip(np.atleast_1d(fig.subplots(1, len(weights))), weights):
            for keys, text in ((cta, "CTA"), (proposed, "proposed")):
                x, y = _curve(result.allocations, w1, *keys)
                ax.plot(x, y, "o-", label=text)
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())  # log-scale minor labels overlap on a short range
            ax.set_xlabel("bits per image")
            ax.set_ylabel(label)
            ax.set_title(f"w1 = {w1:g}", fontsize=9)
            ax.legend(fontsize=8)
        written.append(out / name)
        write_bytes_atomic(written[-1], _png(fig))
    return written


def write_reports(result: JointResult, out_dir, plots: bool = True) -> List[Path]:
    from ftm.ctc.store import json_safe  # here: the ctc package is not needed to import the reports

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = json_safe({**result.as_dict(), "bd_rates": {str(k): v for k, v in bd_rates(result).items()}})
    texts = {"results.json": json.dumps(payload, indent=1, allow_nan=False) + "\n", "allocations.csv": _csv(result),
             "report.md": format_report(result) + "\n"}  # fmt: skip
    written = []
    for name, text in texts.items():
        write_text_atomic(out / name, text)
        written.append(out / name)
    if plots:
        written += _plots(result, out)
    return written
