"""FTM, the feature coding test model.

Compress deep-learning features (feature maps through real video codecs,
feature vectors through FTM's own entropy coder) and measure what the
compression costs the machine tasks that use them.
"""

from importlib.metadata import PackageNotFoundError, version

from ftm import codecs, data
from ftm._core import BitstreamError, num_threads, set_num_threads
from ftm.config import Config, ConfigError
from ftm.pack import PackLayout, pack, unpack
from ftm.quantize import (
    LogParams,
    MinMaxParams,
    QuantParams,
    dequantize,
    qstep,
    quantize,
    sq_dequantize,
    sq_quantize,
)
from ftm.retrieval import bubble_index, bubble_index_batch, inversion_count
from ftm.streams import EncodeResult, StreamVerificationError, decode, decode_all, encode, encode_tensors
from ftm.entropy import decode_levels, encode_levels
from ftm.vectors import VectorPayload, decode_vectors, encode_vectors

try:
    __version__ = version("ftm")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "BitstreamError",
    "Config",
    "ConfigError",
    "EncodeResult",
    "StreamVerificationError",
    "codecs",
    "data",
    "decode",
    "decode_all",
    "encode",
    "encode_tensors",
    "LogParams",
    "MinMaxParams",
    "PackLayout",
    "QuantParams",
    "VectorPayload",
    "__version__",
    "bubble_index",
    "bubble_index_batch",
    "decode_levels",
    "decode_vectors",
    "dequantize",
    "encode_levels",
    "encode_vectors",
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
