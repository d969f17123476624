"""An encoder-side choice of channel order: greedy nearest neighbour on channel similarity.

Seed 002 (3.1) notes that "the order of the frames can be further
reorganized during the repack phase, as which may affect the compression
performance if inter-frame correlations are considered". With one frame per
channel, an inter-coding encoder predicts each frame from the ones before
it; with tiles, intra prediction reaches across tile borders. Putting
similar channels next to each other helps both.

The order is a permutation of the channels, carried in the PACK box's
``channel_index`` (SPEC.md 3.4) exactly like one given by hand
(``ChannelOrder : 5,3,1,...``): a decoder needs nothing new, and a stream
whose encoder chose its order decodes as any other.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

__all__ = ["SIMILARITY", "channel_distances", "similarity_order"]

#: The ChannelOrder value that asks for this order.
SIMILARITY = "similarity"


def channel_distances(codes: np.ndarray) -> np.ndarray:
    """C x C mean squared differences between the channels of N x C x H x W codes, over samples and positions."""
    n, c, h, w = codes.shape
    x = np.ascontiguousarray(np.moveaxis(codes, 1, 0).reshape(c, n * h * w), dtype=np.float64)
    norms = np.einsum("ij,ij->i", x, x)
    d = norms[:, None] + norms[None, :] - 2.0 * (x @ x.T)
    np.maximum(d, 0.0, out=d)  # rounding can leave tiny negatives on the diagonal
    return d / max(1, n * h * w)


def similarity_order(codes: np.ndarray) -> Optional[Tuple[int, ...]]:
    """Greedy nearest-neighbour order of the channels of ``codes``; None when it is the original order.

    The path starts at the channel farthest from all others (the sum of its
    distances is largest), so that the most unlike channel opens the path
    instead of being left for its end, and goes on to the nearest channel
    not yet placed. Ties go to the lowest index, so the order is a pure
    function of the codes.
    """
    c = codes.shape[1]
    if c < 3:  # two channels have one order up to reversal
        return None
    d = channel_distances(codes)
    order = [int(np.argmax(d.sum(axis=1)))]
    placed = np.zeros(c, dtype=bool)
    placed[order[0]] = True
    for _ in range(c - 1):
        row = np.where(placed, np.inf, d[order[-1]])
        nearest = int(np.argmin(row))
        order.append(nearest)
        placed[nearest] = True
    return None if order == list(range(c)) else tuple(order)
