"""Type stubs for the C++ core (ftm._core)."""

from typing import List, Optional, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

MIN_BITS: int
MAX_BITS: int
MIN_QP: int
MAX_QP: int
PACK_CHANNEL: int
PACK_TILED: int
LEVEL_HEADER_BYTES: int
MIN_ADAPTATION_SHIFT: int
MAX_ADAPTATION_SHIFT: int

def set_num_threads(count: int) -> None: ...
def num_threads() -> int: ...
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
def inversion_count(s_p: npt.NDArray[np.int64], s_r: npt.NDArray[np.int64]) -> int: ...
def bubble_index(s_p: npt.NDArray[np.int64], s_r: npt.NDArray[np.int64]) -> float: ...
def inversion_count_batch(P: npt.NDArray[np.int64], R: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]: ...
def bubble_index_batch(P: npt.NDArray[np.int64], R: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]: ...
def encode_levels(
    levels: npt.NDArray[np.int32], fast_shift: int, slow_shift: int, stats_shift: int, neighbour_contexts: bool
) -> bytes: ...
def decode_levels(data: bytes, n: int, d: int) -> npt.NDArray[np.int32]: ...

# ---------------------------------------------------------------- the .ftm container (bitstream)

class BitstreamError(ValueError): ...

class FeatureKind:
    MAP: FeatureKind
    VECTOR: FeatureKind

class SourceDtype:
    FLOAT16: SourceDtype
    FLOAT32: SourceDtype
    FLOAT64: SourceDtype

class PackMode:
    CHANNEL: PackMode
    TILED: PackMode

class LogQuantBox:
    bit_depth: int
    nonnegative: bool
    offset: float
    max_log: float
    def __init__(self) -> None: ...

class MinMaxQuantBox:
    bit_depth: int
    channel_axis: int  # 255: one range for the whole tensor
    lo: List[float]
    hi: List[float]
    def __init__(self) -> None: ...

class PackBox:
    mode: PackMode
    grid_rows: int
    grid_cols: int
    permutation: List[int]  # empty: identity
    def __init__(self) -> None: ...

class HevcBox:
    coded_bit_depth: int
    qp: int
    encoder_id: int
    payload: bytes
    def __init__(self) -> None: ...

class ScalarQuantBox:
    qp: int
    reconstruction: int
    normalization: int
    scale: float
    def __init__(self) -> None: ...

class HashBox:
    hash_type: int
    codes_md5: bytes
    features_md5: bytes
    def __init__(self) -> None: ...

class TensorRecord:
    name: str
    kind: FeatureKind
    source_dtype: SourceDtype
    dims: List[int]
    log_quant: Optional[LogQuantBox]
    minmax_quant: Optional[MinMaxQuantBox]
    pack: Optional[PackBox]
    hevc: Optional[HevcBox]
    scalar_quant: Optional[ScalarQuantBox]
    hash: Optional[HashBox]
    info: Optional[str]
    norms: Optional[npt.NDArray[np.float32]]
    cabac: Optional[bytes]
    @property
    def ancillary_types(self) -> List[str]: ...
    def __init__(self) -> None: ...

class Stream:
    version_major: int
    version_minor: int
    tensors: List[TensorRecord]
    def __init__(self) -> None: ...

def validate_stream(stream: Stream) -> None: ...
def write_stream(stream: Stream) -> bytes: ...
@overload
def parse_stream(data: bytes) -> Stream: ...
@overload
def parse_stream(data: bytes, trace: bool) -> Union[Stream, Tuple[Stream, List[Tuple[int, str, str, str]]]]: ...
