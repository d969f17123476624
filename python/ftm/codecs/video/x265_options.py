"""What both x265 back ends share: their options, the parameters FTM fixes, and the checks of what x265 wrote.

The options are checked once, when a back end is made; ``x265_settings``
gives the x265 parameters FTM fixes for reproducible constant-QP coding;
``finish_stream`` tidies and checks the elementary stream x265 wrote.
"""

from __future__ import annotations

import re
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

from ftm.codecs.video import batching, hevc_slices, hevc_syntax, raw_frames
from ftm.codecs.video.backend_options import PRESET_KEY, check_inter, check_threads
from ftm.codecs.video.base import EncodedVideo, Encoder, check_frames, check_qp
from ftm.errors import CodecError

__all__ = ["X265Options", "X265_MIN_SIDE", "X265_PRESETS", "X265_TUNES", "ctu_size", "finish_stream"]

X265_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
X265_TUNES = ("psnr", "ssim", "grain", "zerolatency", "fastdecode", "animation")

# x265 cannot code a picture smaller than one CTU, and its smallest CTU is 16.
X265_MIN_SIDE = 16

# Settings FTM fixes; x265_params may not override them.
_FIXED_X265 = (
    "repeat-headers",
    "qp",
    "ipratio",
    "pbratio",
    "keyint",
    "min-keyint",
    "scenecut",
    "info",
    "hash",
    "log-level",
    "input-depth",
    "output-depth",
)
_X265_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def ctu_size(height: int, width: int) -> int:
    """The largest CTU (64, 32, 16) that fits the picture: x265 cannot code a picture smaller than one."""
    side = min(height, width)
    return 64 if side >= 64 else 32 if side >= 32 else 16


def check_x265_params(params: Optional[Mapping[str, object]]) -> Dict[str, Optional[str]]:
    """Extra x265 parameters, {name: value}; None stands for a flag given as True."""
    out: Dict[str, Optional[str]] = {}
    for key, value in (params or {}).items():
        if not isinstance(key, str) or not _X265_KEY.match(key):
            raise ValueError(f"x265 parameter names are lower-case words joined by '-', got {key!r}")
        if key in _FIXED_X265 or (key.startswith("no-") and key[3:] in _FIXED_X265):
            raise ValueError(f"x265 parameter {key!r} is set by FTM and cannot be overridden")
        if value is True:
            out[key] = None
            continue
        if isinstance(value, bool) or value is None:
            raise ValueError(
                f"x265 parameter {key}: give a value, or True for a flag (negate with 'no-{key}')"
            )
        text = str(value)
        if not text or ":" in text or "=" in text or any(c.isspace() for c in text):
            raise ValueError(
                f"x265 parameter {key}={text!r}: values must be non-empty without ':', '=' or spaces"
            )
        out[key] = text
    return out


def check_choice(
    name: str, value: Optional[str], choices: Tuple[str, ...], allow_none: bool = False
) -> Optional[str]:
    if value is None and allow_none:
        return None
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def finish_stream(stream: bytes, height: int, width: int, coded_bits: int, what: str, command, chroma_format_idc: int = 0) -> bytes:
    """Tidy an x265 stream (one slice header flag made canonical, :mod:`.hevc_slices`) and check it."""
    if not stream:
        raise CodecError(f"{what} wrote an empty bitstream", command)
    try:
        stream, info = hevc_syntax.tidy(stream, width, height)
    except CodecError as exc:
        raise CodecError(f"{what} wrote a stream FTM cannot read: {exc.message}", command) from exc
    stream = hevc_slices.canonical_intra_slices(stream) or stream
    if (
        info.chroma_format_idc != chroma_format_idc
        or info.bit_depth != coded_bits
        or (info.width, info.height) != (width, height)
    ):
        raise CodecError(
            f"{what} coded {info.width} x {info.height} pictures, chroma_format_idc {info.chroma_format_idc}, "
            f"at {info.bit_depth} bits; asked for {width} x {height}, chroma_format_idc {chroma_format_idc}, "
            f"at {coded_bits} bits",
            command,
        )
    return stream


