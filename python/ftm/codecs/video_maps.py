"""Feature maps through a video codec: the codec of ``FeatureKind : map`` records.

Encoding (Chen et al., "Lossy Intermediate Deep Learning Feature
Compression and Evaluation", ACM MM 2019, section 3.1): pre-quantize
(eq. 5/6, or min-max), repack into 4:0:0 frames padded to multiples of 8,
code them with a video encoder back end, and decode the result once with
the configured decoder, so that the record's checksums cover exactly what
every decoder reconstructs and the summary reports the real distortion.
Decoding inverts it. The record's boxes: QLOG or QMMX, PACK, and HEVC
for 4:0:0 HEVC payloads or VIDC for the other codecs and 4:2:0 carriers
(conformance/SPEC.md 3.2-3.6).
"""

from __future__ import annotations

import re
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from ftm._core import bitstream as container
from ftm.codecs.channel_order import SIMILARITY, similarity_order
from ftm.codecs.options import DecodeOptions
from ftm.codecs.tensor_codec import CodedTensor, DecodeCost, DecodedTensor, TensorCodec
from ftm.codecs.video import AVS2, CODECS, DECODERS, ENCODERS, HEVC, INTER_CODINGS, VVC, Decoder, Encoder
from ftm.errors import BitstreamError, ConfigError, InputError
from ftm.kernels.pack import PackLayout, pack, unpack
from ftm.kernels.quantize import MAX_BITS, MIN_BITS, LogParams, MinMaxParams, QuantParams, dequantize, quantize
from ftm.settings import Key, boolean, choice_of, int_in, optional_float

__all__ = ["MapCodec", "VideoPayloadCodec", "quant_params_of", "layout_of", "payload_of", "psnr"]

# The VIDC box's codec_id and chroma_format_idc (SPEC.md 3.6); 4:0:0 HEVC payloads keep the HEVC box (3.5),
# so codec_id 0 comes with 4:2:0 only.
VIDC_CODEC_IDS = {HEVC: 0, VVC: 1, AVS2: 2}
VIDC_CHROMA_IDS = {400: 0, 420: 1}


def _grid(text: str) -> Optional[Tuple[int, int]]:
    """auto | RxC"""
    if text in ("", "auto"):
        return None
    m = re.fullmatch(r"(\d+)\s*[xX]\s*(\d+)", text)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise ValueError(f"expected 'auto' or ROWSxCOLS such as 4x8, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _permutation(text: str):
    """comma-separated channel indices, 'similarity' (the encoder's greedy order), or empty for the original order"""
    if text in ("", "keep"):
        return None
    if text == SIMILARITY:
        return SIMILARITY
    try:
        perm = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"expected comma-separated channel indices, got {text!r}") from None
    if sorted(perm) != list(range(len(perm))):
        raise ValueError(f"expected each channel index 0..{len(perm) - 1} once, got {text!r}")
    return perm


def quantize_map(x: np.ndarray, cfg) -> Tuple[np.ndarray, QuantParams]:
    if cfg.quantizer == "log":
        return quantize(x, "log", cfg.bit_depth, nonnegative=cfg.log_nonnegative)
    if cfg.minmax_range == "fixed":
        return quantize(x, "minmax", cfg.bit_depth, value_range=(cfg.minmax_low, cfg.minmax_high))
    return quantize(x, "minmax", cfg.bit_depth, per_channel=cfg.minmax_range == "channel", channel_axis=1)


def psnr(reference: np.ndarray, decoded: np.ndarray, bits: int) -> float:
    err = np.mean((reference.astype(np.float64) - decoded.astype(np.float64)) ** 2)
    return float("inf") if err == 0 else float(10 * np.log10((2**bits - 1) ** 2 / err))


