"""Repack of N x C x H x W codes into 4:0:0 frames, and the exact inverse.

Seed 002 3.1: frame sides are multiples of 8, the margin after the last row
and column filled by repeating the border element.

``mode="channel"``: each channel of each sample is one frame of
``ceil(H/8)*8 x ceil(W/8)*8``; frame ``n*C + k`` holds channel ``perm[k]``.

``mode="tiled"``: each sample is one frame holding a ``rows x cols`` grid of
H x W tiles in raster order (tile k holds channel ``perm[k]``; tiles past C
are 0), the frame padded to multiples of 8. The default grid is near-square:
``cols = ceil(sqrt(C))``, ``rows = ceil(C / cols)``. This is the packing of
MPEG's feature-coding anchors.

Frames are uint8 for 8-bit codes and little-endian uint16 above: the memory
layout an encoder reads as raw gray / gray10le / gray12le / gray16le video.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

from ftm._core import pack as native

__all__ = ["PackLayout", "pack", "unpack", "PACK_MODES"]

PACK_MODES = {"channel": native.PACK_CHANNEL, "tiled": native.PACK_TILED}


@dataclass(frozen=True)
class PackLayout:
    """Everything :func:`unpack` needs to invert :func:`pack`."""

    mode: str
    shape: Tuple[int, int, int, int]  # N, C, H, W
    frame_shape: Tuple[int, int]  # H', W'
    num_frames: int
    grid: Optional[Tuple[int, int]] = None  # rows, cols (tiled mode)
    permutation: Optional[Tuple[int, ...]] = None  # frame/tile k holds channel permutation[k]

    @classmethod
    def create(
        cls,
        mode: str,
        shape: Sequence[int],
        grid: Optional[Sequence[int]] = None,
        permutation: Optional[Sequence[int]] = None,
    ) -> "PackLayout":
        """Validate a layout and derive its frame geometry."""
        if mode not in PACK_MODES:
            raise ValueError(f"unknown pack mode {mode!r}; expected one of {sorted(PACK_MODES)}")
        if len(shape) != 4:
            raise ValueError(f"feature tensor must be N x C x H x W, got {len(shape)}-D shape {tuple(shape)}")
        if grid is not None and mode != "tiled":
            raise ValueError("grid applies to mode='tiled' only")
        rows, cols = (0, 0) if grid is None else (int(grid[0]), int(grid[1]))
        if rows < 0 or cols < 0:
            raise ValueError(f"tile grid must be positive, got {rows}x{cols}")
        n, c, h, w = (int(v) for v in shape)
        frames, fh, fw, grows, gcols = native.pack_geometry(PACK_MODES[mode], n, c, h, w, rows, cols)
        perm = None
        if permutation is not None:
            perm = tuple(int(k) for k in permutation)
            if sorted(perm) != list(range(c)):
                raise ValueError(f"permutation must list each of the {c} channels once, got {perm}")
            if perm == tuple(range(c)):
                perm = None
        return cls(mode, (n, c, h, w), (fh, fw), frames, (grows, gcols) if mode == "tiled" else None, perm)

    def _args(self) -> tuple:
        rows, cols = self.grid or (0, 0)
        perm = None if self.permutation is None else np.asarray(self.permutation, dtype=np.uint32)
        return PACK_MODES[self.mode], rows, cols, perm


def _codes(q: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(q)
    if a.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"{name} must be uint8 or uint16 codes, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))


def pack(
    q: np.ndarray,
    mode: str = "channel",
    *,
    grid: Optional[Sequence[int]] = None,
    permutation: Optional[Sequence[int]] = None,
) -> Tuple[np.ndarray, PackLayout]:
    """Repack N x C x H x W codes into frames of shape (F, H', W')."""
    codes = _codes(q, "codes")
    if codes.ndim != 4:
        raise ValueError(f"feature tensor must be N x C x H x W, got {codes.ndim}-D shape {codes.shape}")
    layout = PackLayout.create(mode, codes.shape, grid, permutation)
    kind, rows, cols, perm = layout._args()
    return native.pack(codes, kind, rows, cols, perm), layout


def unpack(frames: np.ndarray, layout: PackLayout) -> np.ndarray:
    """Invert :func:`pack`: frames (F, H', W') back to N x C x H x W codes."""
    data = _codes(frames, "frames")
    kind, rows, cols, perm = layout._args()
    n, c, h, w = layout.shape
    return native.unpack(data, kind, n, c, h, w, rows, cols, perm)
