"""GDN and IGDN in torch, with Ballé's non-negative reparameterization of beta and gamma.

GDN (Ballé, Laparra and Simoncelli, "Density modeling of images using a
generalized normalization transformation", ICLR 2016; in the form of "End-to-end
optimized image compression", ICLR 2017, eq. 1), on N x C inputs::

    y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)        IGDN: y_i = x_i * sqrt(...)

Training keeps beta and gamma non-negative, and beta away from 0, through the
reparameterization of Ballé, "Efficient nonlinear transforms for lossy image
compression" (PCS 2018, section 3): a parameter p stands for

    value = max(p, bound)^2 - pedestal,   pedestal = offset^2,   bound = sqrt(minimum + pedestal)

with offset 2^-18 (minimum 1e-6 for beta, 0 for gamma); squaring slows the
learning of small values, and ``max`` lets the gradient through only where it
moves p back above the bound. Initial values: beta = 1, gamma = 0.1 I (as
CompressAI's GDN). :meth:`GDN.effective` gives (beta, gamma) as numpy, the
form model files store and :mod:`ftm.codecs.learned.networks` evaluates.

CompressAI provides these layers, but its releases pin numpy below 2 (1.2.8
requires ``numpy<2.0``) and pull torch-geometric and a CUDA torch, so FTM
writes them here (and checks them against the formula in its tests).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ftm._optional import require

torch = require("torch", "Training learned codecs", extra="learned")
nn = torch.nn

__all__ = ["GDN", "NonNegative", "lower_bound"]

REPARAM_OFFSET = 2.0**-18


class _LowerBound(torch.autograd.Function):
    """max(x, bound), whose gradient passes where x is above the bound or the step would raise x."""

    @staticmethod
    def forward(ctx, x, bound):
        ctx.save_for_backward(x)
        ctx.bound = bound
        return torch.clamp(x, min=bound)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # gradient descent moves x by -grad: a negative gradient raises x towards the bound
        passes = (x >= ctx.bound) | (grad < 0)
        return grad * passes.to(grad.dtype), None


def lower_bound(x: "torch.Tensor", bound: float) -> "torch.Tensor":
    return _LowerBound.apply(x, bound)


class NonNegative(nn.Module):
    """A parameter tensor kept >= ``minimum``, reparameterized as Ballé (2018) section 3."""

    def __init__(self, initial: "torch.Tensor", minimum: float = 0.0, offset: float = REPARAM_OFFSET) -> None:
        super().__init__()
        self.pedestal = offset**2
        self.bound = (minimum + self.pedestal) ** 0.5
        self.raw = nn.Parameter(torch.sqrt(torch.clamp(initial + self.pedestal, min=self.pedestal)))

    def forward(self) -> "torch.Tensor":
        return lower_bound(self.raw, self.bound) ** 2 - self.pedestal


class GDN(nn.Module):
    """GDN (or IGDN with ``inverse=True``) over the last dimension of N x C inputs."""

    def __init__(self, channels: int, inverse: bool = False, beta_min: float = 1e-6, gamma_init: float = 0.1) -> None:
        super().__init__()
        self.inverse = inverse
        self.beta = NonNegative(torch.ones(channels), minimum=beta_min)
        self.gamma = NonNegative(gamma_init * torch.eye(channels))

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        norm = self.beta() + (x * x) @ self.gamma().T
        return x * torch.sqrt(norm) if self.inverse else x * torch.rsqrt(norm)

    def effective(self) -> Tuple[np.ndarray, np.ndarray]:
        """(beta, gamma) as float32 numpy arrays: the layer's actual parameters."""
        with torch.no_grad():
            return self.beta().numpy().astype(np.float32), self.gamma().numpy().astype(np.float32)
