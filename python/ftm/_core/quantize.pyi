"""Type stubs for ftm._core.quantize: logarithmic, min-max and scalar quantizers."""

from typing import Optional, Tuple

import numpy as np
import numpy.typing as npt

MIN_BITS: int
MAX_BITS: int
MIN_QP: int
MAX_QP: int

def log_quantize(x: npt.NDArray[np.floating], bits: int, nonnegative: bool) -> Tuple[np.ndarray, float, float]: ...
def log_dequantize(q: np.ndarray, bits: int, offset: float, max_log: float) -> npt.NDArray[np.float32]: ...
def minmax_quantize(
    x: npt.NDArray[np.floating],
    bits: int,
    channel_axis: int,
    lo: Optional[npt.NDArray[np.float32]] = ...,
    hi: Optional[npt.NDArray[np.float32]] = ...,
) -> Tuple[np.ndarray, npt.NDArray[np.float32], npt.NDArray[np.float32]]: ...
def minmax_dequantize(
    q: np.ndarray, bits: int, channel_axis: int, lo: npt.NDArray[np.float32], hi: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]: ...
def qstep(qp: int) -> float: ...
def sq_quantize(c: npt.NDArray[np.floating], qp: int) -> npt.NDArray[np.int32]: ...
def sq_dequantize(levels: npt.NDArray[np.int32], qp: int, midpoint: bool) -> npt.NDArray[np.float32]: ...
