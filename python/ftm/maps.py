"""Feature maps through a video codec: one tensor record of a stream.

Encoding (seed 002 3.1): pre-quantize, repack into 4:0:0 frames, code them
with an HEVC encoder, and decode the result once, so that the record can
carry checksums of exactly what every decoder will reconstruct and the
summary can report the real distortion. Decoding inverts it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ftm import _core
from ftm.codecs import Decoder, Encoder
from ftm.config import Config
from ftm.pack import PackLayout, pack, unpack
from ftm.quantize import LogParams, MinMaxParams, QuantParams, dequantize, quantize
from ftm.records import hash_box, new_record, reconstruction_error, source_tensor

__all__ = ["MapResult", "encode_map", "decode_map", "quant_params_of", "layout_of"]

ENCODER_IDS = {"x265-ffmpeg": 0, "x265": 1, "hm": 2}


@dataclass(frozen=True)
class MapResult:
    """One coded feature map, with what its decoder will reconstruct."""

    record: "_core.TensorRecord"
    codes: np.ndarray  # decoded integer tensor
    features: np.ndarray  # decoded float32 tensor
    frames_psnr: float  # PSNR (dB) of the decoded codes against the quantized ones, peak 2^B - 1
    mse: float  # feature-domain mean squared error after dequantization
    max_error: float
    encoder_seconds: float  # inside the external encoder
    decoder_seconds: float  # inside the external decoder
    decode_seconds: float  # the whole decode: external decoder, depack, dequantize
    num_frames: int
    frame_shape: Tuple[int, int]


def quantize_map(x: np.ndarray, cfg: Config) -> Tuple[np.ndarray, QuantParams]:
    if cfg.quantizer == "log":
        return quantize(x, "log", cfg.bit_depth, nonnegative=cfg.log_nonnegative)
    if cfg.minmax_range == "fixed":
        return quantize(x, "minmax", cfg.bit_depth, value_range=(cfg.minmax_low, cfg.minmax_high))
    return quantize(x, "minmax", cfg.bit_depth, per_channel=cfg.minmax_range == "channel", channel_axis=1)


def psnr(reference: np.ndarray, decoded: np.ndarray, bits: int) -> float:
    err = np.mean((reference.astype(np.float64) - decoded.astype(np.float64)) ** 2)
    return float("inf") if err == 0 else float(10 * np.log10((2**bits - 1) ** 2 / err))


def _quant_box(params: QuantParams, record: "_core.TensorRecord") -> None:
    if isinstance(params, LogParams):
        box = _core.LogQuantBox()
        box.bit_depth, box.nonnegative = params.bits, params.nonnegative
        box.offset, box.max_log = params.offset, params.max_log
        record.log_quant = box
    else:
        box = _core.MinMaxQuantBox()
        box.bit_depth = params.bits
        box.channel_axis = 255 if params.channel_axis is None else params.channel_axis
        box.lo, box.hi = list(params.lo), list(params.hi)
        record.minmax_quant = box


def _pack_box(layout: PackLayout) -> "_core.PackBox":
    box = _core.PackBox()
    box.mode = _core.PackMode.TILED if layout.mode == "tiled" else _core.PackMode.CHANNEL
    box.grid_rows, box.grid_cols = layout.grid or (0, 0)
    box.permutation = list(layout.permutation or ())
    return box


def quant_params_of(record: "_core.TensorRecord") -> QuantParams:
    if record.log_quant is not None:
        q = record.log_quant
        return LogParams(q.bit_depth, q.offset, q.max_log, q.nonnegative)
    q = record.minmax_quant
    axis = None if q.channel_axis == 255 else q.channel_axis
    return MinMaxParams(q.bit_depth, tuple(q.lo), tuple(q.hi), axis)


def layout_of(record: "_core.TensorRecord") -> PackLayout:
    p = record.pack
    tiled = p.mode == _core.PackMode.TILED
    return PackLayout.create(
        "tiled" if tiled else "channel",
        record.dims,
        grid=(p.grid_rows, p.grid_cols) if tiled else None,
        permutation=p.permutation or None,
    )


def encode_map(
    x: np.ndarray,
    name: str,
    cfg: Config,
    encoder: Encoder,
    decoder: Decoder,
    info: Optional[str] = None,
) -> MapResult:
    """Code one N x C x H x W float tensor into a tensor record."""
    a = source_tensor(x, name, 4, "feature maps must be N x C x H x W")
    if cfg.channel_order is not None and len(cfg.channel_order) != a.shape[1]:
        raise ValueError(f"ChannelOrder lists {len(cfg.channel_order)} channels; tensor {name!r} has {a.shape[1]}")
    codes, params = quantize_map(a, cfg)
    frames, layout = pack(codes, cfg.packing, grid=cfg.tile_grid, permutation=cfg.channel_order)
    video = encoder.encode(frames, cfg.bit_depth, cfg.qp)
    t0 = time.perf_counter()
    decoded = decoder.decode(video.bitstream, layout.num_frames, *layout.frame_shape, cfg.bit_depth)
    decoded_codes = unpack(decoded.frames, layout)
    features = dequantize(decoded_codes, params)
    decode_seconds = time.perf_counter() - t0

    record = new_record(a, name, _core.FeatureKind.MAP)
    _quant_box(params, record)
    record.pack = _pack_box(layout)
    hevc = _core.HevcBox()
    hevc.coded_bit_depth, hevc.qp = video.coded_bits, cfg.qp
    hevc.encoder_id = ENCODER_IDS.get(video.encoder, 255)
    hevc.payload = video.bitstream
    record.hevc = hevc
    record.hash = hash_box(decoded_codes, features)
    if info:
        record.info = info

    mse, max_error = reconstruction_error(features, a)
    return MapResult(
        record=record,
        codes=decoded_codes,
        features=features,
        frames_psnr=psnr(codes, decoded_codes, cfg.bit_depth),
        mse=mse,
        max_error=max_error,
        encoder_seconds=video.seconds,
        decoder_seconds=decoded.seconds,
        decode_seconds=decode_seconds,
        num_frames=layout.num_frames,
        frame_shape=layout.frame_shape,
    )


@dataclass(frozen=True)
class DecodedMap:
    codes: np.ndarray
    features: np.ndarray
    decoder_seconds: float


def decode_map(record: "_core.TensorRecord", decoder: Decoder) -> DecodedMap:
    """Reconstruct a feature-map record: HEVC decode, depack, dequantize."""
    params = quant_params_of(record)
    layout = layout_of(record)
    video = decoder.decode(record.hevc.payload, layout.num_frames, *layout.frame_shape, params.bits)
    codes = unpack(video.frames, layout)
    return DecodedMap(codes, dequantize(codes, params), video.seconds)

