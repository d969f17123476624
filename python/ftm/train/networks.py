"""The trainable networks of seed 001, in torch; ``weights()`` exports them for the numpy codec.

Every linear layer starts with Glorot (Xavier) uniform weights and zero
biases (seed 001 section 3.3, after Glorot and Bengio 2010). The exported
names and shapes are those of :func:`ftm.codecs.learned.networks.expected_weights`.
"""

from __future__ import annotations

from typing import Dict

import numpy as np

from ftm.train.layers import GDN, nn, torch

__all__ = ["Enhancer", "ProNetwork", "SqEnhancer", "glorot_linear", "linear_weights"]


def glorot_linear(n_in: int, n_out: int) -> "nn.Linear":
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def linear_weights(out: Dict[str, np.ndarray], name: str, layer: "nn.Linear") -> None:
    """``layer``'s weight and bias into ``out`` as float32, under the model-file names ``name.weight``, ``name.bias``."""
    out[f"{name}.weight"] = layer.weight.detach().numpy().astype(np.float32)
    out[f"{name}.bias"] = layer.bias.detach().numpy().astype(np.float32)


def _gdn(out: Dict[str, np.ndarray], name: str, layer: GDN) -> None:
    out[f"{name}.beta"], out[f"{name}.gamma"] = layer.effective()


class ProNetwork(nn.Module):
    """PRO (seed 001 section 3.1): encoder FC -> GDN -> FC, decoder FC -> IGDN -> FC.

    ``forward`` returns (f_rec, c): c = clip(Enc(x), +-r_clip); the decoder
    sees c plus uniform noise in [-0.5, 0.5) while training (a differentiable
    stand-in for rounding) and round(c) otherwise.
    """

    def __init__(self, dims: int, hidden: int, latent_dims: int, r_clip: float) -> None:
        super().__init__()
        self.r_clip = float(r_clip)
        self.enc_fc1, self.enc_gdn, self.enc_fc2 = glorot_linear(dims, hidden), GDN(hidden), glorot_linear(hidden, latent_dims)
        self.dec_fc1, self.dec_igdn, self.dec_fc2 = glorot_linear(latent_dims, hidden), GDN(hidden, inverse=True), glorot_linear(hidden, dims)

    def encode(self, x: "torch.Tensor") -> "torch.Tensor":
        return torch.clamp(self.enc_fc2(self.enc_gdn(self.enc_fc1(x))), -self.r_clip, self.r_clip)

    def decode(self, c: "torch.Tensor") -> "torch.Tensor":
        return self.dec_fc2(self.dec_igdn(self.dec_fc1(c)))

    def forward(self, x: "torch.Tensor", generator=None):
        c = self.encode(x)
        if self.training:
            noisy = c + (torch.rand(c.shape, generator=generator) - 0.5)
        else:
            noisy = torch.round(c)
        return self.decode(noisy), c

    def weights(self) -> Dict[str, np.ndarray]:
        out: Dict[str, np.ndarray] = {}
        linear_weights(out, "enc.fc1", self.enc_fc1)
        _gdn(out, "enc.gdn", self.enc_gdn)
        linear_weights(out, "enc.fc2", self.enc_fc2)
        linear_weights(out, "dec.fc1", self.dec_fc1)
        _gdn(out, "dec.igdn", self.dec_igdn)
        linear_weights(out, "dec.fc2", self.dec_fc2)
        return out


class Enhancer(nn.Module):
    """PRO-E's teacher-student enhancer (seed 001 section 3.2): FC -> GDN -> FC on range-normalized latents."""

    def __init__(self, low_dims: int, hidden: int, high_dims: int) -> None:
        super().__init__()
        self.fc1, self.gdn, self.fc2 = glorot_linear(low_dims, hidden), GDN(hidden), glorot_linear(hidden, high_dims)

    def forward(self, c: "torch.Tensor") -> "torch.Tensor":
        return self.fc2(self.gdn(self.fc1(c)))

    def weights(self) -> Dict[str, np.ndarray]:
        out: Dict[str, np.ndarray] = {}
        linear_weights(out, "enh.fc1", self.fc1)
        _gdn(out, "enh.gdn", self.gdn)
        linear_weights(out, "enh.fc2", self.fc2)
        return out


class SqEnhancer(nn.Module):
    """SQ-E (seed 001 Fig. 3): f_SQ plus a residual FC -> GDN -> FC."""

    def __init__(self, dims: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.gdn, self.fc2 = glorot_linear(dims, hidden), GDN(hidden), glorot_linear(hidden, dims)

    def forward(self, f_sq: "torch.Tensor") -> "torch.Tensor":
        return f_sq + self.fc2(self.gdn(self.fc1(f_sq)))

    def weights(self) -> Dict[str, np.ndarray]:
        out: Dict[str, np.ndarray] = {}
        linear_weights(out, "fc1", self.fc1)
        _gdn(out, "gdn", self.gdn)
        linear_weights(out, "fc2", self.fc2)
        return out
