"""The codec of ``FeatureKind : learned`` records: N x D vectors coded by a trained model file.

The model file (``Model : FILE`` when encoding, ``--Model FILE`` when
decoding; :mod:`ftm.codecs.learned.model_file`) says the method: SQ-E, PRO,
PRO-E, PQ or OPQ (seed 001), or DMOFC (seed 000). The record's LMOD box carries the file's
sha256 and the method; a decoder given another model refuses the record.
Each method's payload is in its own module (:mod:`.sq_enhanced`,
:mod:`.latent`, :mod:`.product`).

The integer codes (latent levels, SQ levels, product codes) are the
normative part of a record; the float output of a network depends on the
platform's arithmetic, so the features MD5 of a learned record's hash box is
informative (``exact_features = False``): the stream layer checks the codes'
MD5 only.
"""

from __future__ import annotations

import time
from typing import Optional, Tuple

import numpy as np

from ftm._core import bitstream as container
from ftm._version import __version__
from ftm.codecs.learned import dmofc, latent, product, sq_enhanced
from ftm.codecs.learned.model_file import METHODS, ModelFile, read_model_file
from ftm.codecs.options import DecodeOptions
from ftm.codecs.tensor_codec import CodedTensor, DecodeCost, DecodedTensor, TensorCodec
from ftm.errors import BitstreamError, ConfigError, InputError
from ftm.settings import Key, choice_of, plain_text

__all__ = ["LearnedCodec"]

_PAYLOADS = {"sq-e": sq_enhanced, "pro": latent, "pro-e": latent, "pq": product, "opq": product, "dmofc": dmofc}
_METHOD_CODES = {name: getattr(container.LearnedMethod, name.upper().replace("-", "_")) for name in METHODS}


class LearnedCodec(TensorCodec):
    """N x D feature vectors through a learned model: seed 001's SQ-E, PRO, PRO-E, PQ, OPQ; seed 000's DMOFC."""

    name = "learned"
    kind = container.FeatureKind.LEARNED
    ndim = 2
    layout = "learned vector codecs code N x D vectors"
    keys = (
        Key("Model", "model_file", plain_text, "learned vectors: the model file written by ftm-train"),
        Key("LatentCoding", "latent_coding", choice_of(*dmofc.LATENT_CODINGS),
            "DMOFC models: the 8-bit latent as fixed-length codes (IC bytes a vector) or level-coded (cabac)"),
    )  # fmt: skip
    exact_features = False
    progress_unit = "tensor"

    def __init__(self, model: Optional[ModelFile] = None, model_path: str = "", latent_coding: str = "fixed") -> None:
        self._model = model
        self._model_path = model_path
        self._latent_coding = latent_coding

    @classmethod
    def check_config(cls, cfg, at) -> None:
        if not cfg.model_file:
            raise ConfigError(f"{at('feature_kind')}FeatureKind : learned needs Model : FILE (a model file of ftm-train)")
        if cfg.origins.get("qp"):
            raise ConfigError(f"{at('qp')}QP does not apply to FeatureKind : learned: the model fixes the rate "
                              "(an SQ-E model, the QP it was trained for)")  # fmt: skip

    @classmethod
    def for_encoding(cls, cfg) -> "LearnedCodec":
        model = read_model_file(cfg.model_file)
        if cfg.latent_coding != "fixed" and model.method != "dmofc":
            raise ConfigError(f"{cfg.at('latent_coding')}LatentCoding applies to DMOFC models; {model.describe()} is not one")
        return cls(model, cfg.model_file, cfg.latent_coding)

    @classmethod
    def for_decoding(cls, options: DecodeOptions) -> "LearnedCodec":
        return cls(None, options.model)  # read when the first learned record comes

    @property
    def model(self) -> ModelFile:
        if self._model is None:
            if not self._model_path:
                raise ConfigError("the stream holds learned records: give the model file they were coded with (--Model FILE)")
            self._model = read_model_file(self._model_path)
        return self._model

    def describe(self) -> Tuple[str, str]:
        return "ftm-learned", __version__

    def encode(self, x: np.ndarray, record: "container.TensorRecord", progress=None) -> CodedTensor:
        model = self.model
        if x.shape[1] != model.dims:
            raise InputError(f"tensor {record.name!r}: {x.shape[1]}-d vectors, but {model.describe()} codes {model.dims}-d ones")
        if not np.all(np.isfinite(x)):
            raise InputError(f"tensor {record.name!r}: vectors must be finite")
        box = container.LearnedModelBox()
        box.model_sha256 = bytes.fromhex(model.sha256)
        box.method = _METHOD_CODES[model.method]
        record.learned_model = box
        if model.method == "dmofc":
            dmofc.encode(model, x, record, self._latent_coding)
        else:
            _PAYLOADS[model.method].encode(model, x, record)
        t0 = time.perf_counter()
        decoded = self.decode(record)  # what every decoder rebuilds from the record, once
        return CodedTensor(decoded.codes, decoded.features, decode_seconds=time.perf_counter() - t0)

    def decode_cost(self, record: "container.TensorRecord") -> DecodeCost:
        """The codes (at most N x the widest layer, int32) and the features; the state: two float32 activations
        of the widest layer of the model (or D) for each vector. The model bounds the width, the stream only N."""
        n, d = record.dims
        width = max([d] + [int(max(w.shape)) for w in self.model.weights.values() if w.ndim])
        return DecodeCost(n * max(d, width), 4 * n * (d + width), 8 * n * width)

    def decode(self, record: "container.TensorRecord") -> DecodedTensor:
        model = self.model
        digest = bytes(record.learned_model.model_sha256).hex()
        method = METHODS[int(record.learned_model.method.value)]
        if digest != model.sha256:
            raise BitstreamError(
                f"tensor {record.name!r} was coded with the {method} model of sha256 {digest}; "
                f"{model.describe()} is another model (sha256 {model.sha256}): give the model it was coded with"
            )
        if method != model.method:
            raise BitstreamError(f"tensor {record.name!r}: box LMOD says method {method}, the model is {model.method}")
        if record.dims[1] != model.dims:
            raise BitstreamError(f"tensor {record.name!r}: D = {record.dims[1]}, the model codes {model.dims}-d vectors")
        codes, features = _PAYLOADS[method].decode(model, record)
        return DecodedTensor(codes, features)
