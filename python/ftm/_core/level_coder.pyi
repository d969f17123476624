"""Type stubs for ftm._core.level_coder: entropy coding of integer levels (feature vectors)."""

import numpy as np
import numpy.typing as npt

LEVEL_HEADER_BYTES: int
MIN_ADAPTATION_SHIFT: int
MAX_ADAPTATION_SHIFT: int
DEFAULT_MAX_LEVELS: int
DEFAULT_MAX_STATE_BYTES: int

def encode_levels(
    levels: npt.NDArray[np.int32], fast_shift: int, slow_shift: int, stats_shift: int, neighbour_contexts: bool
) -> bytes: ...
def level_state_bytes(n: int, d: int) -> int: ...
def decode_levels(
    data: bytes, n: int, d: int, max_levels: int = ..., max_state_bytes: int = ...
) -> npt.NDArray[np.int32]: ...
