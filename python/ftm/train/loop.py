"""The training loop every network of seed 001 shares: Adam, shuffled mini-batches, a progress bar.

Seed 001 section 3.3: Adam (Kingma and Ba), learning rate 1e-4, batch size
32, 40 epochs, Glorot initialization; :class:`TrainSettings` holds these
defaults. Training is deterministic on the CPU for a given seed (and torch
thread count): the initial weights, the order of the batches and the
training noise all come from generators seeded with it, and torch's global
random state is left as it was.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional

import numpy as np

from ftm._optional import require
from ftm.errors import ConfigError
from ftm.train.layers import nn, torch

__all__ = ["FitResult", "TrainSettings", "epoch_bar", "fit", "seeded"]


@dataclass(frozen=True)
class TrainSettings:
    """How a network is trained (seed 001 section 3.3 by default)."""

    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 1e-4
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError(f"epochs and batch size must be >= 1, got {self.epochs} and {self.batch_size}")
        if not self.learning_rate > 0:
            raise ConfigError(f"the learning rate must be > 0, got {self.learning_rate}")

    def as_dict(self) -> dict:
        return {"epochs": self.epochs, "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "optimizer": "Adam (betas 0.9, 0.999), torch's fused kernel", "initialization": "Glorot uniform weights, zero biases"}  # fmt: skip


@dataclass
class FitResult:
    """Mean training loss of each epoch, the last epoch's report and the wall time."""

    losses: List[float] = field(default_factory=list)
    report: Dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """torch's global generator seeded inside the block (for initial weights), restored after it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def epoch_bar(total: int, desc: str, show: bool):
    """A tqdm bar counting epochs on stderr, or None when ``show`` is false."""
    if not show:
        return None
    return require("tqdm", "The progress bar").tqdm(total=total, desc=desc, unit="epoch", file=sys.stderr, leave=True)


def fit(
    module: "nn.Module",
    inputs: np.ndarray,
    targets: np.ndarray,
    loss_fn: Callable[["nn.Module", "torch.Tensor", "torch.Tensor", "torch.Generator"], "torch.Tensor"],
    settings: TrainSettings,
    desc: str = "ftm-train",
    epoch_report: Optional[Callable[["nn.Module"], Dict[str, float]]] = None,
) -> FitResult:
    """Train ``module`` on (inputs, targets) rows with ``loss_fn(module, x, y, generator)``.

    After each epoch ``epoch_report(module)`` (in eval mode) adds figures,
    such as the rate, to the progress bar's line.
    """
    x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
    y = torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32))
    if x.shape[0] == 0:
        raise ConfigError("no training vector")
    generator = torch.Generator().manual_seed(settings.seed)
    # The fused kernel updates each tensor in one pass instead of several: the
    # same Adam up to rounding, deterministic on the CPU, and a whole PRO step
    # at K = 4D 1.65 times faster (benchmarks/bench_fused_adam.py).
    optimizer = torch.optim.Adam(module.parameters(), lr=settings.learning_rate, fused=True)
    result = FitResult()
    bar = epoch_bar(settings.epochs, desc, settings.progress)
    t0 = time.perf_counter()
    try:
        for _ in range(settings.epochs):
            module.train()
            order = torch.randperm(x.shape[0], generator=generator)
            total, count = 0.0, 0
            for start in range(0, x.shape[0], settings.batch_size):
                rows = order[start : start + settings.batch_size]
                loss = loss_fn(module, x[rows], y[rows], generator)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * rows.numel()
                count += rows.numel()
            result.losses.append(total / count)
            module.eval()
            if epoch_report is not None:
                with torch.no_grad():
                    result.report = dict(epoch_report(module))
            if bar is not None:
                bar.set_postfix({"loss": f"{result.losses[-1]:.4g}", **{k: f"{v:.4g}" for k, v in result.report.items()}})
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        module.eval()
    result.seconds = time.perf_counter() - t0
    return result
