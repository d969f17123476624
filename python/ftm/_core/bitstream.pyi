"""Type stubs for ftm._core.bitstream: the .ftm container (records, writing, parsing, validation)."""

from typing import List, Optional, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

from ftm.errors import BitstreamError as BitstreamError

class FeatureKind:
    MAP: FeatureKind
    VECTOR: FeatureKind
    LEARNED: FeatureKind
    IMAGE: FeatureKind

class LearnedMethod:
    SQ_E: LearnedMethod
    PRO: LearnedMethod
    PRO_E: LearnedMethod
    PQ: LearnedMethod
    OPQ: LearnedMethod
    DMOFC: LearnedMethod
    value: int

class SourceDtype:
    FLOAT16: SourceDtype
    FLOAT32: SourceDtype
    FLOAT64: SourceDtype
    UINT8: SourceDtype  # image records only

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

class VideoBox:
    codec_id: int  # 0 HEVC (4:2:0 only), 1 VVC, 2 AVS2
    chroma_format_idc: int  # 0: 4:0:0; 1: 4:2:0, the luma plane carries the frames
    coded_bit_depth: int
    qp: int
    encoder_id: int
    payload: bytes
    def __init__(self) -> None: ...

class TextureBox:
    colour_transform: int  # 0: grey (C = 1, 4:0:0); 1: RGB (C = 3) as 4:2:0 full-range YCbCr
    codec_id: int  # 0 HEVC (the only one in this version)
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

class LearnedModelBox:
    model_sha256: bytes  # 32 bytes
    method: LearnedMethod
    def __init__(self) -> None: ...

class LatentBox:
    latent_dims: int
    r_clip: float
    def __init__(self) -> None: ...

class ProductCodesBox:
    num_subquantizers: int
    code_bits: int
    codes: bytes
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
    video: Optional[VideoBox]
    texture: Optional[TextureBox]
    scalar_quant: Optional[ScalarQuantBox]
    learned_model: Optional[LearnedModelBox]
    latent: Optional[LatentBox]
    product_codes: Optional[ProductCodesBox]
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