class X265Options:
    """The options both x265 back ends take, checked once, and the x265
    parameters FTM fixes from them."""

    keys = (PRESET_KEY,)

    @classmethod
    def from_config(cls, cfg):
        """The encoder a codec configuration asks for: its IntraPeriod, InterCoding, Preset and Threads."""
        options = {"intra_period": cfg.intra_period, "inter_coding": cfg.inter_coding}
        if cfg.preset:
            options["preset"] = cfg.preset
        if cfg.threads:
            options["threads"] = cfg.threads
        return cls(**options)

    def _set_x265_options(
        self,
        preset: str,
        tune: Optional[str],
        intra_period: int,
        picture_hash: bool,
        threads: Optional[int],
        x265_params: Optional[Mapping[str, object]],
        inter_coding: str = "randomaccess",
    ) -> None:
        self.preset = check_choice("preset", preset, X265_PRESETS)
        self.tune = check_choice("tune", tune, X265_TUNES, allow_none=True)
        self.intra_period, self.inter_coding = check_inter(self.name, intra_period, inter_coding)
        self.picture_hash = bool(picture_hash)
        self.threads = check_threads(threads)
        self.x265_params = check_x265_params(x265_params)
        if self.intra_period > 1 and self.inter_coding == "lowdelay" and "bframes" in self.x265_params:
            raise ValueError("x265 parameter 'bframes' is set by FTM for inter_coding lowdelay (0: no B pictures)")

    def x265_settings(self, qp: int) -> Dict[str, str]:
        """The x265 parameters both back ends fix.

        ipratio/pbratio 1: the same QP on I, P and B pictures (x265 otherwise
        codes I pictures at QP - 3 in constant-QP mode). info 0: no SEI with the
        encoder's options, which hold the CPU's feature bits and would make the
        bytes depend on the machine. pools/frame-threads: the thread count, when
        one is given (it does not change the bytes). With an intra period above
        1: an intra picture exactly every intra_period pictures (min-keyint =
        keyint, no scene-cut detection, which would put intra pictures
        wherever two channels differ); random access keeps x265's B pictures
        (the preset's count, adaptive placement, pyramid), low delay has none
        (bframes 0: P pictures in input order).
        """
        settings = {
            "qp": str(qp),
            "ipratio": "1",
            "pbratio": "1",
            "keyint": str(self.intra_period),
            "info": "0",
            "hash": "1" if self.picture_hash else "0",
            # parameter sets before every IDR picture: each image of a batch then starts a standalone
            # stream (FTM drops the repeats of each stream, so this costs no byte)
            "repeat-headers": "1",
        }
        if self.intra_period > 1:
            settings.update({"min-keyint": str(self.intra_period), "scenecut": "0"})
            if self.inter_coding == "lowdelay":
                settings["bframes"] = "0"
        if self.threads is not None:
            settings["pools"] = str(self.threads)
            settings["frame-threads"] = str(min(self.threads, 16))
        return settings

    # What the back end provides: run x265 on raw frames of ``bits``-bit samples
    # coded at ``coded_bits`` (padded to at least X265_MIN_SIDE from ``size``,
    # the frames' own height and width), returning the elementary stream, the
    # seconds the tool ran, the command, and the reconstruction (cropped to
    # ``size``) when it was asked for one.
    def _run_x265(self, raw, coded_bits: int, bits: int, qp: int, progress, size) -> Tuple[bytes, float, list, Optional[object]]:
        raise NotImplementedError

    def _can_batch(self) -> bool:
        return self.intra_period == 1

    def encode(self, frames, bits: int, qp: int, progress=None) -> EncodedVideo:
        return self.encode_sequences([frames], bits, qp, progress)[0]

    def encode_sequences(self, sequences, bits: int, qp: int, progress=None):
        """All sequences in one x265 run when all-intra; one run each otherwise (:mod:`.batching`)."""
        sequences = [check_frames(frames, bits) for frames in sequences]
        shapes = {frames.shape[1:] for frames in sequences}
        if len(shapes) != 1:
            raise ValueError(f"one encode_sequences call codes one frame shape, got {sorted(shapes)}")
        (height, width), = shapes
        coded_bits = self.coded_bits(bits)
        qp = check_qp(qp, coded_bits)
        counts = [len(frames) for frames in sequences]
        if len(sequences) > 1 and not self._can_batch():
            return Encoder.encode_sequences(self, sequences, bits, qp, progress)
        raw = raw_frames.pad_to(raw_frames.to_raw(np.concatenate(sequences), coded_bits), X265_MIN_SIDE)
        stream, seconds, command, recon = self._run_x265(raw, coded_bits, bits, qp, progress, (height, width))
        parts = [stream] if len(sequences) == 1 else batching.split_sequences(stream, counts, self.name)
        if parts is None:  # a stream FTM does not canonicalize: code the sequences one by one
            return Encoder.encode_sequences(self, sequences, bits, qp, progress)
        total = sum(counts)
        return [
            EncodedVideo(
                finish_stream(part, height, width, coded_bits, self.name, command), self.name, self.version(),
                coded_bits, seconds * count / total, recon,
            )  # fmt: skip
            for part, count in zip(parts, counts)
        ]
