"""Seed 000's Fig. 3: t-SNE pictures of DMOFC's reconstructed test vectors, a panel per metric and IC.

scikit-learn's PCA (to 50 dimensions, the usual step before t-SNE on wide
vectors) then TSNE (2-d, PCA initialization, perplexity 30, seeded), on at
most 100 test vectors of each class (the first ones of the split), coloured
by class. Seed 000 draws 15 of its identities; the default set has 10
classes, all drawn.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Dict, List

import numpy as np

from ftm._atomic import write_bytes_atomic
from ftm._optional import require

__all__ = ["PER_CLASS", "embed_2d", "write_tsne"]

PER_CLASS = 100


def _rows(labels: np.ndarray) -> np.ndarray:
    return np.concatenate([np.flatnonzero(labels == c)[:PER_CLASS] for c in np.unique(labels)])


def embed_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """t-SNE coordinates of ``vectors`` (after PCA to at most 50 dimensions)."""
    require("sklearn", "The t-SNE pictures", extra="learned")
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    x = np.asarray(vectors, np.float64)
    if x.shape[1] > 50:
        x = PCA(n_components=50, random_state=seed).fit_transform(x)
    perplexity = min(30.0, (len(x) - 1) / 3)
    return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(x)


def write_tsne(decoded: Dict[str, np.ndarray], labels: np.ndarray, class_names, out_dir, seed: int = 0) -> List[Path]:
    """tsne.png: a row per IC, a column per metric, of ``decoded`` ({"dmofc-<metric> IC <n>": vectors})."""
    if not decoded:
        return []
    require("matplotlib", "The t-SNE pictures", extra="learned")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ftm.rate_accuracy.reports import LABELS

    keys = {k: re.fullmatch(r"(\S+) IC (\d+)", k).groups() for k in decoded}
    metrics = list(dict.fromkeys(m for m, _ in keys.values()))
    ics = sorted({int(ic) for _, ic in keys.values()})
    rows = _rows(labels)
    fig = Figure(figsize=(3.2 * len(metrics), 3.0 * len(ics)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_2d(fig.subplots(len(ics), len(metrics), squeeze=False))
    for key, (metric, ic) in keys.items():
        ax = axes[ics.index(int(ic)), metrics.index(metric)]
        xy = embed_2d(decoded[key][rows], seed)
        for c in np.unique(labels[rows]):
            mine = labels[rows] == c
            ax.scatter(xy[mine, 0], xy[mine, 1], s=4, label=str(class_names[c]) if class_names is not None else str(c))
        ax.set_title(f"{LABELS.get(metric, metric)}, IC {ic} bytes", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, -1].legend(fontsize=6, markerscale=2, loc="upper right")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    path = Path(out_dir) / "tsne.png"
    write_bytes_atomic(path, buf.getvalue())
    return [path]
