"""FTM, the feature coding test model.

Compress deep-learning features (feature maps through real video codecs,
feature vectors through FTM's own entropy coder) and measure what the
compression costs the machine tasks that use them.

The package is a map of its architecture (docs/architecture.md): tools
(:mod:`ftm.cli`) call pipelines (:mod:`ftm.ctc`, :mod:`ftm.evaluation`,
:mod:`ftm.extract`), which call the stream (:mod:`ftm.stream`), which calls
codecs (:mod:`ftm.codecs`), which call kernels (:mod:`ftm.kernels`, thin
wrappers of the C++ core ``ftm._core``). Networks (:mod:`ftm.models`) and
metrics (:mod:`ftm.metrics`) are rooms of their own. This module gathers the
public API.
"""

# ftm.errors first: the C++ core's init takes BitstreamError from it.
from ftm.errors import (
    BitstreamError,
    CodecError,
    ConfigError,
    FtmError,
    InputError,
    StreamVerificationError,
)
from ftm import _moved
from ftm._version import __version__
from ftm import codecs, data
from ftm.codecs.sq_vectors import VectorPayload, decode_vectors, encode_vectors
from ftm.kernels import (
    LogParams,
    MinMaxParams,
    PackLayout,
    QuantParams,
    bubble_index,
    bubble_index_batch,
    decode_levels,
    dequantize,
    encode_levels,
    inversion_count,
    num_threads,
    pack,
    qstep,
    quantize,
    set_num_threads,
    sq_dequantize,
    sq_quantize,
    unpack,
)
from ftm.stream import Config, EncodeResult, decode, decode_all, encode, encode_tensors

_moved.install()

__all__ = [
    "BitstreamError",
    "CodecError",
    "Config",
    "ConfigError",
    "EncodeResult",
    "FtmError",
    "InputError",
    "LogParams",
    "MinMaxParams",
    "PackLayout",
    "QuantParams",
    "StreamVerificationError",
    "VectorPayload",
    "__version__",
    "bubble_index",
    "bubble_index_batch",
    "codecs",
    "data",
    "decode",
    "decode_all",
    "decode_levels",
    "decode_vectors",
    "dequantize",
    "encode",
    "encode_levels",
    "encode_tensors",
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


def __getattr__(name: str):
    # ftm.quantize & co. were attributes of the package in 0.1 (submodules it imported)
    old = f"ftm.{name}"
    if old in _moved.MOVED:
        import importlib

        _moved.warn_moved(old)
        return importlib.import_module(_moved.MOVED[old])
    raise AttributeError(f"module 'ftm' has no attribute {name!r}")
