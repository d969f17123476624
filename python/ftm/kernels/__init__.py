"""Kernels: thin Python wrappers of the C++ core (``ftm._core``), checked at the boundary.

- :mod:`~ftm.kernels.quantize`: the logarithmic and min-max pre-quantizers of
  feature maps (Chen et al., ACM MM 2019, eq. 5/6) and the HEVC-style scalar
  quantizer of feature vectors (Li et al., seed 003 eq. 1/2);
- :mod:`~ftm.kernels.pack`: repack N x C x H x W codes into 4:0:0 frames and back;
- :mod:`~ftm.kernels.bubble_index`: the bubble index between rankings
  (Chen et al., eq. 3 and Algorithm 1);
- :mod:`~ftm.kernels.level_coder`: FTM's CABAC-like coder of integer levels;
- :mod:`~ftm.kernels.threads`: the core's thread count.

Kernels import nothing from the rooms above them (codecs, stream, pipelines, tools).
"""

from ftm.kernels.bubble_index import bubble_index, bubble_index_batch, inversion_count
from ftm.kernels.level_coder import decode_levels, encode_levels
from ftm.kernels.pack import PackLayout, pack, unpack
from ftm.kernels.quantize import (
    LogParams,
    MinMaxParams,
    QuantParams,
    dequantize,
    qstep,
    quantize,
    sq_dequantize,
    sq_quantize,
)
from ftm.kernels.threads import num_threads, set_num_threads

__all__ = [
    "LogParams",
    "MinMaxParams",
    "PackLayout",
    "QuantParams",
    "bubble_index",
    "bubble_index_batch",
    "decode_levels",
    "dequantize",
    "encode_levels",
    "inversion_count",
    "num_threads",
    "pack",
    "qstep",
    "quantize",
    "set_num_threads",
    "sq_dequantize",
    "sq_quantize",
    "unpack",
]
