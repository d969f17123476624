"""Rate-accuracy, rate-AUC and rate-EER plots of a sweep (seed 001 Fig. 4 and 5), as PNG.

matplotlib's object API on an Agg canvas (no pyplot, no display). The x axis
is bits per dimension (log scale), one curve per method, each point a rate
point; a dashed line marks the uncompressed vectors.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import List

from ftm._atomic import write_bytes_atomic
from ftm._optional import require
from ftm.rate_accuracy.runner import SweepResult

__all__ = ["PLOTS", "write_plots"]

# file -> (figure, y label, scale of the value for the axis)
PLOTS = {
    "rate_accuracy.png": ("accuracy", "verification accuracy (%)", 100.0),
    "rate_auc.png": ("auc", "ROC AUC", 1.0),
    "rate_eer.png": ("eer", "EER (%)", 100.0),
}
_MARKERS = "osD^vP*X"


def _figure(result: SweepResult, key: str, ylabel: str, scale: float) -> bytes:
    require("matplotlib", "The rate-accuracy plots", extra="learned")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ftm.rate_accuracy.reports import LABELS

    fig = Figure(figsize=(6.4, 4.4), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for i, (method, points) in enumerate(result.by_method().items()):
        ax.plot([p.bits_per_dimension for p in points], [scale * getattr(p, key) for p in points],
                marker=_MARKERS[i % len(_MARKERS)], label=LABELS.get(method, method))  # fmt: skip
    ref = scale * getattr(result.reference, key)
    ax.axhline(ref, color="grey", linestyle="--", linewidth=1, label="uncompressed")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("bits per dimension")
    ax.set_ylabel(ylabel)
    n, d = result.labelled_set["test"], result.labelled_set["dims"]
    ax.set_title(f"{ylabel} against rate: {n} test vectors of {d} dimensions", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_plots(result: SweepResult, out_dir) -> List[Path]:
    """The three plots of :data:`PLOTS` in ``out_dir``, and DMOFC's t-SNE picture when the sweep kept vectors for it."""
    written = []
    for name, (key, ylabel, scale) in PLOTS.items():
        path = Path(out_dir) / name
        write_bytes_atomic(path, _figure(result, key, ylabel, scale))
        written.append(path)
    if result.tsne:
        from ftm.rate_accuracy.tsne import write_tsne

        written += write_tsne(result.tsne, result.test_labels, result.labelled_set.get("classes"), out_dir)
    return written
