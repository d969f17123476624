"""PQ and OPQ records: fixed-length product codes in the PQCD box (:mod:`ftm.codecs.learned.product_codes`)."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ftm._core import bitstream as container
from ftm.codecs.learned.product_codes import pack_codes, pq_decode, pq_encode, unpack_codes
from ftm.errors import BitstreamError

__all__ = ["decode", "encode"]


def encode(model, x: np.ndarray, record) -> None:
    arch = model.architecture
    box = container.ProductCodesBox()
    box.num_subquantizers, box.code_bits = arch["num_subquantizers"], arch["code_bits"]
    box.codes = pack_codes(pq_encode(model.weights, x), arch["code_bits"])
    record.product_codes = box


def decode(model, record) -> Tuple[np.ndarray, np.ndarray]:
    arch, box = model.architecture, record.product_codes
    if (box.num_subquantizers, box.code_bits) != (arch["num_subquantizers"], arch["code_bits"]):
        raise BitstreamError(f"tensor {record.name!r}, box PQCD: {box.num_subquantizers} codes of {box.code_bits} bits "
                             f"per vector do not match the model's {arch['num_subquantizers']} of {arch['code_bits']}")  # fmt: skip
    codes = unpack_codes(box.codes, record.dims[0], box.num_subquantizers, box.code_bits)
    return codes, pq_decode(model.weights, codes)
