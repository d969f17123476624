"""Rate-fidelity plots: one PNG per feature set and task, one panel per layer, one curve per configuration.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global
backend switch, no display needed). The x axis is the compression rate
(eq. 1, log scale), the y axis the task's fidelity, on one range shared by
every panel of a figure; each point is one QP, labelled on every curve; one
legend for the figure; the title gives the number of images.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any, Dict, List, Sequence

from ftm._atomic import write_bytes_atomic
from ftm.ctc.reports import TASKS

__all__ = ["write_plots"]

_SAFE = re.compile(r"[^A-Za-z0-9_.+-]")
_MARKERS = "osD^vP*Xh<>"


def _ordered(values) -> list:
    return list(dict.fromkeys(values))


def _points(rows, layer: str, configuration: str, key: str) -> List[tuple]:
    return sorted(
        (r["compression_rate"], r[key], r["qp"])
        for r in rows
        if r["layer"] == layer and r["configuration"] == configuration and r["status"] == "ok"
        and r.get(key) is not None and r.get("compression_rate")
    )  # fmt: skip


def _figure(rows: Sequence[Dict[str, Any]], feature_set: str, key: str, title: str) -> bytes:
    """One panel per layer, every panel on the same fidelity range, so that layers compare at a glance."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    layers = _ordered(r["layer"] for r in rows)
    configurations = _ordered(r["configuration"] for r in rows)
    cols = min(3, len(layers))
    nrows = math.ceil(len(layers) / cols)
    fig = Figure(figsize=(4.4 * cols, 3.5 * nrows + 0.8), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, cols, squeeze=False, sharey=True)
    values = [r[key] for r in rows if r["status"] == "ok" and r.get(key) is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = 0.06 * max(high - low, 0.05)
    handles = {}
    for index, layer in enumerate(layers):
        ax = axes[index // cols][index % cols]
        rates = []
        for c, configuration in enumerate(configurations):
            points = _points(rows, layer, configuration, key)
            if not points:
                continue
            xs, ys, qps = zip(*points)
            rates += xs
            (line,) = ax.plot(xs, ys, marker=_MARKERS[c % len(_MARKERS)], label=configuration)
            handles.setdefault(configuration, line)
            for x, y, qp in points:  # every curve's QPs, offset per curve so that labels of close curves part
                ax.annotate(f"{qp}", (x, y), textcoords="offset points", xytext=(4, -9 - 8 * (c % 3)), fontsize=6.5,
                            color=line.get_color())  # fmt: skip
        ax.set_xscale("log")
        if rates:  # room on both sides for the QP labels
            ax.set_xlim(min(rates) / 1.35, max(rates) * 1.35)
        decades = math.log10(max(rates) / min(rates)) if rates else 0.0
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0,) if decades > 1.5 else (1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a narrow log axis overlap
        ax.set_ylim(low - pad, high + pad)
        ax.set_title(layer)
        ax.set_xlabel("compression rate")
        if index % cols == 0:
            ax.set_ylabel(title)
        ax.grid(True, which="both", alpha=0.3)
    for index in range(len(layers), nrows * cols):
        axes[index // cols][index % cols].set_visible(False)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=min(4, len(handles)),
               title="configuration (labels: QP)", fontsize=8, title_fontsize=8)  # fmt: skip
    images = next((r.get("images") for r in rows if r.get("images")), None)
    count = f", {images} images" if images else ""
    fig.suptitle(f"{rows[0]['model']}, feature set {feature_set}{count}: {title} against compression rate")
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def write_plots(rows: Sequence[Dict[str, Any]], folder: Path) -> List[Path]:
    """Write the PNGs under ``folder``; their paths (none when matplotlib is missing a result to draw)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for feature_set in _ordered(r["feature_set"] for r in rows):
        subset = [r for r in rows if r["feature_set"] == feature_set]
        for key, short, title in TASKS:
            if not any(r["status"] == "ok" and r.get(key) is not None for r in subset):
                continue
            name = f"rate_fidelity_{_SAFE.sub('_', feature_set)}_{short.lower()}.png"
            path = folder / name
            write_bytes_atomic(path, _figure(subset, feature_set, key, f"F_{title.lower()}"))
            written.append(path)
    return written
