"""AVS2 (GB/T 33475.2, IEEE 1857.4) through libxavs2 in imageio-ffmpeg's ffmpeg, decoded by libdavs2.

AVS2's profiles code 4:2:0 pictures only, and FFmpeg's libxavs2 wrapper takes
8-bit yuv420p: the frames travel as the luma plane of 4:2:0 pictures with
flat chroma (``chroma_format`` 420 in the stream), 8-bit samples only.

What FTM fixes, and why:

* ``MinQP=0``, ``MaxQP=63``, ``RefineQP=0``: xavs2 clamps every picture's QP
  to [20, 63] even without rate control (QP 12 was coded at 20), and
  "refined QP" moves the QP of B pictures; so the intra pictures are coded
  at the QP asked for, and inter pictures at the offsets of xavs2's GOP.
* Pictures at least 32 x 32 and the largest coding unit at most half the
  smaller side (64, 32 or 16): the xavs2 of imageio-ffmpeg 0.8.1 crashes
  (SIGSEGV) on 16 x 16 pictures whatever its settings, and on pictures of a
  single largest coding unit at its slower presets. Smaller frames are
  padded by repeating the last row and column; AVS2 has no cropping window,
  so decoders output the padded pictures and FTM keeps their top-left part
  (SPEC.md 3.6).
* The stream ends with AVS2's video_sequence_end_code, which xavs2 writes
  and ffmpeg drops, and has no user data (:mod:`.avs2_syntax`).
* Presets (``speed_level``) 0..2: higher levels crashed on small pictures.
* The stream goes to a file, not to ffmpeg's standard output, where xavs2
  prints messages ("deprecated parameter: FrameRate = 3") that would end up
  inside the stream.
* One thread (``-threads 1``, ``-lcu_row_threads 1``, ``EnableAecThread=0``):
  with more, xavs2's output changes from run to run (the same random-access
  encode gave 1,668 and 1,716 bytes), so the ``Threads`` key does not apply.
* Random access: 7 B pictures between I/P pictures (xavs2's encoder_ra.cfg)
  and an intra period that is a multiple of 8 and at least 16: xavs2 rounds
  other periods up to a multiple of 8, and hangs with a period of 8.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from typing import Callable, ClassVar, Optional, Tuple

import numpy as np

from ftm.codecs.video import avs2_syntax, external, raw_frames
from ftm.codecs.video.backend_options import PRESET_KEY, check_inter, check_params
from ftm.codecs.video.base import AVS2, EncodedVideo, Encoder, check_frames, check_qp, check_timeout
from ftm.codecs.video.ffmpeg import find_ffmpeg, read_output
from ftm.errors import CodecError, CodecNotFoundError

__all__ = ["Xavs2Encoder", "XAVS2_PRESETS", "XAVS2_MIN_SIDE"]

XAVS2_PRESETS = ("0", "1", "2")
XAVS2_MIN_SIDE = 32
_RA_B_PICTURES = 7  # xavs2's random-access structure: 7 B pictures between I/P (its encoder_ra.cfg)
_FIXED = ("MinQP", "MaxQP", "RefineQP", "MaxSizeInBit", "InitialQP", "QP", "IntraPeriodMax", "IntraPeriodMin",
          "BFrames", "NumberBFrames", "Preset", "PresetLevel", "ThreadFrames", "ThreadRows", "EnableAecThread")  # fmt: skip


@functools.lru_cache(maxsize=None)
def _probe(exe: str) -> Tuple[str, str]:
    """(ffmpeg version, xavs2 version), from a one-picture encode with xavs2's debug log."""
    # fmt: off
    command = [
        exe, "-nostdin", "-loglevel", "info", "-f", "rawvideo", "-pix_fmt", "yuv420p",
        "-s", "64x64", "-r", "25", "-i", "pipe:", "-c:v", "libxavs2", "-log_level", "3", "-f", "null", "-",
    ]
    # fmt: on
    try:
        done = external.run("ffmpeg (libxavs2 probe)", command, stdin=bytes(64 * 64 * 3 // 2))
    except CodecNotFoundError:
        raise
    except CodecError as exc:
        raise CodecNotFoundError(
            f"the ffmpeg at {exe!r} cannot encode with libxavs2; the xavs2 back end needs imageio-ffmpeg >= 0.8.1 "
            "(pip install -U imageio-ffmpeg) or IMAGEIO_FFMPEG_EXE naming an ffmpeg built with --enable-libxavs2",
            exc.command, exc.stderr_tail,
        ) from exc  # fmt: skip
    text = (done.stderr + done.stdout).decode("utf-8", errors="replace")
    ffmpeg = re.search(r"ffmpeg version (\S+)", text)
    xavs2 = re.search(r"xavs2enc version\s*:\s*(\S+)", text)
    if not (ffmpeg and xavs2):
        raise CodecError("could not read ffmpeg's and xavs2's versions from a probe encode", command,
                         external.tail(done.stderr))  # fmt: skip
    return ffmpeg.group(1), xavs2.group(1)


def lcu_bits(height: int, width: int) -> int:
    """log2 of the largest coding unit: the largest of 64, 32, 16 that fits twice in each side."""
    side = min(height, width)
    return 6 if side >= 128 else 5 if side >= 64 else 4


class Xavs2Encoder(Encoder):
    """AVS2 through libxavs2 in ffmpeg: 8-bit samples, 4:2:0 carrier, QP 1..63.

    Options:
        preset: xavs2 speed level, "0".."2" (default "2", the slowest that runs on small pictures).
        intra_period: distance between intra pictures (default 1: all intra).
        inter_coding: ``"randomaccess"`` (7 B pictures between I/P pictures)
            or ``"lowdelay"`` (no B pictures), when intra_period > 1.
        xavs2_params: further xavs2 parameters, {name: value} (``-xavs2-params``).
        ffmpeg: path of the ffmpeg binary (default: imageio-ffmpeg's).
        timeout: seconds before the encoder is stopped (default: none).
    """

    name: ClassVar[str] = "xavs2"
    codec = AVS2
    stream_id = 4
    coded_depths = (8,)
    qp_range_name = "the range of libxavs2 through ffmpeg"
    keys = (PRESET_KEY,)

    @classmethod
    def from_config(cls, cfg) -> "Xavs2Encoder":
        options = {"intra_period": cfg.intra_period, "inter_coding": cfg.inter_coding}
        if cfg.preset:
            options["preset"] = cfg.preset
        return cls(**options)

    def __init__(
        self,
        *,
        preset: str = "2",
        intra_period: int = 1,
        inter_coding: str = "randomaccess",
        xavs2_params=None,
        ffmpeg: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        if str(preset) not in XAVS2_PRESETS:
            raise ValueError(f"xavs2 preset must be one of {', '.join(XAVS2_PRESETS)}; got {preset!r}")
        self.preset = str(preset)
        self.intra_period, self.inter_coding = check_inter(self.name, intra_period, inter_coding, self.inter_codings)
        if self.intra_period > 1 and self.inter_coding == "randomaccess" and (
            self.intra_period < 16 or self.intra_period % (_RA_B_PICTURES + 1)
        ):
            raise ValueError(f"the xavs2 back end codes random access with an intra period that is a multiple of 8 "
                             f"and at least 16 (its GOP is 8 pictures); got {self.intra_period}")  # fmt: skip
        self.xavs2_params = check_params("xavs2", xavs2_params, _FIXED)
        self.timeout = check_timeout(timeout)
        self.exe = find_ffmpeg(ffmpeg)
        _probe(self.exe)

    @classmethod
    def qp_limits(cls, coded_bits: int) -> Tuple[int, int]:
        return 1, 63  # AVS2's 8-bit range is 0..63; ffmpeg's -qp starts at 1

    @classmethod
    def nominal_depth(cls, bits: int) -> int:
        return 8

    def version(self) -> str:
        ffmpeg, xavs2 = _probe(self.exe)
        return f"xavs2 {xavs2} (ffmpeg {ffmpeg})"

    def command(self, height: int, width: int, qp: int, output: str) -> list:
        if self.intra_period == 1:
            gop, b_pictures = 1, 0
        else:
            gop, b_pictures = self.intra_period, _RA_B_PICTURES if self.inter_coding == "randomaccess" else 0
        params = {"MinQP": "0", "MaxQP": "63", "RefineQP": "0", "MaxSizeInBit": str(lcu_bits(height, width)),
                  "EnableAecThread": "0", **self.xavs2_params}  # fmt: skip
        # fmt: off
        command = [
            self.exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p",
            "-s", f"{width}x{height}", "-r", "25", "-i", "pipe:", "-c:v", "libxavs2", "-threads", "1",
            "-lcu_row_threads", "1", "-qp", str(qp),
            "-speed_level", self.preset, "-g", str(gop), "-bf", str(b_pictures), "-log_level", "0",
            "-xavs2-params", ":".join(f"{k}={v}" for k, v in params.items()), "-f", "avs2", "-y", output,
        ]
        # fmt: on
        return command

    def encode(
        self, frames: np.ndarray, bits: int, qp: int, progress: Optional[Callable[[int], None]] = None
    ) -> EncodedVideo:
        frames = check_frames(frames, bits)
        coded_bits = self.coded_bits(bits)
        qp = check_qp(qp, coded_bits, self.qp_limits(coded_bits))
        count = len(frames)
        samples = raw_frames.pad_to(frames, XAVS2_MIN_SIDE)
        height, width = samples.shape[1:]
        with tempfile.TemporaryDirectory(prefix="ftm-xavs2-") as tmp:
            command = self.command(height, width, qp, os.path.join(tmp, "stream.avs2"))
            done = external.run("ffmpeg (libxavs2)", command, timeout=self.timeout,
                                stdin=raw_frames.with_flat_chroma(samples, 8).tobytes())  # fmt: skip
            stream = avs2_syntax.tidy(read_output(command[-1], "libxavs2", command))
        try:
            info = avs2_syntax.sequence_info(stream)
            pictures = avs2_syntax.picture_count(stream)
        except CodecError as exc:
            raise CodecError(f"libxavs2 wrote a stream FTM cannot read: {exc.message}", command) from exc
        if (info.width, info.height, info.chroma_format_idc, info.bit_depth) != (width, height, 1, 8):
            raise CodecError(f"libxavs2 coded {info.width} x {info.height} pictures, chroma_format "
                             f"{info.chroma_format_idc}, at {info.bit_depth} bits; asked for {width} x {height} "
                             "4:2:0 at 8 bits", command)  # fmt: skip
        if pictures != count:
            raise CodecError(f"libxavs2 wrote {pictures} pictures for {count} frames", command)
        if progress is not None:
            progress(count)
        return EncodedVideo(stream, self.name, self.version(), coded_bits, done.seconds, codec=AVS2,
                            chroma_format=420)  # fmt: skip