def _quant_box(params: QuantParams, record: "container.TensorRecord") -> None:
    if isinstance(params, LogParams):
        box = container.LogQuantBox()
        box.bit_depth, box.nonnegative = params.bits, params.nonnegative
        box.offset, box.max_log = params.offset, params.max_log
        record.log_quant = box
    else:
        box = container.MinMaxQuantBox()
        box.bit_depth = params.bits
        box.channel_axis = 255 if params.channel_axis is None else params.channel_axis
        box.lo, box.hi = list(params.lo), list(params.hi)
        record.minmax_quant = box


def _payload_box(video, qp: int, encoder_id: int, record: "container.TensorRecord") -> None:
    """The record's payload box: HEVC for 4:0:0 HEVC (as FTM 0.1 wrote it), VIDC for the rest."""
    if video.codec == HEVC and video.chroma_format == 400:
        box = container.HevcBox()
    else:
        box = container.VideoBox()
        box.codec_id = VIDC_CODEC_IDS[video.codec]
        box.chroma_format_idc = VIDC_CHROMA_IDS[video.chroma_format]
    box.coded_bit_depth, box.qp, box.encoder_id = video.coded_bits, qp, encoder_id
    box.payload = video.bitstream
    if isinstance(box, container.HevcBox):
        record.hevc = box
    else:
        record.video = box


def payload_of(record: "container.TensorRecord") -> Tuple[bytes, str, int]:
    """(payload, codec, chroma format) of a feature-map record."""
    if record.hevc is not None:
        return record.hevc.payload, HEVC, 400
    box = record.video
    codecs = {v: k for k, v in VIDC_CODEC_IDS.items()}
    chromas = {v: k for k, v in VIDC_CHROMA_IDS.items()}
    if box is None or box.codec_id not in codecs or box.chroma_format_idc not in chromas:
        raise BitstreamError(f"tensor {record.name!r}: no video payload this FTM decodes")  # the parser rejects these
    return box.payload, codecs[box.codec_id], chromas[box.chroma_format_idc]


def _pack_box(layout: PackLayout) -> "container.PackBox":
    box = container.PackBox()
    box.mode = container.PackMode.TILED if layout.mode == "tiled" else container.PackMode.CHANNEL
    box.grid_rows, box.grid_cols = layout.grid or (0, 0)
    box.permutation = list(layout.permutation or ())
    return box


def quant_params_of(record: "container.TensorRecord") -> QuantParams:
    if record.log_quant is not None:
        q = record.log_quant
        return LogParams(q.bit_depth, q.offset, q.max_log, q.nonnegative)
    q = record.minmax_quant
    axis = None if q.channel_axis == 255 else q.channel_axis
    return MinMaxParams(q.bit_depth, tuple(q.lo), tuple(q.hi), axis)


def layout_of(record: "container.TensorRecord") -> PackLayout:
    p = record.pack
    tiled = p.mode == container.PackMode.TILED
    return PackLayout.create(
        "tiled" if tiled else "channel",
        record.dims,
        grid=(p.grid_rows, p.grid_cols) if tiled else None,
        permutation=p.permutation or None,
    )




class VideoPayloadCodec(TensorCodec):
    """What the codecs of video payloads (feature maps, images) share: a decoder from the user's choices,
    and the names and versions of the back ends that code and decode. ``cls(encoder, decoder)`` builds one."""

    encoder: Optional[Encoder]
    decoder: Decoder

    @classmethod
    def for_decoding(cls, options: DecodeOptions):
        if options.decoder not in DECODERS:
            raise ConfigError(f"unknown video decoder {options.decoder!r}; expected one of {', '.join(DECODERS)}")
        return cls(None, DECODERS[options.decoder].from_options(options))

    def describe(self) -> Tuple[str, str]:
        coder = self.encoder if self.encoder is not None else self.decoder
        return coder.name, coder.version()

    def describe_decoder(self) -> Tuple[str, str]:
        return self.decoder.name, self.decoder.version()


