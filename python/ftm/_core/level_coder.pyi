"""Type stubs for ftm._core.level_coder: entropy coding of integer levels (feature vectors)."""

import numpy as np
import numpy.typing as npt

LEVEL_HEADER_BYTES: int
MIN_ADAPTATION_SHIFT: int
MAX_ADAPTATION_SHIFT: int

def encode_levels(
    levels: npt.NDArray[np.int32], fast_shift: int, slow_shift: int, stats_shift: int, neighbour_contexts: bool
) -> bytes: ...
def decode_levels(data: bytes, n: int, d: int) -> npt.NDArray[np.int32]: ...
