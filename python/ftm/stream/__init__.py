"""The .ftm stream: named tensor records coded by the codec each record's kind names.

- :mod:`~ftm.stream.coding`: ``encode``/``decode`` of whole streams; the
  stream layer dispatches on the codec registry (:data:`ftm.codecs.CODECS`);
- :mod:`~ftm.stream.records`: what every record shares (header, checksums);
- :mod:`~ftm.stream.config`: the codec configuration (HM-style keys);
- :mod:`~ftm.stream.summary`: the end-of-run table and JSON of ``ftm-encode``;
- :mod:`~ftm.stream.conformance`: checking streams against conformance/SPEC.md.

The container syntax itself (boxes, parsing with bounds checks, validation)
is in the C++ core (``ftm._core.bitstream``).
"""

from ftm.stream.coding import (
    EncodeResult,
    RecordDecoder,
    TensorReport,
    decode,
    decode_all,
    encode,
    encode_tensors,
    resolve_config,
)
from ftm.stream.config import KEYS, Config

__all__ = [
    "KEYS",
    "Config",
    "EncodeResult",
    "RecordDecoder",
    "TensorReport",
    "decode",
    "decode_all",
    "encode",
    "encode_tensors",
    "resolve_config",
]