class MapCodec(VideoPayloadCodec):
    """N x C x H x W feature maps: pre-quantizer, frame packing and a video encoder/decoder pair."""

    name = "map"
    kind = container.FeatureKind.MAP
    ndim = 4
    layout = "feature maps must be N x C x H x W"
    carries_info = True
    progress_unit = "frame"
    keys = (
        Key("Quantizer", "quantizer", choice_of("log", "minmax"), "pre-quantizer: logarithmic (seed 002 eq. 5) or uniform min-max"),
        Key("BitDepth", "bit_depth", int_in(MIN_BITS, MAX_BITS), "bits per quantized value"),
        Key("LogNonNegative", "log_nonnegative", boolean, "log quantizer with m fixed at 0 (log2(x + 1)); negative input is an error"),
        Key("MinMaxRange", "minmax_range", choice_of("tensor", "channel", "fixed"), "min-max range: the tensor's, per channel, or MinMaxLow..MinMaxHigh"),
        Key("MinMaxLow", "minmax_low", optional_float, "fixed range low end (MinMaxRange : fixed)"),
        Key("MinMaxHigh", "minmax_high", optional_float, "fixed range high end (MinMaxRange : fixed)"),
        Key("Packing", "packing", choice_of("channel", "tiled"), "one frame per channel, or each sample's channels tiled in one frame"),
        Key("TileGrid", "tile_grid", _grid, "tile grid ROWSxCOLS for Packing : tiled, or auto (near-square)"),
        Key("ChannelOrder", "channel_order", _permutation,
            "frame/tile k holds channel ChannelOrder[k] (empty: original order; similarity: each tensor's channels "
            "in greedy nearest-neighbour order, chosen by the encoder and carried in the stream)"),
        Key("Encoder", "encoder", choice_of(*ENCODERS), "video encoder back end"),
        Key("Decoder", "decoder", choice_of(*DECODERS), "video decoder back end"),
        Key("QPOffset", "qp_offset", int_in(-64, 64),
            "added to QP for the video encoder (BitDepth 10 at -12: the codec's step of 8-bit coding at QP)"),
        Key("IntraPeriod", "intra_period", int_in(1, 1 << 30), "frames per intra period; 1 is all-intra"),
        Key("InterCoding", "inter_coding", choice_of(*INTER_CODINGS),
            "prediction when IntraPeriod > 1: randomaccess (pictures reordered, B pictures) or lowdelay "
            "(input order, references to earlier pictures only)"),
        Key("Threads", "threads", int_in(0, 1024),
            "encoder worker threads (0: the encoder's choice, vvenc: one; HM and xavs2 run on one); the bitstream does not depend on it"),
        Key("BatchedCoding", "batched_coding", boolean,
            "1: the tensors of a stream that share a frame size go through one encoder and one decoder process "
            "where the back end allows it (docs/codecs.md); 0: processes per tensor. The bitstream is the same"),
    )

    def __init__(self, encoder: Optional[Encoder], decoder: Decoder, cfg=None) -> None:
        self.encoder = encoder
        self.decoder = decoder
        self.cfg = cfg

    @classmethod
    def check_config(cls, cfg, at) -> None:
        if cfg.minmax_range == "fixed" and cfg.quantizer == "minmax":
            if cfg.minmax_low is None or cfg.minmax_high is None:
                raise ConfigError(f"{at('minmax_range')}MinMaxRange : fixed needs MinMaxLow and MinMaxHigh")
            if not cfg.minmax_low < cfg.minmax_high:
                raise ConfigError(
                    f"{at('minmax_low')}MinMaxLow ({cfg.minmax_low}) must be below MinMaxHigh ({cfg.minmax_high})"
                )
        if cfg.tile_grid is not None and cfg.packing != "tiled":
            raise ConfigError(f"{at('tile_grid')}TileGrid applies to Packing : tiled only")
        encoder, decoder = ENCODERS[cfg.encoder], DECODERS[cfg.decoder]
        depths = encoder.__dict__.get("coded_depths")  # a tuple when the class knows it without running the tool
        if isinstance(depths, tuple) and cfg.bit_depth > max(depths):
            raise ConfigError(f"{at('bit_depth')}Encoder : {cfg.encoder} codes samples of at most {max(depths)} bits "
                              f"(its coded depths: {', '.join(map(str, depths))}); BitDepth is {cfg.bit_depth}")  # fmt: skip
        if encoder.codec not in decoder.codecs:
            able = ", ".join(name for name, cls in DECODERS.items() if encoder.codec in cls.codecs)
            raise ConfigError(f"{at('decoder')}Decoder : {cfg.decoder} decodes "
                              f"{', '.join(CODECS[c] for c in decoder.codecs)}; Encoder : {cfg.encoder} writes "
                              f"{CODECS[encoder.codec]} (decoders for it: {able})")  # fmt: skip
        if cfg.intra_period > 1 and cfg.inter_coding not in encoder.inter_codings:
            offered = ", ".join(encoder.inter_codings) or "none: it codes all-intra only (IntraPeriod 1)"
            raise ConfigError(f"{at('intra_period')}Encoder : {cfg.encoder} offers InterCoding {offered}; "
                              f"IntraPeriod {cfg.intra_period} with InterCoding {cfg.inter_coding} was asked for")  # fmt: skip
        lowest, highest = encoder.qp_limits(encoder.nominal_depth(cfg.bit_depth))
        coded = cfg.qp + cfg.qp_offset
        if not lowest <= coded <= highest:
            offset = f" + QPOffset {cfg.qp_offset}" if cfg.qp_offset else ""
            raise ConfigError(f"{at('qp')}QP {cfg.qp}{offset} is outside [{lowest}, {highest}], "
                              f"{encoder.qp_range_name} at BitDepth {cfg.bit_depth}")  # fmt: skip

    @classmethod
    def for_encoding(cls, cfg) -> "MapCodec":
        options = DecodeOptions(decoder=cfg.decoder, hm_dir=cfg.hm_dir, vtm_dir=cfg.vtm_dir)
        return cls(ENCODERS[cfg.encoder].from_config(cfg), DECODERS[cfg.decoder].from_options(options), cfg)

    def encode(
        self, x: np.ndarray, record: "container.TensorRecord", progress: Optional[Callable[[int, int], None]] = None
    ) -> CodedTensor:
        return self.encode_batch([x], [record], progress)[0]

    def encode_batch(self, xs, records, progress=None) -> List[CodedTensor]:
        """Each tensor its own quantizer and frames; with BatchedCoding, one encoder and one decoder
        process for the tensors of each frame size (the streams are the same either way)."""
        cfg = self.cfg
        if self.encoder is None:
            raise RuntimeError("this MapCodec was set up for decoding only")
        prepared = [self._prepare(x, record) for x, record in zip(xs, records)]
        groups: Dict[Tuple[int, int], List[int]] = {}
        for i, (_, _, frames, _) in enumerate(prepared):
            groups.setdefault(tuple(frames.shape[1:]) if cfg.batched_coding else (i, -1), []).append(i)
        total = sum(p[2].shape[0] for p in prepared)
        done = 0
        out: List[Optional[CodedTensor]] = [None] * len(prepared)
        for members in groups.values():
            sequences = [prepared[i][2] for i in members]
            step = None if progress is None else (lambda n, base=done: progress(base + n, total))
            videos = self.encoder.encode_sequences(sequences, cfg.bit_depth, cfg.qp + cfg.qp_offset, step)
            done += sum(len(f) for f in sequences)
            t0 = time.perf_counter()
            height, width = sequences[0].shape[1:]
            counts = [len(f) for f in sequences]
            decoded = self.decoder.decode_sequences([v.bitstream for v in videos], counts, height, width, cfg.bit_depth,
                                                    videos[0].codec, videos[0].chroma_format)  # fmt: skip
            share = (time.perf_counter() - t0) / len(members)  # decoded frames of one process: shared out
            for i, video, frames in zip(members, videos, decoded):
                out[i] = self._finish(prepared[i], records[i], video, frames, share)
        return out

    def _prepare(self, x: np.ndarray, record: "container.TensorRecord"):
        cfg = self.cfg
        if isinstance(cfg.channel_order, tuple) and len(cfg.channel_order) != x.shape[1]:
            raise InputError(f"ChannelOrder lists {len(cfg.channel_order)} channels; tensor {record.name!r} has {x.shape[1]}")
        codes, params = quantize_map(x, cfg)
        order = similarity_order(codes) if cfg.channel_order == SIMILARITY else cfg.channel_order
        frames, layout = pack(codes, cfg.packing, grid=cfg.tile_grid, permutation=order)
        return codes, params, frames, layout

    def _finish(self, prepared, record, video, decoded, decode_share: float) -> CodedTensor:
        """The record's boxes and what its decoder reconstructs."""
        cfg = self.cfg
        codes, params, _, layout = prepared
        t0 = time.perf_counter()
        decoded_codes = unpack(decoded.frames, layout)
        features = dequantize(decoded_codes, params)
        decode_seconds = decode_share + time.perf_counter() - t0
        _quant_box(params, record)
        record.pack = _pack_box(layout)
        _payload_box(video, cfg.qp + cfg.qp_offset, self.encoder.stream_id, record)
        return CodedTensor(
            codes=decoded_codes,
            features=features,
            encoder_seconds=video.seconds,
            decoder_seconds=decoded.seconds,
            decode_seconds=decode_seconds,
            bit_depth=cfg.bit_depth,
            frames_psnr=psnr(codes, decoded_codes, cfg.bit_depth),
            num_frames=layout.num_frames,
            frame_shape=layout.frame_shape,
        )

    def decode(self, record: "container.TensorRecord") -> DecodedTensor:
        return self.decode_batch([record])[0]

    def decode_cost(self, record: "container.TensorRecord") -> DecodeCost:
        """The pictures a decoder writes (frames padded to multiples of 8, at least 32 x 32 for AVS2, 4:2:0
        carriers with their chroma, at the coded depth), the codes, the features."""
        layout = layout_of(record)
        _, codec, chroma = payload_of(record)
        box = record.hevc if record.hevc is not None else record.video
        height, width = layout.frame_shape
        if codec == AVS2:  # AVS2 has no cropping window: decoders output the padded pictures (SPEC.md 3.6)
            height, width = max(height, 32), max(width, 32)
        elements = int(np.prod(layout.shape, dtype=object))
        samples = layout.num_frames * height * width
        code_bytes = 1 if quant_params_of(record).bits == 8 else 2
        frame_bytes = (1 if box.coded_bit_depth == 8 else 2) * (1.5 if chroma == 420 else 1)
        return DecodeCost(max(elements, samples), int(samples * frame_bytes) + elements * (code_bytes + 4))

    def decode_batch(self, records) -> List[DecodedTensor]:
        """Video decode, depack, dequantize; records of one frame and payload format share one decoder process."""
        plans = [(quant_params_of(r), layout_of(r), payload_of(r)) for r in records]
        groups: Dict[tuple, List[int]] = {}
        for i, (params, layout, (_, codec, chroma)) in enumerate(plans):
            groups.setdefault((*layout.frame_shape, params.bits, codec, chroma), []).append(i)
        out: List[Optional[DecodedTensor]] = [None] * len(records)
        for (height, width, bits, codec, chroma), members in groups.items():
            counts = [plans[i][1].num_frames for i in members]
            payloads = [plans[i][2][0] for i in members]
            videos = self.decoder.decode_sequences(payloads, counts, height, width, bits, codec, chroma)
            for i, video in zip(members, videos):
                params, layout, _ = plans[i]
                codes = unpack(video.frames, layout)
                out[i] = DecodedTensor(codes, dequantize(codes, params), video.seconds)
        return out
