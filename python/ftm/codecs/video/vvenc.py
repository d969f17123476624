"""VVC (H.266) through libvvenc in imageio-ffmpeg's ffmpeg, decoded by ffmpeg's own VVC decoder.

FFmpeg's libvvenc wrapper takes yuv420p10le input only, but vvenc codes
whatever chroma format ``ChromaFormatIDC`` asks for: FTM feeds the frames
as the luma plane of 4:2:0 pictures (flat chroma) and has vvenc code
4:0:0 pictures, so the stream is plain monochrome VVC (``chroma_format``
420 keeps the carrier's flat chroma in the stream instead, to measure what
it costs). The wrapper's input depth is 10 bits: 8-bit samples go in
shifted left by two and vvenc, told to code at 8 bits, shifts them back
exactly.

vvenc settings FTM fixes, and why (measured on EfficientNet-Lite0 features):

* ``qpa`` 0, ``MCTF=0``, ``BIM=0``: no perceptual QP adaptation and no
  temporal pre-filter, which blends neighbouring frames (other channels)
  into the source: the frames are coded as given, at the given QP.
* ``IntraQPOffset=0``: intra pictures at the QP (vvenc would code them 3
  lower); inter pictures keep the QP offsets of vvenc's GOP structure.
* ``ALF=0``: vvenc's adaptive loop filter estimation costs about 20 ms a
  picture whatever its size (6.7 s against 0.12 s for 320 pictures of
  16 x 16) for no rate saving at these sizes; ``alf=True`` turns it on.
* ``MaxParallelFrames=0``: with parallel frames and one thread, vvenc
  wrote no picture at all for some inputs, and exited with status 0.
* ``AccessUnitDelimiter=0``, ``ReWriteParamSets=0``: no delimiter before
  each picture, parameter sets once per stream.
* The stream goes to a file, not to ffmpeg's standard output: the wrapper
  prints vvenc's messages there ("Configuration warning: IntraPeriod is 1,
  ..."), which then ended up inside the stream (ffmpeg's VVC decoder skipped
  them, VTM's rejected the stream).
* FFmpeg's wrapper gives a coded picture width x height bytes: a 16 x 16
  picture can need more (all intra at QP 6 or less; random access on
  block10 of the bundled set up to QP 17), and the encode fails (said so).
* Pictures smaller than 16 x 16 (vvenc fails on 8 x 8) are padded by
  repeating the last row and column and cropped by the SPS conformance
  window (``ConformanceWindowMode=3``), so decoders output the frames' size.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from typing import Callable, ClassVar, Dict, Mapping, Optional, Tuple

import numpy as np

from ftm.codecs.video import external, raw_frames, vvc_syntax
from ftm.codecs.video.base import (
    VVC,
    EncodedVideo,
    Encoder,
    check_frames,
    check_qp,
    check_timeout,
)
from ftm.codecs.video.ffmpeg import find_ffmpeg, read_output
from ftm.codecs.video.backend_options import PRESET_KEY, check_inter, check_params, check_threads
from ftm.errors import CodecError, CodecNotFoundError

__all__ = ["VvencEncoder", "VVENC_PRESETS"]

VVENC_PRESETS = ("faster", "fast", "medium", "slow", "slower")
VVENC_MIN_SIDE = 16
# GOP sizes of FTM's inter structures: random access as in JVET's common test conditions
# (hierarchical B, 16 pictures), low delay as vvenc's own low-delay structure (8, no reordering).
_RA_GOP, _LD_GOP = 16, 8
_FIXED = ("ChromaFormatIDC", "InternalBitDepth", "QP", "IntraPeriod", "GOPSize", "PicReordering",
          "DecodingRefreshType", "ConformanceWindowMode", "ConfWinRight", "ConfWinBottom", "Threads")  # fmt: skip


@functools.lru_cache(maxsize=None)
def _probe(exe: str) -> Tuple[str, str]:
    """(ffmpeg version, libvvenc version), from a one-picture encode."""
    # fmt: off
    command = [
        exe, "-nostdin", "-loglevel", "info", "-f", "rawvideo", "-pix_fmt", "yuv420p10le",
        "-s", "16x16", "-r", "25", "-i", "pipe:", "-c:v", "libvvenc", "-f", "null", "-",
    ]
    # fmt: on
    try:
        done = external.run("ffmpeg (libvvenc probe)", command, stdin=bytes(16 * 16 * 3))
    except CodecNotFoundError:
        raise
    except CodecError as exc:
        raise CodecNotFoundError(
            f"the ffmpeg at {exe!r} cannot encode with libvvenc; the vvenc back end needs imageio-ffmpeg >= 0.8.1 "
            "(pip install -U imageio-ffmpeg) or IMAGEIO_FFMPEG_EXE naming an ffmpeg built with --enable-libvvenc",
            exc.command, exc.stderr_tail,
        ) from exc  # fmt: skip
    text = (done.stderr + done.stdout).decode("utf-8", errors="replace")
    ffmpeg = re.search(r"ffmpeg version (\S+)", text)
    vvenc = re.search(r"libvvenc version: (\S+)", text)
    if not (ffmpeg and vvenc):
        raise CodecError("could not read ffmpeg's and libvvenc's versions from a probe encode", command,
                         external.tail(done.stderr))  # fmt: skip
    return ffmpeg.group(1), vvenc.group(1)


class VvencEncoder(Encoder):
    """VVC through libvvenc in ffmpeg: 4:0:0 pictures at 8 or 10 bits, QP 0..63.

    Options:
        preset: vvenc preset, one of VVENC_PRESETS (default ``"medium"``).
        intra_period: distance between intra pictures (default 1: all intra).
        inter_coding: ``"randomaccess"`` (hierarchical B, GOP 16) or
            ``"lowdelay"`` (GOP 8, pictures in input order), when intra_period > 1.
        threads: vvenc worker threads (default 1; the bytes do not depend on it).
        alf: vvenc's adaptive loop filter (default False, see the module notes).
        chroma_format: 400 (default) or 420: code the 4:2:0 carrier itself, flat chroma and all.
        vvenc_params: further vvenc parameters, {name: value} (``-vvenc-params``).
        ffmpeg: path of the ffmpeg binary (default: imageio-ffmpeg's).
        timeout: seconds before the encoder is stopped (default: none).
    """

    name: ClassVar[str] = "vvenc"
    codec = VVC
    stream_id = 3
    coded_depths = (8, 10)
    qp_range_name = "vvenc's range"
    keys = (PRESET_KEY,)

    @classmethod
    def from_config(cls, cfg) -> "VvencEncoder":
        options = {"intra_period": cfg.intra_period, "inter_coding": cfg.inter_coding}
        if cfg.preset:
            options["preset"] = cfg.preset
        if cfg.threads:
            options["threads"] = cfg.threads
        return cls(**options)

    def __init__(
        self,
        *,
        preset: str = "medium",
        intra_period: int = 1,
        inter_coding: str = "randomaccess",
        threads: Optional[int] = 1,
        alf: bool = False,
        chroma_format: int = 400,
        vvenc_params: Optional[Mapping[str, object]] = None,
        ffmpeg: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        if preset not in VVENC_PRESETS:
            raise ValueError(f"vvenc preset must be one of {', '.join(VVENC_PRESETS)}; got {preset!r}")
        if chroma_format not in (400, 420):
            raise ValueError(f"chroma_format must be 400 or 420, got {chroma_format!r}")
        self.preset = preset
        self.intra_period, self.inter_coding = check_inter(self.name, intra_period, inter_coding, self.inter_codings)
        self.threads = check_threads(threads)
        self.alf = bool(alf)
        self.chroma_format = chroma_format
        self.vvenc_params = check_params("vvenc", vvenc_params, _FIXED)
        self.timeout = check_timeout(timeout)
        self.exe = find_ffmpeg(ffmpeg)
        _probe(self.exe)  # fail here, not at the first encode, when this ffmpeg has no libvvenc

    @classmethod
    def qp_limits(cls, coded_bits: int) -> Tuple[int, int]:
        return 0, 63  # vvenc rejects the negative QPs VVC allows above 8 bits

    @classmethod
    def nominal_depth(cls, bits: int) -> int:
        return 8 if bits <= 8 else 10

    def version(self) -> str:
        ffmpeg, vvenc = _probe(self.exe)
        return f"libvvenc {vvenc} (ffmpeg {ffmpeg})"

    def params(self, qp: int, coded_bits: int, pad: Tuple[int, int]) -> Dict[str, str]:
        """The vvenc parameters of one encode (module notes); ``pad``: rows and columns added to reach 16."""
        params = {
            "ChromaFormatIDC": str(self.chroma_format), "InternalBitDepth": str(coded_bits), "QP": str(qp),
            "MCTF": "0", "BIM": "0", "IntraQPOffset": "0", "ALF": "1" if self.alf else "0",
            "CCALF": "0", "MaxParallelFrames": "0", "AccessUnitDelimiter": "0", "ReWriteParamSets": "0",
        }  # fmt: skip
        if self.threads is not None:
            params["Threads"] = str(self.threads)
        if self.intra_period == 1:
            params["IntraPeriod"] = "1"
        elif self.inter_coding == "randomaccess":
            params.update(IntraPeriod=str(self.intra_period), GOPSize=str(_RA_GOP))
        else:  # vvenc's low-delay structure refreshes with IDR pictures only through type "none"
            params.update(IntraPeriod=str(self.intra_period), GOPSize=str(_LD_GOP), PicReordering="0",
                          DecodingRefreshType="none")  # fmt: skip
        if pad != (0, 0):
            params.update(ConformanceWindowMode="3", ConfWinBottom=str(pad[0]), ConfWinRight=str(pad[1]))
        params.update(self.vvenc_params)
        return params

    def command(self, height: int, width: int, params: Mapping[str, str], output: str) -> list:
        # fmt: off
        return [
            self.exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "rawvideo",
            "-pix_fmt", "yuv420p10le", "-s", f"{width}x{height}", "-r", "25", "-i", "pipe:",
            "-c:v", "libvvenc", "-preset", self.preset, "-qpa", "0",
            "-vvenc-params", ":".join(f"{k}={v}" for k, v in params.items()), "-f", "vvc", "-y", output,
        ]
        # fmt: on

    def encode(
        self, frames: np.ndarray, bits: int, qp: int, progress: Optional[Callable[[int], None]] = None
    ) -> EncodedVideo:
        frames = check_frames(frames, bits)
        coded_bits = self.coded_bits(bits)
        qp = check_qp(qp, coded_bits, self.qp_limits(coded_bits))
        count, height, width = frames.shape
        # the wrapper's input is 10-bit; vvenc shifts it back to 8 bits exactly when told to code at 8
        samples = raw_frames.pad_to(frames.astype("<u2") << (10 - coded_bits), VVENC_MIN_SIDE)
        padded = samples.shape[1:]
        params = self.params(qp, coded_bits, (padded[0] - height, padded[1] - width))
        with tempfile.TemporaryDirectory(prefix="ftm-vvenc-") as tmp:
            command = self.command(*padded, params, os.path.join(tmp, "stream.vvc"))
            try:
                done = external.run("ffmpeg (libvvenc)", command, timeout=self.timeout,
                                    stdin=raw_frames.with_flat_chroma(samples, 10).tobytes())  # fmt: skip
            except CodecError as exc:
                if "Error submitting video frame" not in exc.stderr_tail:
                    raise
                # FFmpeg's wrapper (libavcodec/libvvenc.c) allocates width x height bytes for a coded picture
                raise CodecError(
                    f"libvvenc could not code a {padded[1]} x {padded[0]} picture at QP {qp}: FFmpeg's libvvenc "
                    f"wrapper holds a coded picture in {padded[0] * padded[1]} bytes (width x height), which "
                    "small pictures at low QPs exceed (16 x 16: all intra at QP 6 or less, random access up to QP 17); "
                    "use a higher QP",
                    exc.command, exc.stderr_tail,
                ) from exc  # fmt: skip
            stream = read_output(command[-1], "libvvenc", command)
        self._check(stream, count, height, width, coded_bits, command)
        if progress is not None:
            progress(count)
        return EncodedVideo(stream, self.name, self.version(), coded_bits, done.seconds, codec=VVC,
                            chroma_format=self.chroma_format)  # fmt: skip

    def _check(self, stream: bytes, count: int, height: int, width: int, coded_bits: int, command) -> None:
        """vvenc can exit with status 0 having written fewer pictures, or none: count them."""
        if not stream:
            raise CodecError("libvvenc wrote an empty bitstream", command)
        try:
            info = vvc_syntax.sequence_info(stream)
            pictures = vvc_syntax.picture_count(stream)
        except CodecError as exc:
            raise CodecError(f"libvvenc wrote a stream FTM cannot read: {exc.message}", command) from exc
        want_idc = 0 if self.chroma_format == 400 else 1
        if (info.width, info.height, info.chroma_format_idc, info.bit_depth) != (width, height, want_idc, coded_bits):
            raise CodecError(
                f"libvvenc coded {info.width} x {info.height} pictures, chroma_format_idc {info.chroma_format_idc}, "
                f"at {info.bit_depth} bits; asked for {width} x {height}, chroma_format_idc {want_idc}, "
                f"at {coded_bits} bits", command,
            )  # fmt: skip
        if pictures != count:
            raise CodecError(f"libvvenc wrote {pictures} pictures for {count} frames (and exited with status 0)",
                             command)  # fmt: skip
