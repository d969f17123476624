"""Type stubs for ftm._core.pack: feature maps into codec frames and back."""

from typing import Optional, Tuple

import numpy as np
import numpy.typing as npt

PACK_CHANNEL: int
PACK_TILED: int

def pack_geometry(mode: int, n: int, c: int, h: int, w: int, rows: int, cols: int) -> Tuple[int, int, int, int, int]: ...
def pack(
    tensor: np.ndarray, mode: int, rows: int, cols: int, perm: Optional[npt.NDArray[np.uint32]] = ...
) -> np.ndarray: ...
def unpack(
    frames: np.ndarray,
    mode: int,
    n: int,
    c: int,
    h: int,
    w: int,
    rows: int,
    cols: int,
    perm: Optional[npt.NDArray[np.uint32]] = ...,
) -> np.ndarray: ...
